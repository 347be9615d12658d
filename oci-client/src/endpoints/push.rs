//! Pushing a blob's bytes: monolithic (`POST` + `PUT`, or one `POST ?digest=`), chunked
//! (`PATCH` chunks honouring `OCI-Chunk-Min-Length`, then `PUT`), or streamed (one `PATCH` of
//! unknown length, then `PUT`). Content is streamed; only a chunk at a time is in memory.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_util::StreamExt;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, RANGE};
use http::{HeaderValue, Method, StatusCode};
use oci_digest::{Digest, Digester};
use tokio::io::AsyncRead;

use crate::client::{Client, push_scopes};
use crate::endpoints::uploads::{OCTET_STREAM, PushedBlob, UploadSession, pushed};
use crate::error::Error;
use crate::headers::upload_offset;
use crate::progress::{Direction, Tracker};
use crate::repository::Repository;
use crate::request::Request;

/// How a blob's bytes travel to the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum UploadMethod {
    /// `POST` to open a session, then one `PUT` carrying the whole blob.
    Monolithic,
    /// One `POST ?digest=` carrying the whole blob; a registry answering `202` instead gets
    /// the bytes by `PUT`. Used for blobs that fit in one chunk; larger ones go
    /// [`Monolithic`](Self::Monolithic), since a consumed stream cannot be sent twice.
    SinglePost,
    /// `PATCH` chunks of [`ClientConfig::chunk_size`](crate::ClientConfig::chunk_size)
    /// (raised to the registry's `OCI-Chunk-Min-Length`), each retried on failure and
    /// reconciled after a `416`, then an empty `PUT`.
    #[default]
    Chunked,
    /// One `PATCH` streaming the whole blob without `Content-Range`, then an empty `PUT`.
    Streamed,
}

/// A source of blob bytes.
type ByteStream = std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, io::Error>> + Send>>;

impl Client {
    /// Pushes a blob of known digest and size from a stream of chunks.
    pub async fn push_blob<S>(
        &self,
        repository: &Repository,
        digest: &Digest,
        size: u64,
        body: S,
        method: UploadMethod,
    ) -> Result<PushedBlob, Error>
    where
        S: Stream<Item = Result<Bytes, io::Error>> + Send + 'static,
    {
        let body: ByteStream = Box::pin(body);
        match method {
            UploadMethod::SinglePost if size <= self.config().chunk_size().get() => {
                let bytes = collect(body, size).await?;
                self.push_single_post(repository, digest, bytes).await
            }
            UploadMethod::Monolithic | UploadMethod::SinglePost => {
                let session = self.start_upload(repository).await?;
                let tracker = self.upload_tracker(&session, digest, Some(size));
                let request = self
                    .finishing_put(&session, digest)?
                    .header(CONTENT_LENGTH, HeaderValue::from(size))
                    .stream(reqwest::Body::wrap_stream(tracked(body, tracker)))
                    .bulk();
                self.send_finishing_put(request, digest, size).await
            }
            UploadMethod::Chunked => {
                let session = self.start_upload(repository).await?;
                self.upload_stream(session, digest, Some(size), body).await
            }
            UploadMethod::Streamed => {
                let session = self.start_upload(repository).await?;
                let tracker = self.upload_tracker(&session, digest, Some(size));
                let session = self.patch_stream(session, tracked(body, tracker)).await?;
                self.finish_upload(session, digest).await
            }
        }
    }

    /// Pushes a blob held in memory (small blobs, configs); its digest is computed here.
    pub async fn push_blob_bytes(
        &self,
        repository: &Repository,
        data: Bytes,
        method: UploadMethod,
    ) -> Result<PushedBlob, Error> {
        let digest = Digest::compute(&data);
        match method {
            UploadMethod::SinglePost => self.push_single_post(repository, &digest, data).await,
            UploadMethod::Monolithic => {
                let session = self.start_upload(repository).await?;
                let size = data.len() as u64;
                let request = self.finishing_put(&session, &digest)?.bytes(data).bulk();
                self.send_finishing_put(request, &digest, size).await
            }
            UploadMethod::Chunked | UploadMethod::Streamed => {
                let size = data.len() as u64;
                let body = futures_util::stream::iter([Ok(data)]);
                self.push_blob(repository, &digest, size, body, method)
                    .await
            }
        }
    }

    /// Pushes a blob of unknown length from a reader: one streamed `PATCH`, with the digest
    /// computed on the way, then the `PUT`. Progress is reported once, at the end, since the
    /// digest events are keyed by is only known then.
    pub async fn push_blob_reader<R>(
        &self,
        repository: &Repository,
        reader: R,
    ) -> Result<PushedBlob, Error>
    where
        R: AsyncRead + Send + 'static,
    {
        let digester = Arc::new(Mutex::new(Some(Digester::sha256())));
        let hashing = Arc::clone(&digester);
        let body = tokio_util::io::ReaderStream::new(reader).map(move |chunk| {
            if let Ok(chunk) = &chunk {
                let mut guard = hashing.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(digester) = guard.as_mut() {
                    digester.update(chunk);
                }
            }
            chunk
        });
        let session = self.start_upload(repository).await?;
        let session = self.patch_stream(session, body).await?;
        let taken = digester
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let digester = taken.unwrap_or_else(Digester::sha256);
        let hashed = digester.bytes_hashed();
        let digest = digester.finish();
        if hashed != session.offset() {
            return Err(Error::SizeMismatch {
                digest,
                expected: hashed,
                found: session.offset(),
            });
        }
        let mut tracker = self.upload_tracker(&session, &digest, Some(hashed));
        let pushed = self.finish_upload(session, &digest).await?;
        tracker.advance(hashed);
        Ok(pushed)
    }

    /// Uploads a stream into an open session in chunks, then finishes it: the second half of
    /// a chunked push, and what a refused mount goes on with.
    pub async fn upload_stream<S>(
        &self,
        mut session: UploadSession,
        digest: &Digest,
        size: Option<u64>,
        body: S,
    ) -> Result<PushedBlob, Error>
    where
        S: Stream<Item = Result<Bytes, io::Error>> + Send,
    {
        let chunk_size = self
            .config()
            .chunk_size()
            .get()
            .max(session.min_chunk_length().unwrap_or(0));
        let chunk_size = usize::try_from(chunk_size).unwrap_or(usize::MAX);
        let mut tracker = self.upload_tracker(&session, digest, size);
        let mut buffer = BytesMut::new();
        let mut body = std::pin::pin!(body);
        loop {
            let piece = body.next().await.transpose().map_err(Error::Source)?;
            let ended = piece.is_none();
            if let Some(piece) = piece {
                buffer.extend_from_slice(&piece);
            }
            while buffer.len() >= chunk_size || (ended && !buffer.is_empty()) {
                let take = buffer.len().min(chunk_size);
                let chunk = buffer.split_to(take).freeze();
                self.upload_chunk(&mut session, chunk).await?;
                tracker.advance(take as u64);
            }
            if ended {
                break;
            }
        }
        self.finish_upload(session, digest).await
    }

    /// `POST ?digest=` with the body; on `202`, `PUT` the body to the session opened.
    async fn push_single_post(
        &self,
        repository: &Repository,
        digest: &Digest,
        data: Bytes,
    ) -> Result<PushedBlob, Error> {
        let repository = &*self.route(repository)?;
        let size = data.len() as u64;
        let mut url = self.repository_url(repository, "blobs/uploads/")?;
        url.query_pairs_mut().append_pair("digest", digest.as_str());
        let request = Request::new(
            Method::POST,
            url,
            repository.registry(),
            push_scopes(repository)?,
        )
        .header(CONTENT_TYPE, OCTET_STREAM)
        .bytes(data.clone())
        .bulk();
        let response = self
            .transport()
            .send(request)
            .await?
            .expect(&[StatusCode::CREATED, StatusCode::ACCEPTED])
            .await?;
        if response.status() == StatusCode::CREATED {
            self.tracker(Direction::Upload, repository, digest, Some(size))
                .advance(size);
            return pushed(&response, digest, Some(size));
        }
        tracing::debug!("registry opened a session instead of taking the single POST");
        let session = UploadSession::from_response(repository, &response)?;
        let request = self.finishing_put(&session, digest)?.bytes(data).bulk();
        self.send_finishing_put(request, digest, size).await
    }

    /// `PATCH` without `Content-Range`: the whole stream as the session's content.
    async fn patch_stream<S>(&self, session: UploadSession, body: S) -> Result<UploadSession, Error>
    where
        S: Stream<Item = Result<Bytes, io::Error>> + Send + 'static,
    {
        let request = self
            .session_request(Method::PATCH, &session, session.location().clone())?
            .header(CONTENT_TYPE, OCTET_STREAM)
            .stream(reqwest::Body::wrap_stream(body))
            .bulk();
        let response = self
            .transport()
            .send(request)
            .await?
            .expect(&[StatusCode::ACCEPTED, StatusCode::NO_CONTENT])
            .await?;
        let mut session = match response.location() {
            Ok(location) => session.moved_to(location),
            Err(_) => session,
        };
        if let Some(held) =
            response.parsed_header(RANGE.as_str(), |text| upload_offset(text, true))?
        {
            session.set_offset(held);
        }
        Ok(session)
    }

    /// A progress counter for an upload into `session`'s repository.
    fn upload_tracker(
        &self,
        session: &UploadSession,
        digest: &Digest,
        total: Option<u64>,
    ) -> Tracker {
        self.tracker(Direction::Upload, session.repository(), digest, total)
    }
}

/// Reads a stream of at most `size` bytes into memory.
async fn collect(mut body: ByteStream, size: u64) -> Result<Bytes, Error> {
    let mut buffer = BytesMut::with_capacity(usize::try_from(size).unwrap_or(0));
    while let Some(piece) = body.next().await {
        let piece = piece.map_err(Error::Source)?;
        if buffer.len() as u64 + piece.len() as u64 > size {
            return Err(Error::Source(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the blob source holds more than the {size} bytes announced"),
            )));
        }
        buffer.extend_from_slice(&piece);
    }
    Ok(buffer.freeze())
}

/// Counts the bytes of `body` as they are read (sent).
fn tracked<S>(
    body: S,
    mut tracker: Tracker,
) -> impl Stream<Item = Result<Bytes, io::Error>> + Send + 'static
where
    S: Stream<Item = Result<Bytes, io::Error>> + Send + 'static,
{
    body.map(move |piece| {
        if let Ok(piece) = &piece {
            tracker.advance(piece.len() as u64);
        }
        piece
    })
}
