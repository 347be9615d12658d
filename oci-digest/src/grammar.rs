//! The OCI digest grammar (image-spec, "Digests"):
//!
//! ```text
//! digest                ::= algorithm ":" encoded
//! algorithm             ::= algorithm-component (algorithm-separator algorithm-component)*
//! algorithm-component   ::= [a-z0-9]+
//! algorithm-separator   ::= [+._-]
//! encoded               ::= [a-zA-Z0-9=_-]+
//! ```
//!
//! plus the per-algorithm rules for the encoded part (length, lowercase hex).
//! The checks scan bytes by hand: no regex engine, no allocation, no panic.

use crate::Algorithm;
use crate::error::reason;

/// Checks the algorithm part; the error is a [`reason`] constant.
pub(crate) fn check_algorithm(algorithm: &str) -> Result<(), &'static str> {
    if algorithm.is_empty() {
        return Err(reason::EMPTY_ALGORITHM);
    }
    // Start as if after a separator, so a leading separator counts as a doubled one.
    let mut after_separator = true;
    for byte in algorithm.bytes() {
        match byte {
            b'a'..=b'z' | b'0'..=b'9' => after_separator = false,
            b'+' | b'.' | b'_' | b'-' if after_separator => {
                return Err(reason::ALGORITHM_SEPARATOR);
            }
            b'+' | b'.' | b'_' | b'-' => after_separator = true,
            _ => return Err(reason::ALGORITHM_CHARACTER),
        }
    }
    if after_separator {
        return Err(reason::ALGORITHM_SEPARATOR);
    }
    Ok(())
}

/// Checks the encoded part against the grammar and against what `algorithm` requires.
pub(crate) fn check_encoded(algorithm: &Algorithm, encoded: &str) -> Result<(), &'static str> {
    if encoded.is_empty() {
        return Err(reason::EMPTY_ENCODED);
    }
    let grammar_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'_' | b'-');
    if !encoded.bytes().all(grammar_byte) {
        return Err(reason::ENCODED_CHARACTER);
    }
    if let Some(length) = algorithm.encoded_len() {
        if encoded.len() != length {
            return Err(reason::ENCODED_LENGTH);
        }
        if !encoded
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(reason::ENCODED_NOT_LOWER_HEX);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithms_by_the_grammar() {
        for good in [
            "sha256",
            "a",
            "0",
            "a+b",
            "a.b_c-d",
            "multihash+base58",
            "sha3-512",
        ] {
            assert_eq!(check_algorithm(good), Ok(()), "{good}");
        }
        let cases = [
            ("", reason::EMPTY_ALGORITHM),
            ("-a", reason::ALGORITHM_SEPARATOR),
            ("a-", reason::ALGORITHM_SEPARATOR),
            ("a--b", reason::ALGORITHM_SEPARATOR),
            ("a+.b", reason::ALGORITHM_SEPARATOR),
            ("SHA256", reason::ALGORITHM_CHARACTER),
            ("sha 256", reason::ALGORITHM_CHARACTER),
            ("shä", reason::ALGORITHM_CHARACTER),
        ];
        for (bad, why) in cases {
            assert_eq!(check_algorithm(bad), Err(why), "{bad:?}");
        }
    }

    #[test]
    fn encoded_by_the_grammar_and_the_algorithm() {
        let other = Algorithm::Other("multihash".into());
        assert_eq!(check_encoded(&other, "AbC=_-09"), Ok(()));
        assert_eq!(check_encoded(&other, ""), Err(reason::EMPTY_ENCODED));
        assert_eq!(check_encoded(&other, "a/b"), Err(reason::ENCODED_CHARACTER));
        assert_eq!(check_encoded(&other, "a:b"), Err(reason::ENCODED_CHARACTER));

        let hex64 = "a".repeat(64);
        assert_eq!(check_encoded(&Algorithm::Sha256, &hex64), Ok(()));
        assert_eq!(
            check_encoded(&Algorithm::Sha512, &hex64),
            Err(reason::ENCODED_LENGTH)
        );
        assert_eq!(
            check_encoded(&Algorithm::Sha256, &"A".repeat(64)),
            Err(reason::ENCODED_NOT_LOWER_HEX)
        );
        assert_eq!(
            check_encoded(&Algorithm::Sha256, &"g".repeat(64)),
            Err(reason::ENCODED_NOT_LOWER_HEX)
        );
        assert_eq!(check_encoded(&Algorithm::Sha512, &"0".repeat(128)), Ok(()));
    }
}
