//! `Platform` parsing of `os/arch[/variant]`: no panic; an accepted platform prints in a
//! normalised form that parses back to itself, matches itself, and survives JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_spec_types::Platform;

fuzz_target!(|text: &str| {
    let Ok(platform) = text.parse::<Platform>() else {
        return;
    };
    let printed = platform.to_string();
    let reparsed: Platform = printed
        .parse()
        .unwrap_or_else(|error| panic!("{text:?} printed as {printed:?}, which fails: {error}"));
    assert_eq!(reparsed, platform, "{text:?} printed as {printed:?}");
    assert_eq!(reparsed.to_string(), printed);
    assert!(platform.matches(&platform));
    assert!(platform.matches(&reparsed) && reparsed.matches(&platform));

    let json = serde_json::to_string(&platform).expect("a platform serialises");
    let back: Platform = serde_json::from_str(&json).expect("a serialised platform deserialises");
    assert_eq!(back, platform);
});
