//! Bodies: the streaming [`ResponseBody`] the registry answers with, the [`ByteStream`] that
//! carries content between HTTP and storage, and the capped read used for manifests.

use std::{
    io,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_util::{StreamExt, TryStreamExt};
use http_body::{Body, Frame, SizeHint};

use crate::{error::Error, observe::RequestRecord};

/// A stream of byte chunks; errors are I/O errors.
pub type ByteStream<'a> = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send + 'a>>;

/// Boxed error type accepted from request bodies.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The body of every registry response: nothing, a small buffer, or a stream of known length.
pub struct ResponseBody {
    kind: Kind,
    /// The request this answers, finished (logged, counted) when the body is dropped.
    record: Option<RequestRecord>,
}

enum Kind {
    Empty,
    Full(Option<Bytes>),
    Stream {
        stream: ByteStream<'static>,
        remaining: u64,
    },
}

impl ResponseBody {
    /// No body.
    pub fn empty() -> Self {
        Self {
            kind: Kind::Empty,
            record: None,
        }
    }

    /// A body held in memory (error documents, manifests, listings).
    pub fn full(bytes: impl Into<Bytes>) -> Self {
        let bytes = bytes.into();
        if bytes.is_empty() {
            return Self::empty();
        }
        Self {
            kind: Kind::Full(Some(bytes)),
            record: None,
        }
    }

    /// A streamed body of exactly `len` bytes (blobs).
    pub fn stream(stream: ByteStream<'static>, len: u64) -> Self {
        Self {
            kind: Kind::Stream {
                stream,
                remaining: len,
            },
            record: None,
        }
    }

    /// The same body, counting what it sends into `record`. The record is finished (its
    /// log line and metrics written) before the client can have the last byte: at once for
    /// an empty body, with the last frame otherwise, or when the body is dropped unsent.
    pub(crate) fn recorded(mut self, record: RequestRecord) -> Self {
        if !self.is_end_stream() {
            self.record = Some(record);
        }
        self
    }
}

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, len) = match &self.kind {
            Kind::Empty => ("empty", 0),
            Kind::Full(bytes) => ("full", bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Stream { remaining, .. } => ("stream", *remaining),
        };
        f.debug_struct("ResponseBody")
            .field("kind", &kind)
            .field("len", &len)
            .finish()
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = self.get_mut();
        let polled = match &mut this.kind {
            Kind::Empty => Poll::Ready(None),
            Kind::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Kind::Stream { stream, remaining } => {
                if *remaining == 0 {
                    return Poll::Ready(None);
                }
                match stream.as_mut().poll_next(cx) {
                    Poll::Ready(Some(Ok(chunk))) => {
                        *remaining = remaining.saturating_sub(chunk.len() as u64);
                        Poll::Ready(Some(Ok(Frame::data(chunk))))
                    }
                    Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e))),
                    Poll::Ready(None) => Poll::Ready(None),
                    Poll::Pending => Poll::Pending,
                }
            }
        };
        if let (Poll::Ready(Some(Ok(frame))), Some(record)) = (&polled, &mut this.record)
            && let Some(data) = frame.data_ref()
        {
            record.add_sent(data.len() as u64);
        }
        if this.is_end_stream() || matches!(polled, Poll::Ready(None)) {
            this.record = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Empty => true,
            Kind::Full(bytes) => bytes.is_none(),
            Kind::Stream { remaining, .. } => *remaining == 0,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Empty => SizeHint::with_exact(0),
            Kind::Full(bytes) => SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64)),
            Kind::Stream { remaining, .. } => SizeHint::with_exact(*remaining),
        }
    }
}

/// Turns any request body into a [`ByteStream`] (trailers are dropped).
pub fn request_stream<B>(body: B) -> ByteStream<'static>
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    Box::pin(http_body_util::BodyDataStream::new(body).map_err(|e| io::Error::other(e.into())))
}

/// Reads a whole stream into memory, refusing (without reading on) once it passes `limit`.
pub async fn read_capped(mut stream: ByteStream<'_>, limit: u64) -> Result<Bytes, Error> {
    let mut buffer = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(Error::Body)?;
        if (buffer.len() + chunk.len()) as u64 > limit {
            return Err(Error::ManifestTooLarge { limit });
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(buffer.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;
    use http_body_util::BodyExt;

    fn chunks(parts: &[&'static [u8]]) -> ByteStream<'static> {
        Box::pin(stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        ))
    }

    #[tokio::test]
    async fn capped_read_refuses_past_the_limit() {
        assert_eq!(
            read_capped(chunks(&[b"ab", b"cd"]), 4).await.unwrap(),
            "abcd"
        );
        assert!(matches!(
            read_capped(chunks(&[b"ab", b"cde"]), 4).await,
            Err(Error::ManifestTooLarge { limit: 4 })
        ));
    }

    #[tokio::test]
    async fn stream_body_reports_its_length() {
        let body = ResponseBody::stream(chunks(&[b"hello ", b"world"]), 11);
        assert_eq!(body.size_hint().exact(), Some(11));
        assert_eq!(body.collect().await.unwrap().to_bytes(), "hello world");
        assert!(ResponseBody::empty().is_end_stream());
    }
}
