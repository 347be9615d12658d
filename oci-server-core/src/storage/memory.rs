//! An in-memory backend for tests and demos. It holds whole blobs in memory by nature, so it
//! is not meant for real content; the filesystem backend is.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::{Mutex, MutexGuard, PoisonError},
    time::{Duration, SystemTime},
};

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use oci_digest::Digest;

use super::{BlobInfo, Durability, Key, Storage, StorageFuture};
use crate::{body::ByteStream, error::StorageError, names::UploadId, range::ByteRange};

/// A [`Storage`] in process memory; everything is lost when it is dropped.
#[derive(Debug, Default)]
pub struct MemoryStorage {
    state: Mutex<State>,
}

/// A stored value and when it was written.
type Stamped = (Bytes, SystemTime);

/// An upload session's data so far, and when the session was created.
#[derive(Debug)]
struct Upload {
    data: BytesMut,
    created: SystemTime,
}

#[derive(Debug, Default)]
struct State {
    blobs: HashMap<Digest, Stamped>,
    uploads: HashMap<UploadId, Upload>,
    meta: BTreeMap<String, Stamped>,
}

impl MemoryStorage {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes everything stored look `by` older (blobs, metadata, upload sessions), so tests
    /// of time-based behaviour such as garbage collection need not wait.
    pub fn age_by(&self, by: Duration) {
        let older = |t: &mut SystemTime| *t = t.checked_sub(by).unwrap_or(SystemTime::UNIX_EPOCH);
        let mut state = self.state();
        state.blobs.values_mut().for_each(|(_, t)| older(t));
        state.meta.values_mut().for_each(|(_, t)| older(t));
        state
            .uploads
            .values_mut()
            .for_each(|u| older(&mut u.created));
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the maps half-updated: every update is one insert.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn one_chunk(bytes: Bytes) -> ByteStream<'static> {
    Box::pin(futures_util::stream::iter([Ok(bytes)]))
}

fn missing(id: &UploadId) -> StorageError {
    StorageError::UploadMissing { id: id.to_string() }
}

/// Removes the records an upload session keeps beside its data.
fn forget_records(meta: &mut BTreeMap<String, Stamped>, id: &UploadId) {
    for key in [Key::upload_state(id), Key::upload_progress(id)] {
        meta.remove(&key.to_path_string());
    }
}

impl Storage for MemoryStorage {
    fn blob_size<'a>(&'a self, digest: &'a Digest) -> StorageFuture<'a, Option<u64>> {
        let size = self.state().blobs.get(digest).map(|(b, _)| b.len() as u64);
        Box::pin(async move { Ok(size) })
    }

    fn blob_modified<'a>(&'a self, digest: &'a Digest) -> StorageFuture<'a, Option<SystemTime>> {
        let modified = self.state().blobs.get(digest).map(|(_, t)| *t);
        Box::pin(async move { Ok(modified) })
    }

    fn blob_read<'a>(
        &'a self,
        digest: &'a Digest,
        range: Option<ByteRange>,
    ) -> StorageFuture<'a, Option<ByteStream<'static>>> {
        let blob = self.state().blobs.get(digest).map(|(b, _)| b.clone());
        Box::pin(async move {
            Ok(blob.map(|blob| match range {
                Some(r) => one_chunk(blob.slice(r.start as usize..=r.end as usize)),
                None => one_chunk(blob),
            }))
        })
    }

    fn blob_put<'a>(&'a self, digest: &'a Digest, content: Bytes) -> StorageFuture<'a, ()> {
        self.state()
            .blobs
            .insert(digest.clone(), (content, SystemTime::now()));
        Box::pin(async { Ok(()) })
    }

    fn upload_create<'a>(&'a self, id: &'a UploadId) -> StorageFuture<'a, ()> {
        let upload = Upload {
            data: BytesMut::new(),
            created: SystemTime::now(),
        };
        self.state().uploads.insert(id.clone(), upload);
        Box::pin(async { Ok(()) })
    }

    fn upload_write<'a>(
        &'a self,
        id: &'a UploadId,
        offset: u64,
        mut data: ByteStream<'a>,
        _durability: Durability,
    ) -> StorageFuture<'a, u64> {
        Box::pin(async move {
            let mut incoming = BytesMut::new();
            while let Some(chunk) = data.next().await {
                incoming.extend_from_slice(&chunk.map_err(StorageError::Source)?);
            }
            let mut state = self.state();
            let upload = state.uploads.get_mut(id).ok_or_else(|| missing(id))?;
            upload.data.truncate(offset as usize);
            upload.data.extend_from_slice(&incoming);
            Ok(incoming.len() as u64)
        })
    }

    fn upload_read<'a>(
        &'a self,
        id: &'a UploadId,
        len: u64,
    ) -> StorageFuture<'a, ByteStream<'static>> {
        let data = self.state().uploads.get(id).map(|u| {
            let data = u.data.clone().freeze();
            data.slice(..(len as usize).min(data.len()))
        });
        Box::pin(async move { data.map(one_chunk).ok_or_else(|| missing(id)) })
    }

    fn upload_commit<'a>(
        &'a self,
        id: &'a UploadId,
        size: u64,
        digest: &'a Digest,
    ) -> StorageFuture<'a, ()> {
        let mut state = self.state();
        let committed = state.uploads.remove(id).map(|Upload { mut data, .. }| {
            data.truncate(size as usize);
            state
                .blobs
                .insert(digest.clone(), (data.freeze(), SystemTime::now()));
            forget_records(&mut state.meta, id);
        });
        Box::pin(async move { committed.ok_or_else(|| missing(id)) })
    }

    fn upload_created<'a>(&'a self, id: &'a UploadId) -> StorageFuture<'a, Option<SystemTime>> {
        let created = self.state().uploads.get(id).map(|u| u.created);
        Box::pin(async move { Ok(created) })
    }

    fn upload_delete<'a>(&'a self, id: &'a UploadId) -> StorageFuture<'a, bool> {
        let mut state = self.state();
        let existed = state.uploads.remove(id).is_some();
        forget_records(&mut state.meta, id);
        Box::pin(async move { Ok(existed) })
    }

    fn meta_get<'a>(&'a self, key: &'a Key) -> StorageFuture<'a, Option<Bytes>> {
        let value = self
            .state()
            .meta
            .get(&key.to_path_string())
            .map(|(v, _)| v.clone());
        Box::pin(async move { Ok(value) })
    }

    fn meta_put<'a>(&'a self, key: &'a Key, value: Bytes) -> StorageFuture<'a, ()> {
        self.state()
            .meta
            .insert(key.to_path_string(), (value, SystemTime::now()));
        Box::pin(async { Ok(()) })
    }

    fn meta_delete<'a>(&'a self, key: &'a Key) -> StorageFuture<'a, bool> {
        let existed = self.state().meta.remove(&key.to_path_string()).is_some();
        Box::pin(async move { Ok(existed) })
    }

    fn meta_modified<'a>(&'a self, key: &'a Key) -> StorageFuture<'a, Option<SystemTime>> {
        let modified = self
            .state()
            .meta
            .get(&key.to_path_string())
            .map(|(_, t)| *t);
        Box::pin(async move { Ok(modified) })
    }

    fn blob_list(&self) -> StorageFuture<'_, Vec<BlobInfo>> {
        let blobs = self
            .state()
            .blobs
            .iter()
            .map(|(digest, (bytes, modified))| BlobInfo {
                digest: digest.clone(),
                size: bytes.len() as u64,
                modified: *modified,
            })
            .collect();
        Box::pin(async move { Ok(blobs) })
    }

    fn blob_delete<'a>(&'a self, digest: &'a Digest) -> StorageFuture<'a, bool> {
        let existed = self.state().blobs.remove(digest).is_some();
        Box::pin(async move { Ok(existed) })
    }

    fn meta_list<'a>(&'a self, folder: &'a Key) -> StorageFuture<'a, Vec<String>> {
        let prefix = format!("{}/", folder.to_path_string());
        let state = self.state();
        let mut children: BTreeSet<String> = state
            .meta
            .range(prefix.clone()..)
            .map(|(k, _)| k)
            .take_while(|k| k.starts_with(&prefix))
            .filter_map(|k| k[prefix.len()..].split('/').next().map(str::to_owned))
            .collect();
        // As on the other backends, a session's data lives in its folder under `uploads`, so
        // a session shows there even before its state object is written.
        if *folder == Key::uploads() {
            children.extend(state.uploads.keys().map(|id| id.as_str().to_owned()));
        }
        Box::pin(async move { Ok(children.into_iter().collect()) })
    }
}
