//! [`Algorithm`]: the part of a digest before the `:`.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use crate::error::{DigestError, reason};
use crate::{MAX_DIGEST_LEN, grammar};

/// A digest algorithm.
///
/// `sha256` and `sha512` can be computed; any other name that fits the OCI grammar is kept as
/// [`Algorithm::Other`] so that such digests can be parsed, stored and compared, though not
/// computed. Parsing never puts `sha256` or `sha512` into `Other`; should one be built by hand,
/// equality, ordering and hashing still go by the name, so it equals the named variant.
#[derive(Debug, Clone)]
pub enum Algorithm {
    /// SHA-256, encoded as 64 lowercase hex digits. The default of the OCI specs.
    Sha256,
    /// SHA-512, encoded as 128 lowercase hex digits.
    Sha512,
    /// Any other algorithm valid by the grammar; parseable but not computable.
    Other(String),
}

impl Algorithm {
    /// The name as it appears in a digest, e.g. `"sha256"`.
    pub fn as_str(&self) -> &str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
            Algorithm::Other(name) => name,
        }
    }

    /// Whether this crate can hash with this algorithm.
    pub fn is_computable(&self) -> bool {
        !matches!(self, Algorithm::Other(_))
    }

    /// The exact length of the encoded part this algorithm requires, when it has one.
    pub fn encoded_len(&self) -> Option<usize> {
        match self {
            Algorithm::Sha256 => Some(64),
            Algorithm::Sha512 => Some(128),
            Algorithm::Other(_) => None,
        }
    }

    /// Parses a name already known to fit the grammar.
    pub(crate) fn from_valid_name(name: &str) -> Algorithm {
        match name {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            other => Algorithm::Other(other.to_owned()),
        }
    }
}

impl FromStr for Algorithm {
    type Err = DigestError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        if name.len() > MAX_DIGEST_LEN {
            return Err(DigestError::invalid(name, reason::TOO_LONG));
        }
        grammar::check_algorithm(name).map_err(|why| DigestError::invalid(name, why))?;
        Ok(Algorithm::from_valid_name(name))
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for Algorithm {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Algorithm {}

impl PartialOrd for Algorithm {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Algorithm {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Algorithm {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_become_variants() {
        assert_eq!("sha256".parse::<Algorithm>(), Ok(Algorithm::Sha256));
        assert_eq!("sha512".parse::<Algorithm>(), Ok(Algorithm::Sha512));
        assert_eq!(
            "blake3".parse::<Algorithm>(),
            Ok(Algorithm::Other("blake3".into()))
        );
        assert!(Algorithm::Sha512.is_computable());
        assert!(!Algorithm::Other("blake3".into()).is_computable());
        assert_eq!(Algorithm::Other("x".into()).encoded_len(), None);
    }

    #[test]
    fn bad_names_are_refused() {
        assert!(matches!(
            "Sha256".parse::<Algorithm>(),
            Err(DigestError::Invalid {
                reason: reason::ALGORITHM_CHARACTER,
                ..
            })
        ));
        assert!(matches!(
            "a".repeat(MAX_DIGEST_LEN + 1).parse::<Algorithm>(),
            Err(DigestError::Invalid {
                reason: reason::TOO_LONG,
                ..
            })
        ));
    }

    #[test]
    fn identity_goes_by_name() {
        assert_eq!(Algorithm::Other("sha256".into()), Algorithm::Sha256);
        assert!(Algorithm::Sha256 < Algorithm::Sha512);
        assert!(Algorithm::Other("blake3".into()) < Algorithm::Sha256);
        assert_eq!(Algorithm::Sha512.to_string(), "sha512");
    }
}
