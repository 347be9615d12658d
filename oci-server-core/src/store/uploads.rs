//! Upload sessions. The data lives in the backend; small records hold the offset and the
//! saved hashing state, so hashing resumes where it stopped, even after a restart (what is
//! recorded when, and what a crash costs, is in [`upload_record`](super::upload_record)).
//!
//! A request on a session holds the session's lock (one request at a time) and its liveness
//! heartbeat (garbage collection leaves a session alone while a request holds it, however
//! long the request takes).

use futures_util::{StreamExt, TryStreamExt, stream};
use oci_digest::{Algorithm, Digest, Digester, KeyedGuard};

pub use super::upload_record::UploadSession;
use super::{Store, liveness::Heartbeat};
use crate::{
    body::ByteStream,
    error::{Error, StorageError},
    names::{RepoName, UploadId},
    routes::upload_location,
    storage::{Durability, Key},
};

/// A body to append: the stream and the length the client declared, when it did.
pub struct Chunk<'a> {
    /// The bytes.
    pub data: ByteStream<'a>,
    /// The declared length (`Content-Length`, or the span of `Content-Range`).
    pub declared_len: Option<u64>,
}

impl Store {
    /// Starts a session hashing with `algorithm`, unless the upload caps are reached.
    pub async fn upload_start(
        &self,
        name: &RepoName,
        algorithm: &Algorithm,
    ) -> Result<UploadSession, Error> {
        let digester = new_digester(algorithm)?;
        let mut session = UploadSession::start(algorithm, &digester);
        self.claim_upload_slot(name, &session.id).await?;
        let created = async {
            self.storage.upload_create(&session.id).await?;
            self.save_state(name, &mut session).await
        };
        if let Err(e) = created.await {
            self.upload_slots.release(&session.id);
            return Err(e);
        }
        Ok(session)
    }

    /// The session `id` of repository `name`.
    pub async fn upload_status(
        &self,
        name: &RepoName,
        id: &UploadId,
    ) -> Result<UploadSession, Error> {
        self.read_session(name, id).await
    }

    /// Appends a chunk. With `start`, the chunk must begin where the upload ends (else 416).
    pub async fn upload_append(
        &self,
        name: &RepoName,
        id: &UploadId,
        start: Option<u64>,
        chunk: Chunk<'_>,
    ) -> Result<UploadSession, Error> {
        let (_held, mut session) = self.hold(name, id).await?;
        check_start(name, &session, start)?;
        let durability = self.chunk_durability();
        if self.append_locked(&mut session, chunk, durability).await? {
            self.record_progress(name, &mut session).await?;
        }
        Ok(session)
    }

    /// Refuses (416) a chunk starting at `start` unless the upload ends there.
    pub async fn upload_check_start(
        &self,
        name: &RepoName,
        id: &UploadId,
        start: u64,
    ) -> Result<(), Error> {
        let session = self.read_session(name, id).await?;
        check_start(name, &session, Some(start))
    }

    /// Ends a session: appends the optional last chunk (which, given `start`, must begin where
    /// the upload ends), checks the content against `expected`, moves it into the blob store
    /// and links it into `name`. Returns the blob's size.
    pub async fn upload_finish(
        &self,
        name: &RepoName,
        id: &UploadId,
        expected: &Digest,
        start: Option<u64>,
        last_chunk: Option<Chunk<'_>>,
    ) -> Result<u64, Error> {
        let (_held, mut session) = self.hold(name, id).await?;
        check_start(name, &session, start)?;
        if session.algorithm != *expected.algorithm() {
            self.switch_algorithm(&mut session, expected.algorithm())
                .await?;
        }
        // Nothing is recorded from here on: the session either ends, or stays as its records
        // say (the next write discards the bytes past their offset).
        let wrote = match last_chunk {
            Some(chunk) => {
                self.append_locked(&mut session, chunk, Durability::Now)
                    .await?
            }
            None => false,
        };
        if !wrote && session.unsynced() {
            self.storage.upload_sync(id).await?;
        }
        let found = session.digester()?.finish();
        if found != *expected {
            return Err(Error::DigestMismatch {
                expected: expected.clone(),
                found,
            });
        }
        // Content already stored is acknowledged like a new blob: committing it skips the
        // write, so without a fresh mark a sweep could remove it right after this 201.
        self.keep_if_present(expected).await?;
        self.storage
            .upload_commit(id, session.offset, expected)
            .await?;
        self.link_blob(name, expected).await?;
        self.forget_upload(id).await?;
        Ok(session.offset)
    }

    /// Stores a whole blob sent in one request (POST `?digest=`).
    pub async fn put_blob(
        &self,
        name: &RepoName,
        digest: &Digest,
        chunk: Chunk<'_>,
    ) -> Result<u64, Error> {
        let session = self.upload_start(name, digest.algorithm()).await?;
        let finished = self
            .upload_finish(name, &session.id, digest, None, Some(chunk))
            .await;
        if finished.is_err() {
            self.storage.upload_delete(&session.id).await?;
            self.forget_upload(&session.id).await?;
        }
        finished
    }

    /// Cancels a session and drops its data.
    pub async fn upload_cancel(&self, name: &RepoName, id: &UploadId) -> Result<(), Error> {
        let _held = self.hold(name, id).await?;
        self.storage.upload_delete(id).await?;
        self.forget_upload(id).await?;
        Ok(())
    }

    /// Takes the session's lock, then its liveness mark (in that order, so a request waiting
    /// for the lock holds no heartbeat). An id that names no session of `name` gets neither:
    /// requests with invented ids leave nothing behind.
    ///
    /// The session is read once, under the lock (an earlier read could be stale by the time
    /// the lock is taken); an unknown id leaves no lock entry behind, since the entry goes
    /// with its last holder.
    async fn hold(&self, name: &RepoName, id: &UploadId) -> Result<(Held, UploadSession), Error> {
        let lock = self.locks.lock(id).await;
        let session = self.read_session(name, id).await?;
        let heartbeat = self.hold_upload(id).await?;
        let held = Held {
            _heartbeat: heartbeat,
            _lock: lock,
        };
        Ok((held, session))
    }

    /// Writes a chunk at the session's offset and advances the session in memory (the caller
    /// records it); `false` when the chunk was empty and nothing was written.
    async fn append_locked(
        &self,
        session: &mut UploadSession,
        chunk: Chunk<'_>,
        durability: Durability,
    ) -> Result<bool, Error> {
        let mut data = chunk.data;
        let Some(first) = data.next().await else {
            return match chunk.declared_len.filter(|&len| len != 0) {
                Some(expected) => Err(Error::SizeMismatch { expected, found: 0 }),
                None => Ok(false),
            };
        };
        let mut digester = session.digester()?;
        let hashed = stream::once(async { first })
            .chain(data)
            .inspect_ok(|bytes| digester.update(bytes));
        let written = self
            .storage
            .upload_write(&session.id, session.offset, Box::pin(hashed), durability)
            .await?;
        if let Some(expected) = chunk.declared_len.filter(|&len| len != written) {
            return Err(Error::SizeMismatch {
                expected,
                found: written,
            });
        }
        session.offset += written;
        session.hash_state = digester.save_state();
        Ok(true)
    }

    /// The client finishes with a digest of another algorithm than the session hashed with:
    /// hash what was received so far again with that algorithm (for this request only: the
    /// records keep the session's own algorithm).
    async fn switch_algorithm(
        &self,
        session: &mut UploadSession,
        algorithm: &Algorithm,
    ) -> Result<(), Error> {
        let mut digester = new_digester(algorithm)?;
        let mut data = self
            .storage
            .upload_read(&session.id, session.offset)
            .await?;
        while let Some(bytes) = data.next().await {
            let bytes = bytes.map_err(|e| {
                let key = Key::upload_state(&session.id).to_path_string();
                Error::Storage(StorageError::io("read back upload", key, e))
            })?;
            digester.update(&bytes);
        }
        session.algorithm = algorithm.clone();
        session.hash_state = digester.save_state();
        Ok(())
    }
}

/// A request's hold on a session; the heartbeat stops before the lock is released.
struct Held {
    _heartbeat: Heartbeat,
    _lock: KeyedGuard<UploadId>,
}

/// A chunk must start exactly where the upload ends.
fn check_start(name: &RepoName, session: &UploadSession, start: Option<u64>) -> Result<(), Error> {
    match start {
        Some(start) if start != session.offset => Err(Error::UploadOutOfOrder {
            offset: session.offset,
            start,
            location: upload_location(name, &session.id),
        }),
        _ => Ok(()),
    }
}

fn new_digester(algorithm: &Algorithm) -> Result<Digester, Error> {
    Digester::new(algorithm).map_err(|_| Error::UnsupportedAlgorithm {
        algorithm: algorithm.as_str().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use futures_util::stream;

    use super::*;
    use crate::storage::MemoryStorage;

    fn chunk(bytes: &'static [u8]) -> Chunk<'static> {
        Chunk {
            data: Box::pin(stream::iter([Ok(bytes::Bytes::from_static(bytes))])),
            declared_len: Some(bytes.len() as u64),
        }
    }

    #[tokio::test]
    async fn requests_leave_no_lock_behind() {
        let store = Store::new(Arc::new(MemoryStorage::new()));
        let name = RepoName::parse("a").expect("name");
        let digest = Digest::compute(b"data");
        for _ in 0..1000 {
            let unknown = UploadId::random();
            let appended = store
                .upload_append(&name, &unknown, None, chunk(b"x"))
                .await;
            assert!(matches!(appended, Err(Error::UploadUnknown { .. })));
            let finished = store.upload_finish(&name, &unknown, &digest, None, None);
            assert!(matches!(finished.await, Err(Error::UploadUnknown { .. })));
            let cancelled = store.upload_cancel(&name, &unknown).await;
            assert!(matches!(cancelled, Err(Error::UploadUnknown { .. })));
        }
        assert_eq!(store.locks.len(), 0);

        let session = store
            .upload_start(&name, &Algorithm::Sha256)
            .await
            .expect("start");
        store
            .upload_append(&name, &session.id, Some(0), chunk(b"da"))
            .await
            .expect("append");
        assert_eq!(
            store.locks.len(),
            0,
            "a finished request releases its entry"
        );
        store
            .upload_finish(&name, &session.id, &digest, Some(2), Some(chunk(b"ta")))
            .await
            .expect("finish");
        assert_eq!(store.locks.len(), 0);
    }
}
