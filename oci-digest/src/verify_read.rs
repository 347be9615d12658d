//! [`VerifyingReader`]: a [`Read`] adapter that checks what passes through it.

use std::io::{self, Read};

use crate::verifier::Verifier;
use crate::{Digest, DigestError};

/// Reads from `inner` while hashing, and checks digest and size when `inner` ends.
///
/// - The read that runs past `expected_size` fails at once with
///   [`DigestError::SizeExceeded`]: the extra bytes are never handed out.
/// - The read that meets end-of-stream fails with [`DigestError::SizeMismatch`] or
///   [`DigestError::Mismatch`] when the content is wrong; otherwise it returns `Ok(0)`.
///
/// Errors are [`io::Error`]s of kind [`io::ErrorKind::InvalidData`];
/// [`DigestError::from_io`] gets the `DigestError` back. Only a reader that reaches
/// end-of-stream has verified anything: stopping early proves nothing (see
/// [`is_verified`](VerifyingReader::is_verified)).
#[derive(Debug)]
pub struct VerifyingReader<R> {
    inner: R,
    verifier: Verifier,
}

impl<R: Read> VerifyingReader<R> {
    /// Wraps `inner`. Fails when the expected digest's algorithm cannot be computed.
    pub fn new(
        inner: R,
        expected: Digest,
        expected_size: Option<u64>,
    ) -> Result<Self, DigestError> {
        Ok(VerifyingReader {
            inner,
            verifier: Verifier::new(expected, expected_size)?,
        })
    }
}

impl<R> VerifyingReader<R> {
    /// How many bytes have been handed out so far.
    pub fn bytes_read(&self) -> u64 {
        self.verifier.bytes_seen()
    }

    /// Whether end-of-stream was reached and the content matched.
    pub fn is_verified(&self) -> bool {
        self.verifier.outcome() == Some(Ok(()))
    }

    /// The wrapped reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Unwraps the reader, giving up verification.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(outcome) = self.verifier.outcome() {
            // Once over, keep answering end-of-stream, or the same error.
            return outcome.map(|()| 0).map_err(io::Error::from);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let read = self.inner.read(buf)?;
        if read == 0 {
            self.verifier.finish()?;
        } else {
            self.verifier.update(&buf[..read])?;
        }
        Ok(read)
    }
}
