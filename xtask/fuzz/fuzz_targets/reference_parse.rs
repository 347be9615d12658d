//! `Reference::parse` on any text: no panic, and an accepted reference prints in a normalised
//! form that parses back to the same reference (and prints the same again).
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_spec_types::{Reference, validate_repository, validate_tag};

fuzz_target!(|text: &str| {
    let Ok(reference) = Reference::parse(text) else {
        return;
    };
    let printed = reference.to_string();
    let reparsed = Reference::parse(&printed)
        .unwrap_or_else(|error| panic!("{text:?} printed as {printed:?}, which fails: {error}"));
    assert_eq!(reparsed, reference, "{text:?} printed as {printed:?}");
    assert_eq!(reparsed.to_string(), printed);

    assert!(validate_repository(reference.repository()).is_ok());
    if let Some(tag) = reference.tag() {
        assert!(validate_tag(tag).is_ok());
    }
    assert!(reference.tag().is_some() || reference.digest().is_some());
    assert!(!reference.registry().is_empty());
    assert!(!reference.api_host().is_empty());
    let pinned = reference.manifest_reference();
    match reference.digest() {
        Some(digest) => assert_eq!(pinned, digest.as_str()),
        None => assert_eq!(Some(pinned), reference.tag()),
    }

    let json = serde_json::to_string(&reference).expect("a reference serialises");
    let back: Reference = serde_json::from_str(&json).expect("a serialised reference deserialises");
    assert_eq!(back, reference);
});
