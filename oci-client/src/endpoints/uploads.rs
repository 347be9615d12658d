//! Upload sessions: `POST /v2/<name>/blobs/uploads/` (end-4a) and, on the session URL,
//! `PATCH` (end-5), `GET` (end-13), `PUT` (end-6) and `DELETE` (cancel).
//!
//! A chunk refused with `416` (the registry holds another amount than the client thinks,
//! say after a lost answer) is reconciled through the status `GET`, and the upload goes on
//! from the registry's offset.

use bytes::Bytes;
use http::header::{CONTENT_RANGE, CONTENT_TYPE, RANGE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use oci_digest::Digest;
use url::Url;

use crate::client::{Client, push_scopes};
use crate::error::Error;
use crate::headers::{CHUNK_MIN_LENGTH, upload_offset};
use crate::repository::Repository;
use crate::request::Request;
use crate::response::{Response, check_content_digest, location, parsed_header};

/// Content type of upload bodies.
pub(crate) const OCTET_STREAM: HeaderValue = HeaderValue::from_static("application/octet-stream");

/// `416` answers in a row, without progress, before a chunk upload gives up.
const MAX_STALLS: u32 = 3;

/// An upload in progress: where to send the next bytes and how many the registry holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadSession {
    repository: Repository,
    location: Url,
    offset: u64,
    min_chunk_length: Option<u64>,
}

impl UploadSession {
    /// The repository the blob goes to.
    pub fn repository(&self) -> &Repository {
        &self.repository
    }

    /// The session URL (the latest `Location`).
    pub fn location(&self) -> &Url {
        &self.location
    }

    /// Bytes the registry holds, as far as the client knows.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// `OCI-Chunk-Min-Length`: every chunk but the last must be at least this long.
    pub fn min_chunk_length(&self) -> Option<u64> {
        self.min_chunk_length
    }

    /// The same session at a new `Location`.
    pub(crate) fn moved_to(self, location: Url) -> UploadSession {
        UploadSession { location, ..self }
    }

    /// Records how many bytes the registry holds.
    pub(crate) fn set_offset(&mut self, offset: u64) {
        self.offset = offset;
    }

    /// A session from an answer that opened one (202 with `Location`).
    pub(crate) fn from_response(
        repository: &Repository,
        response: &Response,
    ) -> Result<UploadSession, Error> {
        Ok(UploadSession {
            repository: repository.clone(),
            location: response.location()?,
            offset: 0,
            min_chunk_length: response
                .parsed_header(CHUNK_MIN_LENGTH, |text| text.trim().parse().ok())?,
        })
    }
}

/// A blob now in a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PushedBlob {
    /// The blob.
    pub digest: Digest,
    /// Its size, when known (a mount does not tell).
    pub size: Option<u64>,
    /// Where the registry says it lives.
    pub location: Option<Url>,
    /// True when it arrived by a cross-repository mount rather than an upload.
    pub mounted: bool,
}

impl Client {
    /// Opens an upload session.
    pub async fn start_upload(&self, repository: &Repository) -> Result<UploadSession, Error> {
        self.start_upload_at(&*self.route(repository)?).await
    }

    /// Opens an upload session at a repository already routed.
    pub(crate) async fn start_upload_at(
        &self,
        repository: &Repository,
    ) -> Result<UploadSession, Error> {
        let url = self.repository_url(repository, "blobs/uploads/")?;
        let request = Request::new(
            Method::POST,
            url,
            repository.registry(),
            push_scopes(repository)?,
        );
        let response = self
            .transport()
            .send(request)
            .await?
            .expect(&[StatusCode::ACCEPTED])
            .await?;
        UploadSession::from_response(repository, &response)
    }

    /// Sends `chunk` as the next bytes of the upload (`PATCH` with `Content-Range`). A `416`
    /// is reconciled through [`upload_status`](Self::upload_status): bytes the registry
    /// already holds are not sent again. Fails with [`Error::UploadOffset`] when the registry
    /// holds less than the chunk's start, or more than its end (the session's offset is then
    /// the registry's).
    pub async fn upload_chunk(
        &self,
        session: &mut UploadSession,
        chunk: Bytes,
    ) -> Result<(), Error> {
        let mut data = chunk;
        let mut stalls = 0;
        while !data.is_empty() {
            let start = session.offset;
            let end = start + data.len() as u64 - 1;
            let request = self
                .session_request(Method::PATCH, session, session.location.clone())?
                .header(CONTENT_TYPE, OCTET_STREAM)
                .header(CONTENT_RANGE, number_range(start, end)?)
                .bytes(data.clone())
                .bulk();
            let response = self.transport().send(request).await?;
            let held = match response.status() {
                status if CHUNK_ACCEPTED.contains(&status) => {
                    chunk_accepted(session, response.headers(), response.url(), end)?
                }
                StatusCode::RANGE_NOT_SATISFIABLE => {
                    stalls += 1;
                    if stalls > MAX_STALLS {
                        return Err(response.into_error().await);
                    }
                    drop(response);
                    tracing::debug!(start, "chunk refused with 416, asking the upload status");
                    self.status_with_hint(session, start == 0).await?
                }
                _ => return Err(response.into_error().await),
            };
            session.offset = held;
            if held < start || held > end + 1 {
                return Err(Error::UploadOffset {
                    location: session.location.to_string(),
                    server_offset: held,
                    available_from: start,
                });
            }
            if held > start {
                stalls = 0;
            }
            data = data.slice((held - start) as usize..);
        }
        Ok(())
    }

    /// Asks the registry how many bytes the upload holds (`GET` on the session), and
    /// updates the session with the answer.
    pub async fn upload_status(&self, session: &mut UploadSession) -> Result<u64, Error> {
        let hint = session.offset > 0;
        self.status_with_hint(session, hint).await
    }

    /// Ends the upload: `PUT <location>?digest=`. The registry checks the digest.
    pub async fn finish_upload(
        &self,
        session: UploadSession,
        digest: &Digest,
    ) -> Result<PushedBlob, Error> {
        let request = self.finishing_put(&session, digest)?.bytes(Bytes::new());
        self.send_finishing_put(request, digest, session.offset)
            .await
    }

    /// Cancels the upload (`DELETE` on the session).
    pub async fn cancel_upload(&self, session: UploadSession) -> Result<(), Error> {
        let request = self.session_request(Method::DELETE, &session, session.location.clone())?;
        self.transport()
            .send(request)
            .await?
            .expect(&[StatusCode::NO_CONTENT, StatusCode::ACCEPTED, StatusCode::OK])
            .await?;
        Ok(())
    }

    async fn status_with_hint(
        &self,
        session: &mut UploadSession,
        more_than_zero: bool,
    ) -> Result<u64, Error> {
        let request = self.session_request(Method::GET, session, session.location.clone())?;
        let response = self
            .transport()
            .send(request)
            .await?
            .expect(&[StatusCode::NO_CONTENT, StatusCode::OK])
            .await?;
        let held = response
            .parsed_header(RANGE.as_str(), |text| upload_offset(text, more_than_zero))?
            .unwrap_or(0);
        session.location = response.location().unwrap_or(session.location.clone());
        session.offset = held;
        Ok(held)
    }

    /// A request on the session URL, authorised to push.
    pub(crate) fn session_request(
        &self,
        method: Method,
        session: &UploadSession,
        url: Url,
    ) -> Result<Request, Error> {
        Ok(Request::new(
            method,
            url,
            session.repository.registry(),
            push_scopes(&session.repository)?,
        ))
    }

    /// The `PUT <location>?digest=` that ends a session, before its body is attached.
    pub(crate) fn finishing_put(
        &self,
        session: &UploadSession,
        digest: &Digest,
    ) -> Result<Request, Error> {
        Ok(self
            .session_request(Method::PUT, session, finishing_url(session, digest))?
            .header(CONTENT_TYPE, OCTET_STREAM))
    }

    /// Sends a [`finishing_put`](Self::finishing_put) with its body; the blob it pushed.
    pub(crate) async fn send_finishing_put(
        &self,
        request: Request,
        digest: &Digest,
        size: u64,
    ) -> Result<PushedBlob, Error> {
        let response = self
            .transport()
            .send(request)
            .await?
            .expect(&UPLOAD_FINISHED)
            .await?;
        pushed(&response, digest, Some(size))
    }
}

/// The statuses of an answer that took a chunk.
pub(crate) const CHUNK_ACCEPTED: [StatusCode; 2] = [StatusCode::ACCEPTED, StatusCode::NO_CONTENT];

/// Takes in the answer (from `url`, with `headers`) that took a chunk ending at byte `end`:
/// the session moves to the `Location` it names, when it names one, and holds what its
/// `Range` reports (else the chunk's end). Returns the bytes held.
pub(crate) fn chunk_accepted(
    session: &mut UploadSession,
    headers: &HeaderMap,
    url: &Url,
    end: u64,
) -> Result<u64, Error> {
    let held = parsed_header(headers, url, RANGE.as_str(), |text| {
        upload_offset(text, true)
    })?
    .unwrap_or(end + 1);
    if let Ok(moved) = location(headers, url, url) {
        session.location = moved;
    }
    session.offset = held;
    Ok(held)
}

/// `<location>?digest=`: where the `PUT` that ends `session` goes.
pub(crate) fn finishing_url(session: &UploadSession, digest: &Digest) -> Url {
    let mut url = session.location().clone();
    url.query_pairs_mut().append_pair("digest", digest.as_str());
    url
}

/// The statuses that finish an upload: `201` as the spec says, and the `204` or `200` some
/// registries answer.
pub(crate) const UPLOAD_FINISHED: [StatusCode; 3] =
    [StatusCode::CREATED, StatusCode::NO_CONTENT, StatusCode::OK];

/// The [`PushedBlob`] a `201` stands for, its `Docker-Content-Digest` checked.
pub(crate) fn pushed(
    response: &Response,
    digest: &Digest,
    size: Option<u64>,
) -> Result<PushedBlob, Error> {
    pushed_from(response.headers(), response.url(), digest, size)
}

/// [`pushed`], from the headers of an answer from `url` (the relay reads its own).
pub(crate) fn pushed_from(
    headers: &HeaderMap,
    url: &Url,
    digest: &Digest,
    size: Option<u64>,
) -> Result<PushedBlob, Error> {
    check_content_digest(headers, url, digest)?;
    Ok(PushedBlob {
        digest: digest.clone(),
        size,
        location: location(headers, url, url).ok(),
        mounted: false,
    })
}

/// A `Content-Range` value for an upload chunk: `<start>-<end>`, inclusive.
pub(crate) fn number_range(start: u64, end: u64) -> Result<HeaderValue, Error> {
    let text = format!("{start}-{end}");
    HeaderValue::from_str(&text).map_err(|_| Error::InvalidHeader {
        url: String::new(),
        name: "Content-Range",
        value: text,
    })
}
