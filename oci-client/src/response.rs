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
pub(crate) const MAX_ERROR_BODY: u64 = 64 * 1024;

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
        let (status, headers) = (self.status(), self.headers().clone());
        let retried = self.replayable;
        let body = self.bytes_within(MAX_ERROR_BODY).await.ok().flatten();
        status_error(method, url, status, &headers, body.as_deref(), retried)
    }

    /// A header as text; `None` when absent, an error when not visible ASCII.
    pub(crate) fn header(&self, name: &'static str) -> Result<Option<&str>, Error> {
        header_text(self.headers(), &self.url, name)
    }

    /// A header parsed by `parse`; an error when present but unparsable.
    pub(crate) fn parsed_header<T>(
        &self,
        name: &'static str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, Error> {
        parsed_header(self.headers(), &self.url, name, parse)
    }

    /// The `Docker-Content-Digest` header, parsed.
    pub(crate) fn content_digest(&self) -> Result<Option<Digest>, Error> {
        content_digest(self.headers(), &self.url)
    }

    /// Fails when `Docker-Content-Digest` names another digest of the same algorithm than
    /// `digest` (the content the client sent or asked for).
    pub(crate) fn check_content_digest(&self, digest: &Digest) -> Result<(), Error> {
        check_content_digest(self.headers(), &self.url, digest)
    }

    /// The `Content-Length` header (read from the headers: a `HEAD` answer has no body).
    pub(crate) fn content_length(&self) -> Result<Option<u64>, Error> {
        self.parsed_header("content-length", |text| text.trim().parse().ok())
    }

    /// The `Location` header resolved against the answer's URL; required.
    pub(crate) fn location(&self) -> Result<Url, Error> {
        location(self.headers(), &self.url, self.url())
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

/// The [`Error::Status`] an answer of `status` stands for, with the spec error codes of
/// `body` when it is a spec error body.
pub(crate) fn status_error(
    method: Method,
    url: String,
    status: StatusCode,
    headers: &HeaderMap,
    body: Option<&[u8]>,
    retried: bool,
) -> Error {
    let errors = body
        .and_then(|body| serde_json::from_slice::<ErrorResponse>(body).ok())
        .map(|response| response.errors)
        .unwrap_or_default();
    Error::Status {
        method,
        url,
        status,
        errors,
        retry_after: retry_after(headers),
        retried,
    }
}

/// A header of an answer to `url` as text; `None` when absent, an error when not visible
/// ASCII.
fn header_text<'h>(
    headers: &'h HeaderMap,
    url: &Url,
    name: &'static str,
) -> Result<Option<&'h str>, Error> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    value.to_str().map(Some).map_err(|_| Error::InvalidHeader {
        url: url.to_string(),
        name,
        value: String::from_utf8_lossy(value.as_bytes()).into_owned(),
    })
}

/// A header of an answer to `url` parsed by `parse`; an error when present but unparsable.
pub(crate) fn parsed_header<T>(
    headers: &HeaderMap,
    url: &Url,
    name: &'static str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<Option<T>, Error> {
    let Some(text) = header_text(headers, url, name)? else {
        return Ok(None);
    };
    parse(text).map(Some).ok_or_else(|| Error::InvalidHeader {
        url: url.to_string(),
        name,
        value: text.to_owned(),
    })
}

/// An answer's `Docker-Content-Digest` header, parsed.
fn content_digest(headers: &HeaderMap, url: &Url) -> Result<Option<Digest>, Error> {
    parsed_header(headers, url, crate::headers::CONTENT_DIGEST, |text| {
        Digest::parse(text.trim()).ok()
    })
}

/// Fails when an answer's `Docker-Content-Digest` names another digest of the same
/// algorithm than `digest` (the content the client sent or asked for).
pub(crate) fn check_content_digest(
    headers: &HeaderMap,
    url: &Url,
    digest: &Digest,
) -> Result<(), Error> {
    if let Some(announced) = content_digest(headers, url)?
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

/// An answer's `Location` header (required) resolved against `base`, the URL the answer
/// came from; errors name `url`, the URL asked.
pub(crate) fn location(headers: &HeaderMap, url: &Url, base: &Url) -> Result<Url, Error> {
    let text =
        header_text(headers, url, LOCATION.as_str())?.ok_or_else(|| Error::MissingHeader {
            url: url.to_string(),
            name: "Location",
        })?;
    base.join(text).map_err(|source| Error::Url {
        url: text.to_owned(),
        source,
    })
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
