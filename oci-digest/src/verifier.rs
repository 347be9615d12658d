//! The bookkeeping shared by every verifying adapter: hash what passes, stop at the first
//! byte past the expected size, compare digest and size at the end, and remember the outcome.

use crate::{Digest, DigestError, Digester};

/// Checks content against an expected digest and, optionally, an expected size.
#[derive(Debug)]
pub(crate) struct Verifier {
    expected: Digest,
    expected_size: Option<u64>,
    bytes_seen: u64,
    progress: Progress,
}

#[derive(Debug)]
enum Progress {
    Hashing(Digester),
    /// Verification is over; further reads repeat this outcome.
    Done(Result<(), DigestError>),
}

impl Verifier {
    /// Fails when the expected digest's algorithm cannot be computed.
    pub(crate) fn new(expected: Digest, expected_size: Option<u64>) -> Result<Self, DigestError> {
        let digester = Digester::new(expected.algorithm())?;
        Ok(Verifier {
            expected,
            expected_size,
            bytes_seen: 0,
            progress: Progress::Hashing(digester),
        })
    }

    /// The outcome, once verification is over.
    pub(crate) fn outcome(&self) -> Option<Result<(), DigestError>> {
        match &self.progress {
            Progress::Hashing(_) => None,
            Progress::Done(outcome) => Some(outcome.clone()),
        }
    }

    /// Bytes accepted so far (bytes refused for running past the expected size not included).
    pub(crate) fn bytes_seen(&self) -> u64 {
        self.bytes_seen
    }

    /// Hashes `data`, or fails at once when it runs past the expected size.
    /// After the end, it only repeats the outcome.
    pub(crate) fn update(&mut self, data: &[u8]) -> Result<(), DigestError> {
        let digester = match &mut self.progress {
            Progress::Hashing(digester) => digester,
            Progress::Done(outcome) => return outcome.clone(),
        };
        if let Some(expected) = self.expected_size {
            let total = self.bytes_seen.saturating_add(data.len() as u64);
            if total > expected {
                return self.end(Err(DigestError::SizeExceeded { expected }));
            }
        }
        digester.update(data);
        self.bytes_seen += data.len() as u64;
        Ok(())
    }

    /// Marks the end of the content and compares size and digest.
    pub(crate) fn finish(&mut self) -> Result<(), DigestError> {
        let placeholder = Progress::Done(Ok(()));
        let digester = match std::mem::replace(&mut self.progress, placeholder) {
            Progress::Hashing(digester) => digester,
            Progress::Done(outcome) => return self.end(outcome),
        };
        let found_size = self.bytes_seen;
        if let Some(expected) = self.expected_size
            && found_size != expected
        {
            return self.end(Err(DigestError::SizeMismatch {
                expected,
                found: found_size,
            }));
        }
        let found = digester.finish();
        if found != self.expected {
            return self.end(Err(DigestError::Mismatch {
                expected: self.expected.clone(),
                found,
            }));
        }
        self.end(Ok(()))
    }

    fn end(&mut self, outcome: Result<(), DigestError>) -> Result<(), DigestError> {
        self.progress = Progress::Done(outcome.clone());
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_outcome_is_remembered() {
        let expected = Digest::compute(b"abc");

        let mut ok = Verifier::new(expected.clone(), Some(3)).unwrap();
        ok.update(b"ab").unwrap();
        ok.update(b"c").unwrap();
        assert_eq!(ok.bytes_seen(), 3);
        assert_eq!(ok.outcome(), None);
        assert_eq!(ok.finish(), Ok(()));
        assert_eq!(ok.outcome(), Some(Ok(())));
        assert_eq!(ok.finish(), Ok(()));

        let mut long = Verifier::new(expected.clone(), Some(3)).unwrap();
        long.update(b"ab").unwrap();
        let exceeded = Err(DigestError::SizeExceeded { expected: 3 });
        assert_eq!(long.update(b"cd"), exceeded);
        assert_eq!(long.bytes_seen(), 2);
        assert_eq!(long.update(b""), exceeded);
        assert_eq!(long.finish(), exceeded);

        let mut short = Verifier::new(expected.clone(), Some(3)).unwrap();
        short.update(b"ab").unwrap();
        let mismatch = Err(DigestError::SizeMismatch {
            expected: 3,
            found: 2,
        });
        assert_eq!(short.finish(), mismatch);
        assert_eq!(short.outcome(), Some(mismatch));

        let mut wrong = Verifier::new(expected.clone(), None).unwrap();
        wrong.update(b"abd").unwrap();
        assert_eq!(
            wrong.finish(),
            Err(DigestError::Mismatch {
                expected,
                found: Digest::compute(b"abd"),
            })
        );
    }
}
