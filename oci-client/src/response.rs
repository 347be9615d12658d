//! A registry's answer: status and header helpers, capped body reads, spec error bodies, and
//! the body as a stream that keeps the request's concurrency slot until dropped.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_util::StreamExt;
use http::header::{LOCATION, RETRY_AFTER};
use http::{HeaderMap, Method, StatusCode};
use oci_digest::Digest;
use oci_spec_types::ErrorResponse;
use url::Url;

use crate::error::Error;
use crate::retry::parse_retry_after;

/// The wait a `Retry-After` header asks for, from now; `None` without a readable one.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, SystemTime::now())
}

/// The most of an error body read to look for spec error codes.
const MAX_ERROR_BODY: u64 = 64 * 1024;

/// A slot among the requests in flight to one registry, held until the response (or its
/// body stream) is dropped.
pub(crate) type Slot = oci_digest::KeyedGuard<String>;

/// An answer, holding its request's slot among the requests in flight to the registry.
#[derive(Debug)]
pub(crate) struct Response {
    method: Method,
    url: Url,
    inner: reqwest::Response,
    permit: Slot,
    /// The request could be sent again, so the retry policy applied to it.
    replayable: bool,
}

impl Response {
    pub(crate) fn new(
        method: Method,
        url: Url,
        inner: reqwest::Response,
        permit: Slot,
        replayable: bool,
    ) -> Response {
        Response {
            method,
            url,
            inner,
            permit,
            replayable,
        }
    }

    /// The status.
    pub(crate) fn status(&self) -> StatusCode {
        self.inner.status()
    }

    /// The headers.
    pub(crate) fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// The URL the answer came from (after redirects): the base of relative `Location`s.
    pub(crate) fn url(&self) -> &Url {
        self.inner.url()
    }

    /// `self` when its status is one of `accepted`, else the [`Error::Status`] it stands for.
    pub(crate) async fn expect(self, accepted: &[StatusCode]) -> Result<Response, Error> {
        if accepted.contains(&self.status()) {
            Ok(self)
        } else {
            Err(self.into_error().await)
        }
    }

    /// The error this answer stands for, with the spec error codes of its body.
    pub(crate) async fn into_error(self) -> Error {
        let method = self.method.clone();
        let url = self.url.to_string();
        let status = self.status();
        let retry_after = retry_after(self.headers());
        let retried = self.replayable;
        let errors = match self.bytes_within(MAX_ERROR_BODY).await {
            Ok(Some(body)) => serde_json::from_slice::<ErrorResponse>(&body)
                .map(|response| response.errors)
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        Error::Status {
            method,
            url,
            status,
            errors,
            retry_after,
            retried,
        }
    }

    /// A header as text; `None` when absent, an error when not visible ASCII.
    pub(crate) fn header(&self, name: &'static str) -> Result<Option<&str>, Error> {
        let Some(value) = self.headers().get(name) else {
            return Ok(None);
        };
        value.to_str().map(Some).map_err(|_| Error::InvalidHeader {
            url: self.url.to_string(),
            name,
            value: String::from_utf8_lossy(value.as_bytes()).into_owned(),
        })
    }

    /// A header parsed by `parse`; an error when present but unparsable.
    pub(crate) fn parsed_header<T>(
        &self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, Error> {
        let Some(text) = self.header(name)? else {
            return Ok(None);
        };
        parse(text).map(Some).ok_or_else(|| Error::InvalidHeader {
            url: self.url.to_string(),
            name,
            value: text.to_owned(),
        })
    }

    /// The `Docker-Content-Digest` header, parsed.
    pub(crate) fn content_digest(&self) -> Result<Option<Digest>, Error> {
        self.parsed_header(crate::headers::CONTENT_DIGEST, |text| {
            Digest::parse(text.trim()).ok()
        })
    }

    /// Fails when `Docker-Content-Digest` names another digest of the same algorithm than
    /// `digest` (the content the client sent or asked for).
    pub(crate) fn check_content_digest(&self, digest: &Digest) -> Result<(), Error> {
        if let Some(announced) = self.content_digest()?
            && announced.algorithm() == digest.algorithm()
            && &announced != digest
        {
            return Err(Error::DigestMismatch {
                expected: digest.clone(),
                found: announced,
            });
        }
        Ok(())
    }

    /// The `Content-Length` header (read from the headers: a `HEAD` answer has no body).
    pub(crate) fn content_length(&self) -> Result<Option<u64>, Error> {
        self.parsed_header("content-length", |text| text.trim().parse().ok())
    }

    /// The `Location` header resolved against the answer's URL; required.
    pub(crate) fn location(&self) -> Result<Url, Error> {
        let text = self
            .header(LOCATION.as_str())?
            .ok_or_else(|| Error::MissingHeader {
                url: self.url.to_string(),
                name: "Location",
            })?;
        self.url().join(text).map_err(|source| Error::Url {
            url: text.to_owned(),
            source,
        })
    }

    /// The whole body, refused with [`Error::ManifestTooLarge`] past `limit` bytes.
    pub(crate) async fn bytes_capped(self, limit: u64) -> Result<Bytes, Error> {
        let url = self.url.to_string();
        let declared = self.content_length()?;
        if let Some(size) = declared.filter(|&size| size > limit) {
            return Err(Error::ManifestTooLarge {
                url,
                limit,
                size: Some(size),
            });
        }
        self.bytes_within(limit)
            .await?
            .ok_or(Error::ManifestTooLarge {
                url,
                limit,
                size: declared,
            })
    }

    /// The whole body, or `None` once it runs past `limit` bytes.
    async fn bytes_within(self, limit: u64) -> Result<Option<Bytes>, Error> {
        let mut body = BytesMut::new();
        let mut stream = self.into_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Ok(None);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Some(body.freeze()))
    }

    /// The body as a stream of chunks, keeping the concurrency slot until dropped.
    pub(crate) fn into_stream(self) -> BodyStream {
        let method = self.method;
        let url = self.url.to_string();
        let inner = self.inner.bytes_stream().map(move |chunk| {
            chunk.map_err(|source| Error::Transport {
                method: method.clone(),
                url: url.clone(),
                source,
            })
        });
        BodyStream {
            inner: Box::pin(inner),
            _permit: self.permit,
        }
    }
}

/// A response body; the concurrency slot of its request is released when it is dropped.
pub(crate) struct BodyStream {
    inner: Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>,
    _permit: Slot,
}

impl Stream for BodyStream {
    type Item = Result<Bytes, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}
