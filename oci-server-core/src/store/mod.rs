//! The repository model on top of a [`Storage`]: which blobs a repository may see, its
//! manifests, tags and referrers, upload sessions with resumable hashing, and the catalog.
//! Handlers speak to this layer; it speaks to the backend only through the `Storage` trait.

mod catalog;
pub(crate) mod liveness;
mod manifest_cache;
mod manifests;
mod referrers;
mod tag_index;
mod tags;
mod upload_record;
mod upload_slots;
mod uploads;

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use oci_digest::{Digest, KeyedLocks};

pub use self::uploads::{Chunk, UploadSession};
use self::{
    catalog::CatalogNames, liveness::Liveness, manifest_cache::ManifestCache,
    tag_index::IndexedRepositories, upload_slots::UploadSlots,
};
use crate::{
    config::DEFAULT_LIVENESS_REFRESH,
    error::{Error, StorageError},
    names::RepoName,
    storage::{Key, Storage},
    upload_limits::UploadLimits,
};

/// Repository-level operations over a storage backend. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    storage: Arc<dyn Storage>,
    /// One request at a time per upload session.
    locks: KeyedLocks<crate::names::UploadId>,
    /// One writer at a time per tag (see `tags`).
    tag_locks: KeyedLocks<Key>,
    /// Repositories known to have a complete reverse tag index (see `tag_index`).
    indexed_repositories: Arc<IndexedRepositories>,
    /// Repositories known to have their catalog entry (see `catalog`).
    catalog_names: Arc<CatalogNames>,
    /// Verified manifest content by digest (see `manifest_cache`).
    manifest_cache: Arc<ManifestCache>,
    liveness: Arc<Liveness>,
    /// The count of open upload sessions under their caps.
    upload_slots: Arc<UploadSlots>,
}

impl Store {
    /// Wraps a backend, writing liveness marks at most every [`DEFAULT_LIVENESS_REFRESH`].
    pub fn new(storage: Arc<dyn Storage>) -> Self {
        Self::with_liveness_refresh(storage, DEFAULT_LIVENESS_REFRESH)
    }

    /// Wraps a backend, writing a blob's liveness mark at most once per `refresh` (see
    /// [`liveness`]).
    pub fn with_liveness_refresh(storage: Arc<dyn Storage>, refresh: Duration) -> Self {
        Self {
            storage,
            locks: KeyedLocks::default(),
            tag_locks: KeyedLocks::default(),
            indexed_repositories: Arc::default(),
            catalog_names: Arc::default(),
            manifest_cache: Arc::default(),
            liveness: Arc::new(Liveness::new(refresh)),
            upload_slots: Arc::new(UploadSlots::new(UploadLimits::default())),
        }
    }

    /// The same store, capping open upload sessions at `limits`.
    pub fn with_upload_limits(self, limits: UploadLimits) -> Self {
        Self {
            upload_slots: Arc::new(UploadSlots::new(limits)),
            ..self
        }
    }

    /// The backend.
    pub fn storage(&self) -> &dyn Storage {
        self.storage.as_ref()
    }

    /// The backend, shared.
    pub fn storage_arc(&self) -> Arc<dyn Storage> {
        Arc::clone(&self.storage)
    }

    /// The size of a blob when it is linked into `name` and present in the store, without
    /// acknowledging it (see [`blob_size`](Self::blob_size)).
    async fn linked_blob_size(
        &self,
        name: &RepoName,
        digest: &Digest,
    ) -> Result<Option<u64>, Error> {
        if self
            .storage
            .meta_get(&Key::layer_link(name, digest))
            .await?
            .is_none()
        {
            return Ok(None);
        }
        Ok(self.storage.blob_size(digest).await?)
    }

    /// Hides a blob from `name` (the content stays for other repositories); `false` when it
    /// was not linked.
    pub async fn unlink_blob(&self, name: &RepoName, digest: &Digest) -> Result<bool, Error> {
        Ok(self
            .storage
            .meta_delete(&Key::layer_link(name, digest))
            .await?)
    }

    /// The digest of every blob linked into `name`.
    pub async fn linked_blobs(&self, name: &RepoName) -> Result<Vec<Digest>, Error> {
        self.digests_under(&Key::layer_links(name)).await
    }

    /// The digests named by `<alg>/<encoded>` objects under `folder`; other names are
    /// skipped.
    async fn digests_under(&self, folder: &Key) -> Result<Vec<Digest>, Error> {
        let mut digests = Vec::new();
        for algorithm in self.storage.meta_list(folder).await? {
            let encoded = self.storage.meta_list(&folder.child(&algorithm)).await?;
            digests.extend(
                encoded
                    .iter()
                    .filter_map(|e| Digest::parse(&format!("{algorithm}:{e}")).ok()),
            );
        }
        Ok(digests)
    }

    /// Whether the repository holds anything at all.
    pub async fn repository_exists(&self, name: &RepoName) -> Result<bool, Error> {
        Ok(!self
            .storage
            .meta_list(&Key::repository(name))
            .await?
            .is_empty())
    }

    /// Reads a small metadata object as JSON.
    async fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &Key,
    ) -> Result<Option<T>, Error> {
        let Some(bytes) = self.storage.meta_get(key).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|_| corrupt(key, "not the expected JSON document"))
    }

    /// Writes a small metadata object as JSON.
    async fn write_json<T: serde::Serialize>(&self, key: &Key, value: &T) -> Result<(), Error> {
        Ok(self.storage.meta_put(key, json_of(key, value)?).await?)
    }
}

/// `value` as the JSON content of the metadata object `key`.
fn json_of<T: serde::Serialize>(key: &Key, value: &T) -> Result<Bytes, Error> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|_| corrupt(key, "cannot serialise"))
}

fn corrupt(key: &Key, reason: &'static str) -> Error {
    Error::Storage(StorageError::Corrupt {
        key: key.to_path_string(),
        reason,
    })
}

/// The backends the store's unit tests run on: a filesystem store (with the folder that holds
/// it, kept alive beside it) and a memory store.
#[cfg(test)]
async fn backends() -> Vec<(Arc<dyn Storage>, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let fs = crate::storage::FsStorage::open(dir.path())
        .await
        .expect("store");
    vec![
        (Arc::new(fs), Some(dir)),
        (Arc::new(crate::storage::MemoryStorage::new()), None),
    ]
}
