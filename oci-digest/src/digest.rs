//! [`Digest`]: a validated `algorithm:encoded` content identifier.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use crate::error::{DigestError, reason};
use crate::{Algorithm, Digester, MAX_DIGEST_LEN, grammar};

/// A content digest such as `sha256:e3b0c442…`, checked against the OCI grammar when made.
///
/// The whole text is stored once, so [`Digest::as_str`], [`Display`](fmt::Display) and
/// serialisation cost nothing. Equality, ordering and hashing follow that text, which is also
/// why a `Digest` can be looked up in a map by `&str` (it implements `Borrow<str>`).
#[derive(Clone)]
pub struct Digest {
    text: String,
    algorithm: Algorithm,
    /// Byte index of the `:` in `text`.
    colon: usize,
}

impl Digest {
    /// Parses and validates `text`.
    ///
    /// Any algorithm that fits the grammar is accepted; `sha256` and `sha512` must also have
    /// encoded parts of 64 and 128 lowercase hex digits. Text longer than
    /// [`MAX_DIGEST_LEN`] is refused before it is looked at.
    pub fn parse(text: &str) -> Result<Digest, DigestError> {
        let (algorithm, colon) = Self::validate(text)?;
        Ok(Digest {
            text: text.to_owned(),
            algorithm,
            colon,
        })
    }

    /// The algorithm part.
    pub fn algorithm(&self) -> &Algorithm {
        &self.algorithm
    }

    /// The encoded part (after the `:`), e.g. the hex digits of a sha256 digest.
    pub fn encoded(&self) -> &str {
        &self.text[self.colon + 1..]
    }

    /// The whole digest, `algorithm:encoded`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The SHA-256 digest of `data`.
    pub fn compute(data: &[u8]) -> Digest {
        let mut digester = Digester::sha256();
        digester.update(data);
        digester.finish()
    }

    /// The digest of `data` with `algorithm`; fails when the algorithm is not computable.
    pub fn compute_with(algorithm: &Algorithm, data: &[u8]) -> Result<Digest, DigestError> {
        let mut digester = Digester::new(algorithm)?;
        digester.update(data);
        Ok(digester.finish())
    }

    /// Checks that `data` has this digest, hashing it with this digest's algorithm.
    pub fn verify(&self, data: &[u8]) -> Result<(), DigestError> {
        let found = Digest::compute_with(&self.algorithm, data)?;
        if &found == self {
            Ok(())
        } else {
            Err(DigestError::Mismatch {
                expected: self.clone(),
                found,
            })
        }
    }

    /// Builds a digest from parts known to be valid: a computed hash in lowercase hex.
    pub(crate) fn from_computed(algorithm: Algorithm, encoded_hex: &str) -> Digest {
        let name = algorithm.as_str();
        let mut text = String::with_capacity(name.len() + 1 + encoded_hex.len());
        text.push_str(name);
        text.push(':');
        text.push_str(encoded_hex);
        Digest {
            colon: name.len(),
            text,
            algorithm,
        }
    }

    /// Checks `text`, returning its algorithm and the index of its `:`.
    fn validate(text: &str) -> Result<(Algorithm, usize), DigestError> {
        let refuse = |why| DigestError::invalid(text, why);
        if text.is_empty() {
            return Err(refuse(reason::EMPTY));
        }
        if text.len() > MAX_DIGEST_LEN {
            return Err(refuse(reason::TOO_LONG));
        }
        let colon = text
            .find(':')
            .ok_or_else(|| refuse(reason::MISSING_SEPARATOR))?;
        let (name, encoded) = (&text[..colon], &text[colon + 1..]);
        grammar::check_algorithm(name).map_err(refuse)?;
        let algorithm = Algorithm::from_valid_name(name);
        grammar::check_encoded(&algorithm, encoded).map_err(refuse)?;
        Ok((algorithm, colon))
    }
}

impl FromStr for Digest {
    type Err = DigestError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Digest::parse(text)
    }
}

impl TryFrom<&str> for Digest {
    type Error = DigestError;

    fn try_from(text: &str) -> Result<Self, Self::Error> {
        Digest::parse(text)
    }
}

/// Keeps the `String`'s allocation.
impl TryFrom<String> for Digest {
    type Error = DigestError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        let (algorithm, colon) = Digest::validate(&text)?;
        Ok(Digest {
            text,
            algorithm,
            colon,
        })
    }
}

impl From<Digest> for String {
    fn from(digest: Digest) -> Self {
        digest.text
    }
}

impl AsRef<str> for Digest {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl Borrow<str> for Digest {
    fn borrow(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Digest").field(&self.text).finish()
    }
}

impl PartialEq for Digest {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for Digest {}

impl PartialEq<str> for Digest {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl PartialEq<&str> for Digest {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

impl PartialOrd for Digest {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Digest {
    fn cmp(&self, other: &Self) -> Ordering {
        self.text.cmp(&other.text)
    }
}

impl Hash for Digest {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Must agree with `str`'s hash, because of `Borrow<str>`.
        self.text.as_str().hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::EMPTY_SHA256;

    const ABC_SHA256: &str =
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    fn reason_of(text: &str) -> &'static str {
        match Digest::parse(text) {
            Err(DigestError::Invalid { reason, .. }) => reason,
            other => panic!("{text:?} gave {other:?}"),
        }
    }

    #[test]
    fn parses_parts() {
        let digest = Digest::parse(ABC_SHA256).unwrap();
        assert_eq!(digest.algorithm(), &Algorithm::Sha256);
        assert_eq!(digest.encoded(), &ABC_SHA256[7..]);
        assert_eq!(digest.as_str(), ABC_SHA256);
        assert_eq!(digest.to_string(), ABC_SHA256);

        let other =
            Digest::parse("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8")
                .unwrap();
        assert_eq!(
            other.algorithm(),
            &Algorithm::Other("multihash+base58".into())
        );
    }

    #[test]
    fn every_invalid_reason() {
        assert_eq!(reason_of(""), reason::EMPTY);
        assert_eq!(reason_of(&"a".repeat(MAX_DIGEST_LEN + 1)), reason::TOO_LONG);
        assert_eq!(reason_of("sha256"), reason::MISSING_SEPARATOR);
        assert_eq!(reason_of(":abc"), reason::EMPTY_ALGORITHM);
        assert_eq!(reason_of("SHA256:abc"), reason::ALGORITHM_CHARACTER);
        assert_eq!(reason_of("sha+:abc"), reason::ALGORITHM_SEPARATOR);
        assert_eq!(reason_of("sha256:"), reason::EMPTY_ENCODED);
        assert_eq!(reason_of("foo:a b"), reason::ENCODED_CHARACTER);
        assert_eq!(reason_of("foo:a:b"), reason::ENCODED_CHARACTER);
        assert_eq!(reason_of("sha256:abc"), reason::ENCODED_LENGTH);
        assert_eq!(
            reason_of(&ABC_SHA256.to_uppercase().replace("SHA", "sha")),
            reason::ENCODED_NOT_LOWER_HEX
        );
    }

    #[test]
    fn invalid_echoes_the_input() {
        let Err(DigestError::Invalid { input, .. }) = Digest::parse("sha256:nope") else {
            panic!("expected Invalid");
        };
        assert_eq!(input, "sha256:nope");
    }

    #[test]
    fn compute_known_vectors() {
        assert_eq!(Digest::compute(b"abc"), ABC_SHA256);
        assert_eq!(Digest::compute(b""), EMPTY_SHA256);
        let sha512 = Digest::compute_with(&Algorithm::Sha512, b"abc").unwrap();
        assert_eq!(
            sha512.encoded(),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
        assert_eq!(Digest::parse(sha512.as_str()), Ok(sha512));
    }

    #[test]
    fn compute_with_other_is_unsupported() {
        let blake3 = Algorithm::Other("blake3".into());
        assert_eq!(
            Digest::compute_with(&blake3, b"abc"),
            Err(DigestError::UnsupportedAlgorithm("blake3".into()))
        );
    }

    #[test]
    fn verify_reports_mismatch() {
        let expected = Digest::parse(ABC_SHA256).unwrap();
        assert_eq!(expected.verify(b"abc"), Ok(()));
        assert_eq!(
            expected.verify(b"abd"),
            Err(DigestError::Mismatch {
                expected: expected.clone(),
                found: Digest::compute(b"abd"),
            })
        );
    }

    #[test]
    fn conversions_and_lookup_by_str() {
        let digest = Digest::try_from(ABC_SHA256.to_owned()).unwrap();
        assert_eq!(Digest::try_from(ABC_SHA256), Ok(digest.clone()));
        let mut set = std::collections::HashSet::new();
        set.insert(digest.clone());
        assert!(set.contains(ABC_SHA256));
        assert_eq!(String::from(digest), ABC_SHA256);
        assert!(Digest::try_from(String::from("nope")).is_err());
    }

    #[test]
    fn ordering_follows_text() {
        let a = Digest::compute(b"a");
        let b = Digest::compute(b"b");
        assert_eq!(a.cmp(&b), a.as_str().cmp(b.as_str()));
        assert_eq!(format!("{a:?}"), format!("Digest({:?})", a.as_str()));
    }
}
