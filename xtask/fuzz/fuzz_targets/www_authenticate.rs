//! `WWW-Authenticate` parsing (`Challenge::parse_bytes`) on any header value: no panic; the
//! challenges print back to a value that parses to the same challenges, one by one and all
//! together, and a Bearer challenge's scopes either parse or give a typed error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_auth::Challenge;

fuzz_target!(|value: &[u8]| {
    let Ok(challenges) = Challenge::parse_bytes(value) else {
        return;
    };
    if challenges.is_empty() {
        return;
    }
    let printed = Challenge::render_all(&challenges);
    let reparsed = Challenge::parse(&printed)
        .unwrap_or_else(|error| panic!("{value:?} printed as {printed:?}, which fails: {error}"));
    assert_eq!(reparsed, challenges, "{value:?} printed as {printed:?}");

    for challenge in &challenges {
        let alone = challenge.to_string();
        assert_eq!(
            Challenge::parse(&alone).ok().as_deref(),
            Some(std::slice::from_ref(challenge)),
            "{alone:?}"
        );
        if let Challenge::Bearer(bearer) = challenge {
            let _ = bearer.scopes();
        }
    }
    let selected = Challenge::select(&challenges);
    if challenges.iter().any(|c| matches!(c, Challenge::Bearer(_))) {
        assert!(matches!(selected, Some(Challenge::Bearer(_))));
    }
});
