//! [`VerifyingAsyncRead`]: the tokio [`AsyncRead`] twin of
//! [`VerifyingReader`](crate::VerifyingReader).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, ReadBuf};

use crate::verifier::Verifier;
use crate::{Digest, DigestError};

pin_project_lite::pin_project! {
    /// Reads from `inner` while hashing, and checks digest and size when `inner` ends.
    ///
    /// Same rules as [`VerifyingReader`](crate::VerifyingReader): the read that runs past
    /// `expected_size` fails at once (its bytes are taken back out of the buffer), the read
    /// that meets end-of-stream fails when size or digest differ, and errors are
    /// [`io::Error`]s of kind [`io::ErrorKind::InvalidData`] wrapping a [`DigestError`].
    #[derive(Debug)]
    pub struct VerifyingAsyncRead<R> {
        #[pin]
        inner: R,
        verifier: Verifier,
    }
}

impl<R: AsyncRead> VerifyingAsyncRead<R> {
    /// Wraps `inner`. Fails when the expected digest's algorithm cannot be computed.
    pub fn new(
        inner: R,
        expected: Digest,
        expected_size: Option<u64>,
    ) -> Result<Self, DigestError> {
        Ok(VerifyingAsyncRead {
            inner,
            verifier: Verifier::new(expected, expected_size)?,
        })
    }
}

impl<R> VerifyingAsyncRead<R> {
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

impl<R: AsyncRead> AsyncRead for VerifyingAsyncRead<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        if let Some(outcome) = this.verifier.outcome() {
            return Poll::Ready(outcome.map_err(io::Error::from));
        }
        // With no room, a read of zero bytes would be mistaken for end-of-stream.
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        ready!(this.inner.poll_read(cx, buf))?;
        let fresh = &buf.filled()[before..];
        let checked = if fresh.is_empty() {
            this.verifier.finish()
        } else {
            this.verifier.update(fresh)
        };
        if let Err(error) = checked {
            buf.set_filled(before);
            return Poll::Ready(Err(error.into()));
        }
        Poll::Ready(Ok(()))
    }
}
