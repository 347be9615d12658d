//! The errors of this crate.

use std::io;

use crate::Digest;

/// Why a digest string or hashing state was refused, or why content did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestError {
    /// The text breaks the OCI digest grammar. `reason` is one of the constants in [`reason`].
    #[error("invalid digest {input:?}: {reason}")]
    Invalid {
        /// The refused text, cut to its first [`MAX_ECHOED_INPUT`] bytes so hostile input
        /// cannot blow up an error message.
        input: String,
        /// What is wrong with it (one of the constants in [`reason`]).
        reason: &'static str,
    },
    /// The algorithm is valid by the grammar but this crate cannot compute it.
    #[error("digest algorithm {0:?} is not supported for hashing")]
    UnsupportedAlgorithm(String),
    /// The content hashed to another digest than the one expected.
    #[error("digest mismatch: expected {expected}, found {found}")]
    Mismatch {
        /// The digest the content was supposed to have.
        expected: Digest,
        /// The digest the content really has.
        found: Digest,
    },
    /// The content ended with another length than the one expected.
    #[error("size mismatch: expected {expected} bytes, found {found}")]
    SizeMismatch {
        /// The announced length in bytes.
        expected: u64,
        /// The length really read.
        found: u64,
    },
    /// The content went on past its announced length (reported as soon as it happens).
    #[error("content exceeds its expected size of {expected} bytes")]
    SizeExceeded {
        /// The announced length in bytes.
        expected: u64,
    },
    /// A saved hashing state is corrupt, truncated or was saved for another algorithm.
    #[error("saved hashing state is invalid")]
    InvalidState,
}

/// How many bytes of refused input [`DigestError::Invalid`] keeps.
pub const MAX_ECHOED_INPUT: usize = 128;

impl DigestError {
    /// Builds [`DigestError::Invalid`], keeping at most [`MAX_ECHOED_INPUT`] bytes of `input`.
    pub(crate) fn invalid(input: &str, reason: &'static str) -> Self {
        let mut end = input.len().min(MAX_ECHOED_INPUT);
        while !input.is_char_boundary(end) {
            end -= 1;
        }
        DigestError::Invalid {
            input: input[..end].to_owned(),
            reason,
        }
    }

    /// Finds the `DigestError` inside an [`io::Error`] produced by one of the verifying readers.
    pub fn from_io(error: &io::Error) -> Option<&DigestError> {
        error.get_ref()?.downcast_ref::<DigestError>()
    }
}

/// A `DigestError` becomes an [`io::Error`] of kind [`io::ErrorKind::InvalidData`], which is how
/// the verifying readers report it; [`DigestError::from_io`] gets it back.
impl From<DigestError> for io::Error {
    fn from(error: DigestError) -> Self {
        io::Error::new(io::ErrorKind::InvalidData, error)
    }
}

/// The `reason` texts of [`DigestError::Invalid`], so callers can tell cases apart.
pub mod reason {
    /// The text is empty.
    pub const EMPTY: &str = "digest is empty";
    /// The text is longer than [`MAX_DIGEST_LEN`](crate::MAX_DIGEST_LEN).
    pub const TOO_LONG: &str = "digest is too long";
    /// There is no `:` between algorithm and encoded part.
    pub const MISSING_SEPARATOR: &str = "missing ':' between algorithm and encoded part";
    /// The algorithm part is empty.
    pub const EMPTY_ALGORITHM: &str = "algorithm is empty";
    /// The algorithm holds a character outside `[a-z0-9+._-]`.
    pub const ALGORITHM_CHARACTER: &str =
        "algorithm may only hold a-z, 0-9 and the separators + . _ -";
    /// An algorithm separator is leading, trailing or doubled.
    pub const ALGORITHM_SEPARATOR: &str = "algorithm separators must stand between two components";
    /// The encoded part is empty.
    pub const EMPTY_ENCODED: &str = "encoded part is empty";
    /// The encoded part holds a character outside `[a-zA-Z0-9=_-]`.
    pub const ENCODED_CHARACTER: &str = "encoded part may only hold a-z, A-Z, 0-9, =, _ and -";
    /// The encoded part has the wrong length for its algorithm.
    pub const ENCODED_LENGTH: &str = "encoded part has the wrong length for its algorithm";
    /// The encoded part is not lowercase hex, as its algorithm requires.
    pub const ENCODED_NOT_LOWER_HEX: &str = "encoded part must be lowercase hex for its algorithm";
}

/// The error items of a [`VerifyingStream`](crate::VerifyingStream).
#[cfg(feature = "async")]
#[derive(Debug, thiserror::Error)]
pub enum VerifyStreamError<E> {
    /// The wrapped stream failed; its error is passed through untouched.
    #[error("the verified stream failed")]
    Inner(#[source] E),
    /// The content failed verification (size exceeded, size or digest mismatch).
    #[error(transparent)]
    Verify(DigestError),
}

#[cfg(feature = "async")]
impl<E> From<DigestError> for VerifyStreamError<E> {
    fn from(error: DigestError) -> Self {
        VerifyStreamError::Verify(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_cuts_long_input_on_a_char_boundary() {
        let input = "é".repeat(200);
        let DigestError::Invalid { input: kept, .. } = DigestError::invalid(&input, reason::EMPTY)
        else {
            panic!("wrong variant");
        };
        assert!(kept.len() <= MAX_ECHOED_INPUT);
        assert!(kept.chars().all(|c| c == 'é'));
        assert_eq!(kept.len(), MAX_ECHOED_INPUT);
    }

    #[test]
    fn io_round_trip_keeps_the_error() {
        let error = DigestError::SizeExceeded { expected: 3 };
        let io_error = io::Error::from(error.clone());
        assert_eq!(io_error.kind(), io::ErrorKind::InvalidData);
        assert_eq!(DigestError::from_io(&io_error), Some(&error));
        assert_eq!(DigestError::from_io(&io::Error::other("x")), None);
    }

    #[test]
    fn messages_carry_the_data() {
        let text = DigestError::SizeMismatch {
            expected: 5,
            found: 7,
        }
        .to_string();
        assert!(text.contains('5') && text.contains('7'), "{text}");
        let text = DigestError::UnsupportedAlgorithm("blake3".into()).to_string();
        assert!(text.contains("blake3"), "{text}");
    }
}
