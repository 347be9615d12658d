//! [`BlobStream`]: a blob download that resumes with `Range` after a dropped connection and
//! verifies size and digest over all the bytes handed out.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;
use http::header::RANGE;
use http::{HeaderValue, Method, StatusCode};
use oci_auth::Scopes;
use oci_digest::{Digest, VerifyStreamError, VerifyingStream};
use tokio::io::AsyncRead;
use url::Url;

use crate::client::Client;
use crate::error::Error;
use crate::headers::content_range_start;
use crate::progress::Direction;
use crate::repository::Repository;
use crate::request::Request;
use crate::response::{BodyStream, Response};
use crate::retry::Outcome;
use crate::transport::jitter;

/// A blob's bytes, in order, checked on the way: the stream ends with an error item when
/// the content does not match its digest or size, and picks up where it stopped (a ranged
/// `GET`) when the connection breaks, as often as the retry policy allows.
///
/// Holds one of the registry's request slots until dropped.
pub struct BlobStream {
    inner: Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>,
    total: Option<u64>,
}

impl BlobStream {
    /// Wraps the answer to a blob `GET` (`first`, status 200).
    pub(crate) fn open(
        client: &Client,
        target: BlobTarget,
        first: Response,
        expected_size: Option<u64>,
    ) -> Result<BlobStream, Error> {
        let total = match expected_size {
            Some(size) => Some(size),
            None => first.content_length()?,
        };
        let digest = target.digest.clone();
        let mut tracker = client.tracker(Direction::Download, &target.repository, &digest, total);
        let resume = Resume {
            client: client.clone(),
            target,
            offset: 0,
            total,
            body: Some(first.into_stream()),
            skip: 0,
            failures: 0,
            last_error: None,
            finished: false,
        };
        let chunks = futures_util::stream::unfold(resume, |mut resume| async move {
            resume.next().await.map(|item| (item, resume))
        });
        let verified =
            VerifyingStream::new(chunks, digest.clone(), total)?.map(move |item| match item {
                Ok(chunk) => {
                    tracker.advance(chunk.len() as u64);
                    Ok(chunk)
                }
                Err(VerifyStreamError::Inner(error)) => Err(error),
                Err(VerifyStreamError::Verify(error)) => {
                    Err(Error::from_verification(&digest, error))
                }
            });
        Ok(BlobStream {
            inner: Box::pin(verified),
            total,
        })
    }

    /// The blob's size: the one given by the caller, else the registry's `Content-Length`.
    pub fn total(&self) -> Option<u64> {
        self.total
    }

    /// The blob as a tokio [`AsyncRead`]; errors become `io::Error`s wrapping [`Error`].
    pub fn into_reader(self) -> impl AsyncRead + Send + Unpin {
        tokio_util::io::StreamReader::new(self.map(|item| item.map_err(io::Error::other)))
    }
}

impl Stream for BlobStream {
    type Item = Result<Bytes, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl std::fmt::Debug for BlobStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlobStream")
            .field("total", &self.total)
            .finish_non_exhaustive()
    }
}

/// Which blob a download reads, and how to ask for it again.
#[derive(Debug, Clone)]
pub(crate) struct BlobTarget {
    pub(crate) repository: Repository,
    pub(crate) registry: String,
    pub(crate) url: Url,
    pub(crate) scopes: Scopes,
    pub(crate) digest: Digest,
}

/// The resuming part: hands out the bytes of successive (ranged) answers.
struct Resume {
    client: Client,
    target: BlobTarget,
    /// Bytes handed out so far.
    offset: u64,
    total: Option<u64>,
    body: Option<BodyStream>,
    /// Bytes still to drop from `body`: a registry answered a ranged request with the
    /// whole blob.
    skip: u64,
    /// Reconnections since the last byte came through.
    failures: u32,
    last_error: Option<Error>,
    finished: bool,
}

impl Resume {
    async fn next(&mut self) -> Option<Result<Bytes, Error>> {
        while !self.finished {
            let Some(body) = self.body.as_mut() else {
                if let Err(error) = self.reconnect().await {
                    self.finished = true;
                    return Some(Err(error));
                }
                continue;
            };
            match body.next().await {
                Some(Ok(mut chunk)) => {
                    if self.skip > 0 {
                        let dropped = self.skip.min(chunk.len() as u64);
                        chunk = chunk.slice(dropped as usize..);
                        self.skip -= dropped;
                    }
                    if chunk.is_empty() {
                        continue;
                    }
                    self.offset += chunk.len() as u64;
                    self.failures = 0;
                    return Some(Ok(chunk));
                }
                Some(Err(error)) => {
                    tracing::warn!(%error, offset = self.offset, "blob download broke off");
                    self.body = None;
                    self.last_error = Some(error);
                }
                None if self.total.is_some_and(|total| self.offset < total) => {
                    tracing::warn!(offset = self.offset, "blob download ended early");
                    self.body = None;
                }
                None => self.finished = true,
            }
        }
        None
    }

    /// Asks for the rest of the blob from `offset`, after a backoff; gives up (with the last
    /// failure) when the retry policy says so.
    async fn reconnect(&mut self) -> Result<(), Error> {
        self.failures += 1;
        let policy = *self.client.config().retry();
        let Some(delay) = policy.next_delay(self.failures, Outcome::ConnectionFailed, jitter())
        else {
            return Err(self.give_up());
        };
        tokio::time::sleep(delay).await;
        // Digits and ASCII punctuation always make a valid header value.
        let range = HeaderValue::from_str(&format!("bytes={}-", self.offset))
            .map_err(|_| self.give_up())?;
        let target = &self.target;
        tracing::debug!(url = %target.url, offset = self.offset, "resuming blob download");
        let request = Request::new(
            Method::GET,
            target.url.clone(),
            &target.registry,
            target.scopes.clone(),
        )
        .header(RANGE, range)
        .follow_redirects()
        .bulk();
        let response = match self.client.transport().send(request).await {
            Ok(response) => response,
            Err(error @ Error::Transport { .. }) => {
                self.last_error = Some(error);
                return Ok(());
            }
            Err(error) => return Err(error),
        };
        match response.status() {
            StatusCode::PARTIAL_CONTENT => {
                let start = response
                    .parsed_header("content-range", content_range_start)?
                    .map(|(start, _)| start);
                if start != Some(self.offset) {
                    return Err(self.refused(StatusCode::PARTIAL_CONTENT));
                }
                self.skip = 0;
            }
            StatusCode::OK => self.skip = self.offset,
            status => return Err(self.refused(status)),
        }
        self.body = Some(response.into_stream());
        Ok(())
    }

    fn refused(&self, status: StatusCode) -> Error {
        Error::ResumeRefused {
            url: self.target.url.to_string(),
            offset: self.offset,
            status,
        }
    }

    /// The failure to report when retries run out.
    fn give_up(&mut self) -> Error {
        self.last_error
            .take()
            .unwrap_or_else(|| Error::SizeMismatch {
                digest: self.target.digest.clone(),
                expected: self.total.unwrap_or(self.offset),
                found: self.offset,
            })
    }
}
