//! The few registry requests the benchmarks make, with their status checks.
//!
//! Only the distribution-spec steps are here (start an upload, send bytes, close it, put a
//! manifest); timing and content are the benchmarks' business.

use std::ops::Range;

use bytes::Bytes;
use oci_digest::Digest;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, LOCATION};
use reqwest::{Body, Client, RequestBuilder, Response, StatusCode, Url};

use super::error::BenchError;
use crate::error::XtaskError;

const OCTET_STREAM: &str = "application/octet-stream";

/// A registry's base URL and the HTTP client that talks to it.
#[derive(Debug, Clone)]
pub struct Api {
    http: Client,
    base: Url,
}

impl Api {
    /// A client for the registry at `base` (`http://host:port`).
    pub fn new(base: &str) -> Result<Api, BenchError> {
        let base = Url::parse(base).map_err(|error| XtaskError::BadUrl {
            url: base.to_string(),
            reason: error.to_string(),
        })?;
        let http = Client::builder()
            .build()
            .map_err(|source| BenchError::Http {
                step: "building the HTTP client",
                url: base.to_string(),
                source,
            })?;
        Ok(Api { http, base })
    }

    /// The HTTP client, for benchmarks that drive requests themselves.
    pub fn http(&self) -> &Client {
        &self.http
    }

    /// `<base>/v2/<path>`.
    pub fn url(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        url.set_path(&format!("/v2/{path}"));
        url
    }

    /// `POST /v2/<repository>/blobs/uploads/`: opens an upload session; returns its location.
    pub async fn start_upload(&self, repository: &str) -> Result<Url, BenchError> {
        let url = self.url(&format!("{repository}/blobs/uploads/"));
        let request = self.http.post(url.clone()).header(CONTENT_LENGTH, "0");
        let response = send("starting an upload", request, &url, StatusCode::ACCEPTED).await?;
        self.location("starting an upload", &response, &url)
    }

    /// `PATCH <location>` with the whole blob, `len` bytes, as one streamed upload (no
    /// `Content-Range`). Returns the location for the next request.
    pub async fn patch_streamed(
        &self,
        location: &Url,
        body: Body,
        len: u64,
    ) -> Result<Url, BenchError> {
        self.patch(location, body, len, None).await
    }

    /// `PATCH <location>` with the bytes at offsets `range` of the blob, as one chunk of a
    /// chunked upload (`Content-Range: <first>-<last>`). Returns the location for the next chunk.
    pub async fn patch_chunk(
        &self,
        location: &Url,
        body: Body,
        range: Range<u64>,
    ) -> Result<Url, BenchError> {
        let len = range.end.saturating_sub(range.start);
        let content_range = format!("{}-{}", range.start, range.end.saturating_sub(1));
        self.patch(location, body, len, Some(content_range)).await
    }

    async fn patch(
        &self,
        location: &Url,
        body: Body,
        len: u64,
        content_range: Option<String>,
    ) -> Result<Url, BenchError> {
        let mut request = self
            .http
            .patch(location.clone())
            .header(CONTENT_TYPE, OCTET_STREAM)
            .header(CONTENT_LENGTH, len)
            .body(body);
        if let Some(content_range) = content_range {
            request = request.header(CONTENT_RANGE, content_range);
        }
        let response = send(
            "sending upload data",
            request,
            location,
            StatusCode::ACCEPTED,
        )
        .await?;
        self.location("sending upload data", &response, location)
    }

    /// `PUT <location>?digest=<digest>` with `body`: closes the upload.
    pub async fn finish_upload(
        &self,
        location: &Url,
        digest: &Digest,
        body: Bytes,
    ) -> Result<(), BenchError> {
        let mut url = location.clone();
        url.query_pairs_mut().append_pair("digest", digest.as_str());
        let request = self
            .http
            .put(url.clone())
            .header(CONTENT_TYPE, OCTET_STREAM)
            .header(CONTENT_LENGTH, body.len())
            .body(body);
        send("closing an upload", request, &url, StatusCode::CREATED).await?;
        Ok(())
    }

    /// Pushes a small blob held in memory (a config, a tiny layer) in one POST-then-PUT.
    pub async fn push_small_blob(
        &self,
        repository: &str,
        content: Bytes,
    ) -> Result<Digest, BenchError> {
        let digest = Digest::compute(&content);
        let location = self.start_upload(repository).await?;
        self.finish_upload(&location, &digest, content).await?;
        Ok(digest)
    }

    /// `PUT /v2/<repository>/manifests/<tag>`.
    pub async fn put_manifest(
        &self,
        repository: &str,
        tag: &str,
        media_type: &str,
        content: Bytes,
    ) -> Result<(), BenchError> {
        let url = self.url(&format!("{repository}/manifests/{tag}"));
        let request = self
            .http
            .put(url.clone())
            .header(CONTENT_TYPE, media_type)
            .body(content);
        send("putting a manifest", request, &url, StatusCode::CREATED).await?;
        Ok(())
    }

    /// The upload location an answer points to, resolved against the registry's base URL.
    fn location(
        &self,
        step: &'static str,
        response: &Response,
        asked: &Url,
    ) -> Result<Url, BenchError> {
        response
            .headers()
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| self.base.join(value).ok())
            .ok_or_else(|| BenchError::NoLocation {
                step,
                url: asked.to_string(),
            })
    }
}

/// Sends `request`, insists on the `expected` status, and reads the whole body.
pub async fn fetch(
    step: &'static str,
    request: RequestBuilder,
    url: &Url,
    expected: StatusCode,
) -> Result<Bytes, BenchError> {
    let response = send(step, request, url, expected).await?;
    response.bytes().await.map_err(|source| BenchError::Http {
        step,
        url: url.to_string(),
        source,
    })
}

/// Sends `request` and insists on the `expected` status.
pub async fn send(
    step: &'static str,
    request: RequestBuilder,
    url: &Url,
    expected: StatusCode,
) -> Result<Response, BenchError> {
    let response = request.send().await.map_err(|source| BenchError::Http {
        step,
        url: url.to_string(),
        source,
    })?;
    if response.status() == expected {
        Ok(response)
    } else {
        Err(BenchError::Status {
            step,
            url: url.to_string(),
            status: response.status(),
            expected,
        })
    }
}
