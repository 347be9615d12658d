//! The filesystem backend.
//!
//! ```text
//! <root>/blobs/<alg>/<first 2 chars>/<encoded>   content-addressed blobs
//! <root>/repositories/...                          metadata objects (see `Key`)
//! <root>/uploads/<id>/{data,state,progress}        upload sessions
//! <root>/gc/...                                    garbage collection's liveness marks and
//!                                                  claims (see `Key`)
//! <root>/tmp/                                      staging area for atomic writes, and
//!                                                  upload sessions being committed
//! ```
//!
//! Every write is staged in `tmp/`, fsynced and renamed into place (see `atomic`), so a crash
//! never exposes a partial blob, manifest or metadata object. The root must be one filesystem;
//! several server processes on one machine may share it (listings kept in memory are
//! revalidated against the disk, see `fs_listing_cache`).

use std::{
    io,
    path::{Path, PathBuf},
    sync::Arc,
    time::SystemTime,
};

use bytes::Bytes;
use oci_digest::Digest;

use super::{
    BlobInfo, Durability, Key, Storage, StorageFuture,
    atomic::{self, remove_durable, write_atomic},
    fs_found::found,
    fs_gc,
    fs_listing_cache::ListingCache,
    fs_read::stream_file,
    fs_upload, is_safe_segment,
};
use crate::{body::ByteStream, error::StorageError, names::UploadId, range::ByteRange};

/// A [`Storage`] on a local folder. Cheap to clone.
#[derive(Debug, Clone)]
pub struct FsStorage {
    root: PathBuf,
    /// Sorted listings of large folders, revalidated on every read (see
    /// `fs_listing_cache`).
    listings: Arc<ListingCache>,
    /// The machine's boot id, the epoch of writes not yet durable (see
    /// [`Storage::volatile_epoch`]).
    boot: Option<Arc<str>>,
}

impl FsStorage {
    /// Opens (creating when needed) a store at `root`, and sweeps temporary files a crash may
    /// have left.
    pub async fn open(root: impl Into<PathBuf>) -> Result<Self, StorageError> {
        let storage = Self::attach(root).await?;
        let this = storage.clone();
        blocking(move || {
            let tmp = this.tmp_dir();
            let swept = atomic::sweep_dir(&tmp).map_err(|e| StorageError::io("sweep", &tmp, e))?;
            if swept > 0 {
                tracing::info!(swept, "removed temporary files left by an earlier run");
            }
            Ok(())
        })
        .await?;
        Ok(storage)
    }

    /// Opens (creating when needed) a store at `root` that a server process may be using
    /// right now, as garbage collection does: unlike [`open`](Self::open) it leaves the
    /// temporary files alone, since they may be that server's writes in progress.
    pub async fn attach(root: impl Into<PathBuf>) -> Result<Self, StorageError> {
        let storage = Self {
            root: root.into(),
            listings: Arc::default(),
            boot: fs_upload::boot_id(),
        };
        let this = storage.clone();
        blocking(move || {
            for folder in ["blobs", "repositories", "uploads", "tmp"] {
                let path = this.root.join(folder);
                atomic::create_dir_all_durable(&path)
                    .map_err(|e| StorageError::io("create folder", &path, e))?;
            }
            Ok(())
        })
        .await?;
        Ok(storage)
    }

    /// The store's root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub(super) fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// The path of a key, after checking every segment once more.
    fn key_path(&self, key: &Key) -> Result<PathBuf, StorageError> {
        let mut path = self.root.clone();
        for segment in key.segments() {
            checked(segment)?;
            path.push(segment);
        }
        Ok(path)
    }

    pub(super) fn blob_path(&self, digest: &Digest) -> Result<PathBuf, StorageError> {
        let algorithm = digest.algorithm().as_str();
        let encoded = digest.encoded();
        let fan_out = encoded.get(..2).unwrap_or(encoded);
        for segment in [algorithm, fan_out, encoded] {
            checked(segment)?;
        }
        Ok(self
            .root
            .join("blobs")
            .join(algorithm)
            .join(fan_out)
            .join(encoded))
    }

    pub(super) fn upload_dir(&self, id: &UploadId) -> Result<PathBuf, StorageError> {
        checked(id.as_str())?;
        Ok(self.root.join("uploads").join(id.as_str()))
    }
}

impl FsStorage {
    /// Removes the objects of `keys` in one blocking task, syncing each folder once when
    /// `durable`.
    async fn remove_all(&self, keys: &[Key], durable: bool) -> Result<(), StorageError> {
        let paths = keys
            .iter()
            .map(|key| self.key_path(key))
            .collect::<Result<Vec<_>, _>>()?;
        let folder = self.root.join("repositories");
        blocking(move || {
            atomic::remove_all(&paths, durable).map_err(|e| StorageError::io("remove", folder, e))
        })
        .await
    }
}

fn checked(segment: &str) -> Result<(), StorageError> {
    if is_safe_segment(segment) {
        Ok(())
    } else {
        Err(StorageError::UnsafeKey {
            segment: segment.to_owned(),
        })
    }
}

/// Runs blocking filesystem work on the blocking pool.
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StorageError> + Send + 'static,
) -> Result<T, StorageError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| StorageError::io("join blocking task", PathBuf::new(), io::Error::other(e)))?
}

/// When the file at `path` was last written; `None` when there is no file there (nothing, or
/// a folder).
async fn file_modified(path: PathBuf) -> Result<Option<SystemTime>, StorageError> {
    match found(tokio::fs::metadata(&path).await, "stat", &path)? {
        Some(meta) if meta.is_file() => meta
            .modified()
            .map(Some)
            .map_err(|e| StorageError::io("stat", path, e)),
        _ => Ok(None),
    }
}

impl Storage for FsStorage {
    fn blob_size<'a>(&'a self, digest: &'a Digest) -> StorageFuture<'a, Option<u64>> {
        Box::pin(async move {
            let path = self.blob_path(digest)?;
            let meta = found(tokio::fs::metadata(&path).await, "stat", &path)?;
            Ok(meta.map(|meta| meta.len()))
        })
    }

    fn blob_modified<'a>(&'a self, digest: &'a Digest) -> StorageFuture<'a, Option<SystemTime>> {
        Box::pin(async move { file_modified(self.blob_path(digest)?).await })
    }

    fn blob_read<'a>(
        &'a self,
        digest: &'a Digest,
        range: Option<ByteRange>,
    ) -> StorageFuture<'a, Option<ByteStream<'static>>> {
        Box::pin(async move { stream_file(&self.blob_path(digest)?, range).await })
    }

    fn blob_file<'a>(&'a self, digest: &'a Digest) -> StorageFuture<'a, Option<std::fs::File>> {
        Box::pin(async move {
            let path = self.blob_path(digest)?;
            // Blob files are renamed into place whole and only ever unlinked, never rewritten.
            blocking(move || found(std::fs::File::open(&path), "open", &path)).await
        })
    }

    fn blob_put<'a>(&'a self, digest: &'a Digest, content: Bytes) -> StorageFuture<'a, ()> {
        Box::pin(async move {
            let target = self.blob_path(digest)?;
            let tmp = self.tmp_dir();
            blocking(move || {
                if target.exists() {
                    return Ok(());
                }
                write_atomic(&tmp, &target, &content)
                    .map_err(|e| StorageError::io("write blob", target, e))
            })
            .await
        })
    }

    fn upload_create<'a>(&'a self, id: &'a UploadId) -> StorageFuture<'a, ()> {
        Box::pin(async move { fs_upload::create(self.upload_dir(id)?).await })
    }

    fn upload_write<'a>(
        &'a self,
        id: &'a UploadId,
        offset: u64,
        data: ByteStream<'a>,
        durability: Durability,
    ) -> StorageFuture<'a, u64> {
        Box::pin(async move {
            fs_upload::write(self.upload_dir(id)?, id, offset, data, durability).await
        })
    }

    fn upload_sync<'a>(&'a self, id: &'a UploadId) -> StorageFuture<'a, ()> {
        Box::pin(async move { fs_upload::sync(self.upload_dir(id)?, id).await })
    }

    fn volatile_epoch(&self) -> Option<&str> {
        self.boot.as_deref()
    }

    fn upload_read<'a>(
        &'a self,
        id: &'a UploadId,
        len: u64,
    ) -> StorageFuture<'a, ByteStream<'static>> {
        Box::pin(async move {
            let range = len.checked_sub(1).map(|end| ByteRange { start: 0, end });
            let data = fs_upload::data_path(&self.upload_dir(id)?);
            match range {
                None => Ok(Box::pin(futures_util::stream::empty()) as ByteStream<'static>),
                Some(range) => stream_file(&data, Some(range))
                    .await?
                    .ok_or_else(|| StorageError::UploadMissing { id: id.to_string() }),
            }
        })
    }

    fn upload_commit<'a>(
        &'a self,
        id: &'a UploadId,
        size: u64,
        digest: &'a Digest,
    ) -> StorageFuture<'a, ()> {
        Box::pin(async move {
            let dir = self.upload_dir(id)?;
            let target = self.blob_path(digest)?;
            fs_upload::commit(dir, self.tmp_dir(), id.clone(), size, target).await
        })
    }

    fn upload_created<'a>(&'a self, id: &'a UploadId) -> StorageFuture<'a, Option<SystemTime>> {
        // The data file is created with the session; its time is that of its last write.
        Box::pin(async move { file_modified(fs_upload::data_path(&self.upload_dir(id)?)).await })
    }

    fn upload_delete<'a>(&'a self, id: &'a UploadId) -> StorageFuture<'a, bool> {
        Box::pin(async move { fs_upload::delete(self.upload_dir(id)?).await })
    }

    fn meta_get<'a>(&'a self, key: &'a Key) -> StorageFuture<'a, Option<Bytes>> {
        Box::pin(async move {
            let path = self.key_path(key)?;
            match tokio::fs::read(&path).await {
                Ok(bytes) => Ok(Some(Bytes::from(bytes))),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                // A folder where an object was expected (e.g. listing a tag named like a
                // folder) holds no object.
                Err(e) if path.is_dir() => {
                    tracing::debug!(error = %e, ?path, "metadata key names a folder");
                    Ok(None)
                }
                Err(e) => Err(StorageError::io("read", path, e)),
            }
        })
    }

    fn meta_put<'a>(&'a self, key: &'a Key, value: Bytes) -> StorageFuture<'a, ()> {
        Box::pin(async move {
            let target = self.key_path(key)?;
            let tmp = self.tmp_dir();
            blocking(move || {
                write_atomic(&tmp, &target, &value)
                    .map_err(|e| StorageError::io("write", target, e))
            })
            .await
        })
    }

    fn meta_put_volatile<'a>(&'a self, key: &'a Key, value: Bytes) -> StorageFuture<'a, ()> {
        Box::pin(async move {
            let target = self.key_path(key)?;
            let tmp = self.tmp_dir();
            blocking(move || {
                atomic::replace_unsynced(&tmp, &target, &value)
                    .map_err(|e| StorageError::io("write", target, e))
            })
            .await
        })
    }

    fn meta_delete<'a>(&'a self, key: &'a Key) -> StorageFuture<'a, bool> {
        Box::pin(async move {
            let path = self.key_path(key)?;
            blocking(move || remove_durable(&path).map_err(|e| StorageError::io("remove", path, e)))
                .await
        })
    }

    fn marker_put<'a>(&'a self, key: &'a Key) -> StorageFuture<'a, ()> {
        Box::pin(async move {
            let target = self.key_path(key)?;
            blocking(move || {
                // Empty, so complete as soon as it exists: no staging, no fsync. Its folder
                // is there for all but the first mark of a kind: created only when missing.
                let create = || std::fs::File::create(&target).map(drop);
                create()
                    .or_else(|e| match target.parent() {
                        Some(parent) if e.kind() == io::ErrorKind::NotFound => {
                            std::fs::create_dir_all(parent).and_then(|()| create())
                        }
                        _ => Err(e),
                    })
                    .map_err(|e| StorageError::io("write marker", target, e))
            })
            .await
        })
    }

    fn marker_delete<'a>(&'a self, key: &'a Key) -> StorageFuture<'a, bool> {
        Box::pin(async move {
            let path = self.key_path(key)?;
            let removed = found(tokio::fs::remove_file(&path).await, "remove marker", &path)?;
            Ok(removed.is_some())
        })
    }

    fn meta_modified<'a>(&'a self, key: &'a Key) -> StorageFuture<'a, Option<SystemTime>> {
        Box::pin(async move { file_modified(self.key_path(key)?).await })
    }

    fn meta_delete_all<'a>(&'a self, keys: &'a [Key]) -> StorageFuture<'a, ()> {
        Box::pin(self.remove_all(keys, true))
    }

    fn marker_delete_all<'a>(&'a self, keys: &'a [Key]) -> StorageFuture<'a, ()> {
        Box::pin(self.remove_all(keys, false))
    }

    fn blob_list(&self) -> StorageFuture<'_, Vec<BlobInfo>> {
        Box::pin(fs_gc::list_blobs(self.root.join("blobs")))
    }

    fn blob_delete<'a>(&'a self, digest: &'a Digest) -> StorageFuture<'a, bool> {
        Box::pin(async move { fs_gc::delete_blob(self.blob_path(digest)?).await })
    }

    fn meta_list_after<'a>(
        &'a self,
        folder: &'a Key,
        after: Option<&'a str>,
        limit: usize,
    ) -> StorageFuture<'a, Vec<String>> {
        Box::pin(async move {
            let path = self.key_path(folder)?;
            let after = after.map(str::to_owned);
            let listings = Arc::clone(&self.listings);
            blocking(move || listings.page(&path, after.as_deref(), limit)).await
        })
    }

    fn meta_list<'a>(&'a self, folder: &'a Key) -> StorageFuture<'a, Vec<String>> {
        Box::pin(async move {
            let path = self.key_path(folder)?;
            // The whole folder is a page without a start or a bound.
            let listings = Arc::clone(&self.listings);
            blocking(move || listings.page(&path, None, usize::MAX)).await
        })
    }
}
