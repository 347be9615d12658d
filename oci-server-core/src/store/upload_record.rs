//! Where an upload session's progress is kept, and what a crash may cost of it.
//!
//! A session has two records beside its data, both written by the store:
//! - the **state** (`uploads/<id>/state`), written durably, and only once the bytes it counts
//!   are durable: when the session starts, and at checkpoints (every [`CHECKPOINT`] bytes);
//! - the **progress** (`uploads/<id>/progress`), written after every chunk without waiting
//!   for the disk (neither the chunk's bytes nor the record are synced), stamped with the
//!   backend's [volatile epoch](crate::storage::Storage::volatile_epoch).
//!
//! **Why.** Syncing the chunk and then the state (a staged file, its fsync, a rename and the
//! folder's fsync) after every `PATCH` cost three journal commits per chunk on ext4, and a
//! chunked upload ran at two thirds of the speed of a streamed one. Within one epoch (for a
//! local filesystem, one boot of the machine) every process sharing the store reads the same
//! kernel cache, so the progress and the bytes it counts are there for all of them, whether or
//! not they have reached the disk: a killed server loses nothing of them.
//!
//! **What a machine crash costs.** A new epoch: the progress is ignored and the session
//! resumes from its state, whose bytes were synced before it was written. The client sees
//! that smaller offset in the upload's status (or in the `416` of its next chunk) and sends
//! the rest again from there: at most [`CHECKPOINT`] bytes twice, never a wrong byte, since
//! the next write discards everything past the offset and the final digest is of the bytes
//! the offset counts. A `201` is unaffected: finishing syncs the data before the blob is
//! published.
//!
//! A backend without an epoch (an object store, whose every write is durable) gets its state
//! after every chunk and never a progress record.

use oci_digest::{Algorithm, Digester};
use serde::{Deserialize, Serialize};

use super::{Store, corrupt, json_of};
use crate::{
    error::Error,
    names::{RepoName, UploadId},
    storage::{Durability, Key},
};

/// The durable state is brought up to date, and the data synced, at least every this many
/// bytes: what a machine crash may cost a chunked upload, to be sent again.
pub(crate) const CHECKPOINT: u64 = if cfg!(test) { 4 << 10 } else { 128 << 20 };

/// Where an upload session stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadSession {
    /// The session id.
    pub id: UploadId,
    /// Bytes received so far.
    pub offset: u64,
    /// Bytes the durable state counts (all durable); up to `offset`.
    pub(super) durable: u64,
    pub(super) algorithm: Algorithm,
    pub(super) hash_state: Vec<u8>,
}

impl UploadSession {
    /// A new session at offset 0.
    pub(super) fn start(algorithm: &Algorithm, digester: &Digester) -> Self {
        Self {
            id: UploadId::random(),
            offset: 0,
            durable: 0,
            algorithm: algorithm.clone(),
            hash_state: digester.save_state(),
        }
    }

    /// The hashing state after the bytes received so far.
    pub(super) fn digester(&self) -> Result<Digester, Error> {
        Digester::restore_state(&self.algorithm, &self.hash_state)
            .map_err(|_| corrupt(&Key::upload_state(&self.id), "bad saved hashing state"))
    }

    /// Whether bytes past the durable state may not be durable yet.
    pub(super) fn unsynced(&self) -> bool {
        self.offset > self.durable
    }
}

/// The persisted form of a session (the state, or the progress with its epoch).
#[derive(Debug, Serialize, Deserialize)]
struct SessionRecord {
    repository: String,
    offset: u64,
    algorithm: String,
    hash_state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    epoch: Option<String>,
}

impl SessionRecord {
    fn of(name: &RepoName, session: &UploadSession, epoch: Option<&str>) -> Self {
        Self {
            repository: name.as_str().to_owned(),
            offset: session.offset,
            algorithm: session.algorithm.as_str().to_owned(),
            hash_state: hex::encode(&session.hash_state),
            epoch: epoch.map(str::to_owned),
        }
    }
}

impl Store {
    /// How the chunks of a request go to the backend: deferred where progress can be
    /// recorded with an epoch, durable at once elsewhere.
    pub(super) fn chunk_durability(&self) -> Durability {
        match self.storage.volatile_epoch() {
            Some(_) => Durability::Deferred,
            None => Durability::Now,
        }
    }

    /// The session `id` of repository `name`: its durable state, or its progress when that is
    /// of this epoch and further on.
    pub(super) async fn read_session(
        &self,
        name: &RepoName,
        id: &UploadId,
    ) -> Result<UploadSession, Error> {
        let key = Key::upload_state(id);
        let progress = async {
            match self.storage.volatile_epoch() {
                Some(_) => self.storage.meta_get(&Key::upload_progress(id)).await,
                None => Ok(None),
            }
        };
        let (state, progress) =
            futures_util::join!(self.read_json::<SessionRecord>(&key), progress);
        let state = state?
            .filter(|r| r.repository == name.as_str())
            .ok_or_else(|| Error::UploadUnknown { id: id.to_string() })?;
        let durable = state.offset;
        let newer = progress?
            .and_then(|bytes| serde_json::from_slice::<SessionRecord>(&bytes).ok())
            .filter(|p| {
                p.epoch.is_some()
                    && p.epoch.as_deref() == self.storage.volatile_epoch()
                    && p.repository == state.repository
                    && p.algorithm == state.algorithm
                    && p.offset > state.offset
            });
        let record = newer.unwrap_or(state);
        let hash_state =
            hex::decode(&record.hash_state).map_err(|_| corrupt(&key, "hash state not hex"))?;
        let algorithm = record
            .algorithm
            .parse()
            .map_err(|_| corrupt(&key, "unknown algorithm"))?;
        Ok(UploadSession {
            id: id.clone(),
            offset: record.offset,
            durable,
            algorithm,
            hash_state,
        })
    }

    /// Writes the durable state of a session whose data is durable up to its offset.
    pub(super) async fn save_state(
        &self,
        name: &RepoName,
        session: &mut UploadSession,
    ) -> Result<(), Error> {
        let record = SessionRecord::of(name, session, None);
        self.write_json(&Key::upload_state(&session.id), &record)
            .await?;
        session.durable = session.offset;
        Ok(())
    }

    /// Records the progress after a chunk written with [`chunk_durability`]: as progress of
    /// this epoch, or (without an epoch, or at a checkpoint) as the durable state, syncing
    /// the data first when its writes were deferred.
    ///
    /// [`chunk_durability`]: Self::chunk_durability
    pub(super) async fn record_progress(
        &self,
        name: &RepoName,
        session: &mut UploadSession,
    ) -> Result<(), Error> {
        let epoch = self.storage.volatile_epoch();
        match epoch {
            Some(_) if session.offset - session.durable < CHECKPOINT => {
                let key = Key::upload_progress(&session.id);
                let record = json_of(&key, &SessionRecord::of(name, session, epoch))?;
                Ok(self.storage.meta_put_volatile(&key, record).await?)
            }
            Some(_) => {
                self.storage.upload_sync(&session.id).await?;
                self.save_state(name, session).await
            }
            None => self.save_state(name, session).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use futures_util::stream;
    use oci_digest::Digest;

    use super::*;
    use crate::store::{Chunk, backends};

    fn chunk(bytes: impl Into<Bytes>) -> Chunk<'static> {
        let bytes = bytes.into();
        Chunk {
            declared_len: Some(bytes.len() as u64),
            data: Box::pin(stream::iter([Ok(bytes)])),
        }
    }

    async fn blob_content(store: &Store, digest: &Digest) -> Vec<u8> {
        let mut data = store
            .storage()
            .blob_read(digest, None)
            .await
            .expect("read")
            .expect("the blob is there");
        let mut content = Vec::new();
        while let Some(bytes) = futures_util::StreamExt::next(&mut data).await {
            content.extend_from_slice(&bytes.expect("bytes"));
        }
        content
    }

    /// Rewrites the session's progress record as a machine crash leaves it to the next boot:
    /// with another epoch (`Some`), or damaged (`None`). `false` when the backend wrote no
    /// progress record (it has no epoch: every chunk went to the durable state).
    async fn crash(store: &Store, id: &UploadId, epoch: Option<&str>) -> bool {
        let key = Key::upload_progress(id);
        let Some(bytes) = store.storage().meta_get(&key).await.expect("read") else {
            return false;
        };
        let left = match epoch {
            Some(epoch) => {
                let mut record: serde_json::Value =
                    serde_json::from_slice(&bytes).expect("a progress record");
                record["epoch"] = epoch.into();
                Bytes::from(serde_json::to_vec(&record).expect("json"))
            }
            None => Bytes::from_static(b"{\"repos"),
        };
        store.storage().meta_put(&key, left).await.expect("write");
        true
    }

    #[tokio::test]
    async fn after_a_machine_crash_the_session_resumes_from_its_durable_state() {
        for left in [Some("the boot before the crash"), None] {
            for (storage, _dir) in backends().await {
                let store = Store::new(storage);
                let name = RepoName::parse("r").expect("name");
                let session = store.upload_start(&name, &Algorithm::Sha256).await;
                let id = session.expect("start").id;
                let appended = store.upload_append(&name, &id, Some(0), chunk(&b"hello "[..]));
                assert_eq!(appended.await.expect("append").offset, 6);
                let offset = match crash(&store, &id, left).await {
                    true => 0,
                    false => 6,
                };
                let status = store.upload_status(&name, &id).await.expect("status");
                assert_eq!(status.offset, offset, "the offset the client resumes from");
                let rest = Bytes::from_static(b"hello world").slice(offset as usize..);
                let appended = store.upload_append(&name, &id, Some(offset), chunk(rest));
                assert_eq!(appended.await.expect("append").offset, 11);
                let digest = Digest::compute(b"hello world");
                let finished = store.upload_finish(&name, &id, &digest, None, None);
                assert_eq!(finished.await.expect("finish"), 11);
                assert_eq!(blob_content(&store, &digest).await, b"hello world");
            }
        }
    }

    #[tokio::test]
    async fn a_checkpoint_makes_the_progress_durable() {
        for (storage, _dir) in backends().await {
            let store = Store::new(storage);
            let name = RepoName::parse("r").expect("name");
            let session = store.upload_start(&name, &Algorithm::Sha256).await;
            let id = session.expect("start").id;
            let half = (CHECKPOINT / 2) as usize;
            let (first, second) = (vec![1u8; half], vec![2u8; half]);
            let digest = Digest::compute(&[first.as_slice(), &second].concat());
            let appended = store.upload_append(&name, &id, Some(0), chunk(first));
            let deferred = store.storage().volatile_epoch().is_some();
            assert_eq!(appended.await.expect("append").unsynced(), deferred);
            let appended = store.upload_append(&name, &id, None, chunk(second));
            let session = appended.await.expect("append");
            assert!(!session.unsynced(), "a checkpoint was due");
            crash(&store, &id, Some("the boot before the crash")).await;
            let status = store.upload_status(&name, &id).await.expect("status");
            assert_eq!(status.offset, 2 * half as u64, "the checkpoint survives");
            let finished = store.upload_finish(&name, &id, &digest, None, None);
            assert_eq!(finished.await.expect("finish"), 2 * half as u64);
        }
    }
}
