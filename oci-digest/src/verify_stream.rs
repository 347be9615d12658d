//! [`VerifyingStream`]: checks a stream of byte chunks, such as an HTTP body.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_core::{FusedStream, Stream};

use crate::verifier::Verifier;
use crate::{Digest, DigestError, VerifyStreamError};

pin_project_lite::pin_project! {
    /// Passes the chunks of a `Stream<Item = Result<Bytes, E>>` through while hashing them.
    ///
    /// - A chunk that runs past `expected_size` is replaced by
    ///   `Err(VerifyStreamError::Verify(DigestError::SizeExceeded))`, and the stream ends.
    /// - When the inner stream ends, a size or digest mismatch comes out as one last
    ///   `Err(VerifyStreamError::Verify(..))` item; a match simply ends the stream.
    /// - Errors of the inner stream pass through as [`VerifyStreamError::Inner`]; whether the
    ///   stream goes on after them is up to the inner stream.
    #[derive(Debug)]
    pub struct VerifyingStream<S> {
        #[pin]
        inner: S,
        verifier: Verifier,
    }
}

impl<S> VerifyingStream<S> {
    /// Wraps `inner`. Fails when the expected digest's algorithm cannot be computed.
    pub fn new(
        inner: S,
        expected: Digest,
        expected_size: Option<u64>,
    ) -> Result<Self, DigestError> {
        Ok(VerifyingStream {
            inner,
            verifier: Verifier::new(expected, expected_size)?,
        })
    }

    /// How many bytes have been handed out so far.
    pub fn bytes_read(&self) -> u64 {
        self.verifier.bytes_seen()
    }

    /// Whether the inner stream ended and the content matched.
    pub fn is_verified(&self) -> bool {
        self.verifier.outcome() == Some(Ok(()))
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Unwraps the stream, giving up verification.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, E> Stream for VerifyingStream<S>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    type Item = Result<Bytes, VerifyStreamError<E>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.project();
        if this.verifier.outcome().is_some() {
            return Poll::Ready(None);
        }
        let checked = match ready!(this.inner.poll_next(cx)) {
            Some(Ok(chunk)) => this.verifier.update(&chunk).map(|()| Some(chunk)),
            Some(Err(error)) => return Poll::Ready(Some(Err(VerifyStreamError::Inner(error)))),
            None => this.verifier.finish().map(|()| None),
        };
        Poll::Ready(match checked {
            Ok(chunk) => chunk.map(Ok),
            Err(error) => Some(Err(VerifyStreamError::Verify(error))),
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.verifier.outcome().is_some() {
            return (0, Some(0));
        }
        // One more item may come: the verdict at the end.
        let (lower, upper) = self.inner.size_hint();
        (lower, upper.and_then(|upper| upper.checked_add(1)))
    }
}

impl<S, E> FusedStream for VerifyingStream<S>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    fn is_terminated(&self) -> bool {
        self.verifier.outcome().is_some()
    }
}
