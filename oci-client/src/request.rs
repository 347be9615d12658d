//! A request as the transport sends it: target, scopes for authorisation, headers, and a
//! body that is either replayable (so the request may be retried) or a one-shot stream.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use oci_auth::Scopes;
use url::Url;

/// What to send.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) registry: String,
    pub(crate) scopes: Scopes,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Body,
    pub(crate) follow_redirects: bool,
    /// Carries a blob's bytes, up or down (see [`Request::bulk`]).
    pub(crate) bulk: bool,
}

/// A request body: replayable (so the request may be retried) or a one-shot stream.
#[derive(Debug)]
pub(crate) enum Body {
    Empty,
    Bytes(Bytes),
    Stream(Option<reqwest::Body>),
}

impl Body {
    pub(crate) fn is_replayable(&self) -> bool {
        !matches!(self, Body::Stream(_))
    }

    /// The body for the next attempt; a stream is handed out once.
    pub(crate) fn for_attempt(&mut self) -> Option<reqwest::Body> {
        match self {
            Body::Empty => None,
            Body::Bytes(bytes) => Some(reqwest::Body::from(bytes.clone())),
            Body::Stream(stream) => stream.take(),
        }
    }
}

impl Request {
    /// A bodiless request to `url` on `registry`, authorised for `scopes`.
    pub(crate) fn new(method: Method, url: Url, registry: &str, scopes: Scopes) -> Request {
        Request {
            method,
            url,
            registry: registry.to_owned(),
            scopes,
            headers: HeaderMap::new(),
            body: Body::Empty,
            follow_redirects: false,
            bulk: false,
        }
    }

    /// Adds a header.
    pub(crate) fn header(mut self, name: HeaderName, value: HeaderValue) -> Request {
        self.headers.append(name, value);
        self
    }

    /// A body held in memory: the request can be retried.
    pub(crate) fn bytes(mut self, bytes: Bytes) -> Request {
        self.body = Body::Bytes(bytes);
        self
    }

    /// A streamed body: sent once, never retried.
    pub(crate) fn stream(mut self, body: reqwest::Body) -> Request {
        self.body = Body::Stream(Some(body));
        self
    }

    /// Marks a request that carries a blob's bytes, as its body or its answer's: over TLS it
    /// goes on an HTTP/1.1 connection of its own rather than sharing a registry's HTTP/2
    /// connection with every other request. One connection carries all of HTTP/2's streams,
    /// and each end encrypts, decrypts and frames a connection's bytes on one thread: an
    /// image of two 512 MiB layers copied between two TLS registries on one host took
    /// 3.1–3.3 s over HTTP/2, 2.3–2.6 s over HTTP/1.1 connections.
    pub(crate) fn bulk(mut self) -> Request {
        self.bulk = true;
        self
    }

    /// Follow redirects (for `GET` and `HEAD` of blobs and manifests).
    pub(crate) fn follow_redirects(mut self) -> Request {
        self.follow_redirects = true;
        self
    }
}
