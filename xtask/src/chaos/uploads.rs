//! How a client gets a blob into a repository: by asking first (`HEAD`, skipping the upload
//! on 200), by mounting it from another repository, or by uploading it monolithically, in one
//! PUT, in chunks, as one streamed PATCH, or as a PATCH whose body trickles for longer than the
//! grace period.

use std::time::Duration;

use futures_util::stream;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Body, Method};

use super::content::Item;
use super::history::{Action, SessionId};
use super::workload::Worker;

const OCTET_STREAM: &str = "application/octet-stream";
/// How many pieces a trickled PATCH body is sent in.
const SLOW_PIECES: u32 = 8;

/// The ways to send a blob's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upload {
    /// `POST ?digest=` with the bytes.
    Monolithic,
    /// `POST`, then `PUT ?digest=` with the bytes.
    Single,
    /// `POST`, `PATCH`es with `Content-Range`, then `PUT ?digest=`.
    Chunked,
    /// `POST`, one `PATCH` streamed without a length, then `PUT ?digest=`.
    Streamed,
    /// Like `Streamed`, the body trickling for longer than the grace period.
    Slow,
}

impl Worker {
    /// Gets `item` into repository `repo` by a random way; `true` once a request acknowledged
    /// it there.
    pub(super) async fn acquire(&mut self, repo: &str, item: &Item) -> bool {
        match self.rng_range(0..100) {
            0..30 => {
                let target = format!("/v2/{repo}/blobs/{}", item.digest);
                let action = Action::BlobHead {
                    repo: repo.to_string(),
                    digest: item.digest.clone(),
                };
                match self
                    .send(Method::HEAD, &target, HeaderMap::new(), None, action)
                    .await
                    .status
                {
                    Some(200) => true,
                    Some(404) => {
                        let way = self.random_upload();
                        self.upload(repo, item, way).await
                    }
                    _ => false,
                }
            }
            30..45 => self.mount(repo, item).await,
            _ => {
                let way = self.random_upload();
                self.upload(repo, item, way).await
            }
        }
    }

    fn random_upload(&mut self) -> Upload {
        match self.rng_range(0..10) {
            0..4 => Upload::Monolithic,
            4..6 => Upload::Single,
            6..8 => Upload::Chunked,
            _ => Upload::Streamed,
        }
    }

    /// `POST ?mount=&from=` from a repository that should hold the blob; on 202, finishes the
    /// upload the answer opened.
    async fn mount(&mut self, repo: &str, item: &Item) -> bool {
        let from = self.mount_source(repo, &item.digest);
        let session = self.new_session();
        let target = format!(
            "/v2/{repo}/blobs/uploads/?mount={}&from={from}",
            item.digest
        );
        let action = Action::Mount {
            repo: repo.to_string(),
            digest: item.digest.clone(),
            session,
        };
        let reply = self
            .send(Method::POST, &target, HeaderMap::new(), None, action)
            .await;
        match (reply.status, reply.location) {
            (Some(201), _) => true,
            (Some(202), Some(location)) => {
                let body = Some(item.bytes.clone());
                self.finish(repo, item, session, &location, body).await
            }
            _ => false,
        }
    }

    /// Uploads `item` into `repo` the way asked.
    pub(super) async fn upload(&mut self, repo: &str, item: &Item, way: Upload) -> bool {
        if way == Upload::Monolithic {
            let target = format!("/v2/{repo}/blobs/uploads/?digest={}", item.digest);
            let action = Action::UploadFinish {
                repo: repo.to_string(),
                digest: item.digest.clone(),
                session: None,
            };
            let body = Some(Body::from(item.bytes.clone()));
            let reply = self
                .send(Method::POST, &target, octet_stream(None), body, action)
                .await;
            return reply.status == Some(201);
        }
        let session = self.new_session();
        let target = format!("/v2/{repo}/blobs/uploads/");
        let action = Action::UploadOpen {
            repo: repo.to_string(),
            session,
        };
        let reply = self
            .send(Method::POST, &target, HeaderMap::new(), None, action)
            .await;
        let (Some(202), Some(mut location)) = (reply.status, reply.location) else {
            return false;
        };
        if way == Upload::Single {
            let body = Some(item.bytes.clone());
            return self.finish(repo, item, session, &location, body).await;
        }
        let patches = match way {
            Upload::Chunked => self.chunks(item),
            _ => vec![(0, item.bytes.len())],
        };
        for (start, end) in patches {
            let piece = item.bytes.slice(start..end);
            let (headers, body) = match way {
                Upload::Chunked => {
                    let range = format!("{start}-{}", end.saturating_sub(1));
                    let Ok(range) = HeaderValue::try_from(range) else {
                        return false;
                    };
                    let mut headers = octet_stream(Some(piece.len()));
                    headers.insert(CONTENT_RANGE, range);
                    (headers, Body::from(piece))
                }
                Upload::Slow => (octet_stream(None), self.trickle(piece)),
                _ => (octet_stream(None), streamed(piece)),
            };
            let action = Action::UploadPatch {
                repo: repo.to_string(),
                session,
                slow: way == Upload::Slow,
            };
            let reply = self
                .send(Method::PATCH, &location, headers, Some(body), action)
                .await;
            match (reply.status, reply.location) {
                (Some(202), Some(next)) => location = next,
                (Some(202), None) => {}
                _ => return false,
            }
        }
        self.finish(repo, item, session, &location, None).await
    }

    /// `PUT <location>?digest=`, with the bytes not sent yet.
    async fn finish(
        &mut self,
        repo: &str,
        item: &Item,
        session: SessionId,
        location: &str,
        body: Option<bytes::Bytes>,
    ) -> bool {
        let separator = if location.contains('?') { '&' } else { '?' };
        let target = format!("{location}{separator}digest={}", item.digest);
        let action = Action::UploadFinish {
            repo: repo.to_string(),
            digest: item.digest.clone(),
            session: Some(session),
        };
        let length = body.as_ref().map_or(0, bytes::Bytes::len);
        let headers = octet_stream(Some(length));
        let body = body.map(Body::from);
        let reply = self.send(Method::PUT, &target, headers, body, action).await;
        reply.status == Some(201)
    }

    /// Two or three consecutive byte ranges covering the item (one for a tiny item).
    fn chunks(&mut self, item: &Item) -> Vec<(usize, usize)> {
        let len = item.bytes.len();
        if len < 4 {
            return vec![(0, len)];
        }
        let first = self.rng_range(1..len / 2);
        let second = self.rng_range(first + 1..len);
        vec![(0, first), (first, second), (second, len)]
    }

    /// A body sent in pieces spread over the slow-upload duration.
    fn trickle(&mut self, bytes: bytes::Bytes) -> Body {
        let pause = self.settings.slow_patch / SLOW_PIECES;
        let step = bytes.len().div_ceil(SLOW_PIECES as usize).max(1);
        let pieces: Vec<bytes::Bytes> = (0..bytes.len())
            .step_by(step)
            .map(|start| bytes.slice(start..(start + step).min(bytes.len())))
            .collect();
        let stream = stream::unfold(pieces.into_iter(), move |mut pieces| async move {
            let piece = pieces.next()?;
            // The pause is the point: the body takes longer than the grace period to arrive.
            tokio::time::sleep(pause).await;
            Some((Ok::<_, std::io::Error>(piece), pieces))
        });
        Body::wrap_stream(stream)
    }
}

/// A body without a declared length (sent chunked).
fn streamed(bytes: bytes::Bytes) -> Body {
    Body::wrap_stream(stream::iter([Ok::<_, std::io::Error>(bytes)]))
}

fn octet_stream(length: Option<usize>) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(OCTET_STREAM));
    if let Some(length) = length {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
    }
    headers
}

/// How long a slow PATCH takes: half again the grace period, so a sweep that runs meanwhile
/// finds the session's state older than the grace period.
pub fn slow_patch_duration(grace: Duration) -> Duration {
    grace + grace / 2
}
