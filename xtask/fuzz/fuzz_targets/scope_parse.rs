//! Token scope parsing (`Scope::parse`, `Scopes::parse`) on any text: no panic; accepted
//! scopes print back to text that parses to the same value, and merging is idempotent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_auth::{Scope, Scopes};

fuzz_target!(|text: &str| {
    if let Ok(scope) = Scope::parse(text) {
        let printed = scope.to_string();
        assert_eq!(
            Scope::parse(&printed).as_ref(),
            Ok(&scope),
            "{text:?} printed as {printed:?}"
        );
        for action in scope.actions() {
            assert!(scope.allows(action));
        }
        let single = Scopes::from(scope.clone());
        assert_eq!(single.len(), 1);
        assert_eq!(single.iter().next().as_ref(), Some(&scope));
    }

    if let Ok(scopes) = Scopes::parse(text) {
        let printed = scopes.to_string();
        assert_eq!(
            Scopes::parse(&printed).as_ref(),
            Ok(&scopes),
            "{text:?} printed as {printed:?}"
        );
        assert!(scopes.covers(&scopes));
        let mut merged = scopes.clone();
        merged.merge(&scopes);
        assert_eq!(merged, scopes);
        let rebuilt: Scopes = scopes.iter().collect();
        assert_eq!(rebuilt, scopes);
        assert!(scopes.covers(&Scopes::new()));
    }
});
