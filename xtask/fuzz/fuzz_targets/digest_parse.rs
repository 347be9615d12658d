//! `Digest::parse` on any text: no panic, and an accepted digest prints back to its input,
//! re-parses to itself, survives JSON, and meets its algorithm's length rule.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_digest::{Algorithm, Digest, MAX_DIGEST_LEN};

fuzz_target!(|text: &str| {
    let Ok(digest) = Digest::parse(text) else {
        return;
    };
    assert_eq!(digest.as_str(), text);
    assert_eq!(digest.to_string(), text);
    assert!(text.len() <= MAX_DIGEST_LEN);
    assert_eq!(format!("{}:{}", digest.algorithm(), digest.encoded()), text);
    assert_eq!(Digest::parse(digest.as_str()).as_ref(), Ok(&digest));
    assert_eq!(
        digest.algorithm().as_str().parse::<Algorithm>().as_ref(),
        Ok(digest.algorithm())
    );
    if let Some(len) = digest.algorithm().encoded_len() {
        assert_eq!(digest.encoded().len(), len);
        assert!(
            digest
                .encoded()
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        );
    }
    let json = serde_json::to_string(&digest).expect("a digest serialises");
    let back: Digest = serde_json::from_str(&json).expect("a serialised digest deserialises");
    assert_eq!(back, digest);
});
