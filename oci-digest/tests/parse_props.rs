//! Property tests for the parser and the printed form.

use oci_digest::{Algorithm, Digest, DigestError, Digester, MAX_DIGEST_LEN, reason};
use proptest::prelude::*;

const REASONS: [&str; 10] = [
    reason::EMPTY,
    reason::TOO_LONG,
    reason::MISSING_SEPARATOR,
    reason::EMPTY_ALGORITHM,
    reason::ALGORITHM_CHARACTER,
    reason::ALGORITHM_SEPARATOR,
    reason::EMPTY_ENCODED,
    reason::ENCODED_CHARACTER,
    reason::ENCODED_LENGTH,
    reason::ENCODED_NOT_LOWER_HEX,
];

/// Valid digest texts of every kind: sha256, sha512 and other algorithms.
fn valid_digest_text() -> impl Strategy<Value = String> {
    let other = (
        "[a-z0-9]{1,8}([+._-][a-z0-9]{1,8}){0,3}",
        "[a-zA-Z0-9=_-]{1,100}",
    )
        .prop_filter("named algorithms need hex", |(name, _)| {
            name != "sha256" && name != "sha512"
        })
        .prop_map(|(name, encoded)| format!("{name}:{encoded}"));
    prop_oneof![
        "[0-9a-f]{64}".prop_map(|hex| format!("sha256:{hex}")),
        "[0-9a-f]{128}".prop_map(|hex| format!("sha512:{hex}")),
        other,
    ]
}

/// Checks what any parse result must satisfy, whatever the input.
fn check_outcome(input: &str) {
    match Digest::parse(input) {
        Ok(digest) => {
            assert_eq!(digest.as_str(), input);
            assert_eq!(
                format!("{}:{}", digest.algorithm(), digest.encoded()),
                input
            );
            assert!(input.len() <= MAX_DIGEST_LEN);
            if let Some(len) = digest.algorithm().encoded_len() {
                assert_eq!(digest.encoded().len(), len);
            }
        }
        Err(DigestError::Invalid {
            input: echoed,
            reason,
        }) => {
            assert!(input.starts_with(&echoed));
            assert!(REASONS.contains(&reason), "unknown reason {reason}");
        }
        Err(other) => panic!("parse gave a non-grammar error: {other:?}"),
    }
}

/// A restore either fails with `InvalidState` or gives a digester that still works.
fn check_restore(algorithm: &Algorithm, blob: &[u8]) -> Result<(), TestCaseError> {
    match Digester::restore_state(algorithm, blob) {
        Ok(mut digester) => {
            let before = digester.bytes_hashed();
            digester.update(b"more");
            prop_assert_eq!(digester.bytes_hashed(), before + 4);
            let digest = digester.finish();
            prop_assert_eq!(digest.algorithm(), algorithm);
        }
        Err(error) => prop_assert_eq!(error, DigestError::InvalidState),
    }
    Ok(())
}

proptest! {
    #[test]
    fn display_then_parse_is_identity(text in valid_digest_text()) {
        let digest = Digest::parse(&text).unwrap();
        let printed = digest.to_string();
        prop_assert_eq!(&printed, &text);
        prop_assert_eq!(Digest::parse(&printed).unwrap(), digest.clone());
        prop_assert_eq!(printed.parse::<Digest>().unwrap(), digest.clone());
        let json = serde_json::to_string(&digest).unwrap();
        prop_assert_eq!(serde_json::from_str::<Digest>(&json).unwrap(), digest.clone());
        prop_assert_eq!(digest.algorithm().as_str().parse::<Algorithm>().unwrap(), digest.algorithm().clone());
    }

    #[test]
    fn arbitrary_text_parses_or_gives_a_typed_error(text in ".{0,300}") {
        check_outcome(&text);
    }

    #[test]
    fn near_miss_text_parses_or_gives_a_typed_error(text in "[a-fA-Z0-9+._:=-]{0,140}") {
        check_outcome(&text);
    }

    #[test]
    fn computed_digests_parse(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        for algorithm in [Algorithm::Sha256, Algorithm::Sha512] {
            let digest = Digest::compute_with(&algorithm, &data).unwrap();
            prop_assert_eq!(Digest::parse(digest.as_str()).unwrap(), digest.clone());
            prop_assert!(digest.verify(&data).is_ok());
        }
    }

    #[test]
    fn arbitrary_saved_state_never_panics(blob in proptest::collection::vec(any::<u8>(), 0..300)) {
        for algorithm in [Algorithm::Sha256, Algorithm::Sha512] {
            check_restore(&algorithm, &blob)?;
        }
    }

    #[test]
    fn damaged_saved_state_never_panics(
        data in proptest::collection::vec(any::<u8>(), 0..300),
        damage in proptest::collection::vec((any::<proptest::sample::Index>(), 1..=255u8), 1..4),
    ) {
        for algorithm in [Algorithm::Sha256, Algorithm::Sha512] {
            let mut digester = Digester::new(&algorithm).unwrap();
            digester.update(&data);
            let mut blob = digester.save_state();
            for (at, flip) in &damage {
                let at = at.index(blob.len());
                blob[at] ^= flip;
            }
            check_restore(&algorithm, &blob)?;
        }
    }

    #[test]
    fn resumed_hash_equals_whole_hash(
        data in proptest::collection::vec(any::<u8>(), 0..1000),
        split in any::<proptest::sample::Index>(),
    ) {
        let split = split.index(data.len() + 1);
        for algorithm in [Algorithm::Sha256, Algorithm::Sha512] {
            let mut first = Digester::new(&algorithm).unwrap();
            first.update(&data[..split]);
            let mut resumed = Digester::restore_state(&algorithm, &first.save_state()).unwrap();
            resumed.update(&data[split..]);
            prop_assert_eq!(resumed.finish(), Digest::compute_with(&algorithm, &data).unwrap());
        }
    }
}
