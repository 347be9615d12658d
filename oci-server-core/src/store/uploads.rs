//! Upload sessions. The data lives in the backend; a small state object holds the offset and
//! the saved hashing state, so hashing resumes where it stopped, even after a restart. The
//! state is written only after the data it covers is durable: on a crash the state is the
//! truth and any bytes past its offset are discarded by the next write.
//!
//! A request on a session holds the session's lock (one request at a time) and its liveness
//! heartbeat (garbage collection leaves a session alone while a request holds it, however
//! long the request takes).

use futures_util::{StreamExt, TryStreamExt};
use oci_digest::{Algorithm, Digest, Digester, KeyedGuard};
use serde::{Deserialize, Serialize};

use super::{Store, corrupt, liveness::Heartbeat};
use crate::{
    body::ByteStream,
    error::{Error, StorageError},
    names::{RepoName, UploadId},
    routes::upload_location,
    storage::Key,
};

/// Where an upload session stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadSession {
    /// The session id.
    pub id: UploadId,
    /// Bytes received so far.
    pub offset: u64,
    algorithm: Algorithm,
    hash_state: Vec<u8>,
}

/// The persisted form of a session.
#[derive(Debug, Serialize, Deserialize)]
struct SessionRecord {
    repository: String,
    offset: u64,
    algorithm: String,
    hash_state: String,
}

impl UploadSession {
    fn digester(&self, key: &Key) -> Result<Digester, Error> {
        Digester::restore_state(&self.algorithm, &self.hash_state)
            .map_err(|_| corrupt(key, "bad saved hashing state"))
    }
}

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
        let session = UploadSession {
            id: UploadId::random(),
            offset: 0,
            algorithm: algorithm.clone(),
            hash_state: digester.save_state(),
        };
        self.claim_upload_slot(name, &session.id).await?;
        let created = async {
            self.storage.upload_create(&session.id).await?;
            self.save_session(name, &session).await
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
        let key = Key::upload_state(id);
        let record: Option<SessionRecord> = self.read_json(&key).await?;
        let record = record
            .filter(|r| r.repository == name.as_str())
            .ok_or_else(|| Error::UploadUnknown { id: id.to_string() })?;
        let hash_state =
            hex::decode(&record.hash_state).map_err(|_| corrupt(&key, "hash state not hex"))?;
        let algorithm = record
            .algorithm
            .parse()
            .map_err(|_| corrupt(&key, "unknown algorithm"))?;
        Ok(UploadSession {
            id: id.clone(),
            offset: record.offset,
            algorithm,
            hash_state,
        })
    }

    /// Appends a chunk. With `start`, the chunk must begin where the upload ends (else 416).
    pub async fn upload_append(
        &self,
        name: &RepoName,
        id: &UploadId,
        start: Option<u64>,
        chunk: Chunk<'_>,
    ) -> Result<UploadSession, Error> {
        let _held = self.hold(name, id).await?;
        let mut session = self.upload_status(name, id).await?;
        check_start(name, &session, start)?;
        self.append_locked(name, &mut session, chunk).await?;
        Ok(session)
    }

    /// Refuses (416) a chunk starting at `start` unless the upload ends there.
    pub async fn upload_check_start(
        &self,
        name: &RepoName,
        id: &UploadId,
        start: u64,
    ) -> Result<(), Error> {
        let session = self.upload_status(name, id).await?;
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
        let _held = self.hold(name, id).await?;
        let mut session = self.upload_status(name, id).await?;
        check_start(name, &session, start)?;
        if session.algorithm != *expected.algorithm() {
            self.switch_algorithm(name, &mut session, expected.algorithm())
                .await?;
        }
        if let Some(chunk) = last_chunk {
            self.append_locked(name, &mut session, chunk).await?;
        }
        let found = session.digester(&Key::upload_state(id))?.finish();
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
        self.upload_status(name, id).await?;
        self.storage.upload_delete(id).await?;
        self.forget_upload(id).await?;
        Ok(())
    }

    /// Takes the session's lock, then its liveness mark (in that order, so a request waiting
    /// for the lock holds no heartbeat). An id that names no session of `name` gets neither:
    /// requests with invented ids leave nothing behind.
    async fn hold(&self, name: &RepoName, id: &UploadId) -> Result<Held, Error> {
        self.upload_status(name, id).await?;
        let lock = self.locks.lock(id).await;
        let heartbeat = self.hold_upload(id).await?;
        Ok(Held {
            _heartbeat: heartbeat,
            _lock: lock,
        })
    }

    async fn append_locked(
        &self,
        name: &RepoName,
        session: &mut UploadSession,
        chunk: Chunk<'_>,
    ) -> Result<(), Error> {
        let mut digester = session.digester(&Key::upload_state(&session.id))?;
        let hashed = chunk.data.inspect_ok(|bytes| digester.update(bytes));
        let written = self
            .storage
            .upload_write(&session.id, session.offset, Box::pin(hashed))
            .await?;
        if let Some(expected) = chunk.declared_len.filter(|&len| len != written) {
            return Err(Error::SizeMismatch {
                expected,
                found: written,
            });
        }
        session.offset += written;
        session.hash_state = digester.save_state();
        self.save_session(name, session).await
    }

    /// The client finishes with a digest of another algorithm than the session hashed with:
    /// hash what was received so far again with that algorithm.
    async fn switch_algorithm(
        &self,
        name: &RepoName,
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
        self.save_session(name, session).await
    }

    async fn save_session(&self, name: &RepoName, session: &UploadSession) -> Result<(), Error> {
        let record = SessionRecord {
            repository: name.as_str().to_owned(),
            offset: session.offset,
            algorithm: session.algorithm.as_str().to_owned(),
            hash_state: hex::encode(&session.hash_state),
        };
        self.write_json(&Key::upload_state(&session.id), &record)
            .await
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
