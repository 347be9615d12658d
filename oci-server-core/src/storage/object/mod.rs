//! The object-storage backend, on any [`object_store::ObjectStore`] (S3 and S3-compatible
//! servers, Google Cloud Storage, Azure Blob Storage, or the crate's in-memory store).
//!
//! Every object is written with one put (atomic per object) or one multipart upload (visible
//! only once complete), so readers never see a partial blob, manifest or metadata object.
//! Upload sessions live in the bucket (see `upload`), which makes any number of stateless
//! registry processes sharing one bucket behave as one registry.
//!
//! A write that dies with its process can leave an incomplete multipart upload behind; it is
//! invisible to readers, and a bucket lifecycle rule ("abort incomplete multipart uploads
//! after N days") reclaims its space.

mod keys;
mod open;
mod paged;
mod stream;
mod upload;

use std::{collections::BTreeSet, sync::Arc, time::SystemTime};

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use object_store::{GetOptions, ObjectStore, ObjectStoreExt, PutPayload, list::PaginatedListStore};
use oci_digest::Digest;

use self::{keys::Layout, paged::PagedLister, stream::object_error};
use super::{BlobInfo, Durability, Key, Storage, StorageFuture, is_safe_segment};
use crate::{body::ByteStream, error::StorageError, names::UploadId, range::ByteRange};

/// A [`Storage`] on an object store, under a key prefix. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ObjectStorage {
    store: Arc<dyn ObjectStore>,
    /// The same store's listing by pages, when it has one: a page of tags or of the
    /// catalog then costs one request the size of the page.
    pages: Option<PagedLister>,
    layout: Layout,
}

impl ObjectStorage {
    /// A store keeping everything under `prefix` (`/`-separated, may be empty) of `store`.
    pub fn new(store: Arc<dyn ObjectStore>, prefix: &str) -> Result<Self, StorageError> {
        Ok(Self {
            store,
            pages: None,
            layout: Layout::new(prefix)?,
        })
    }

    /// Like [`ObjectStorage::new`], on a store that can also list by pages of a chosen size
    /// (S3, Google Cloud Storage and Azure do): pages of tags and of the catalog then cost
    /// one listing request of the page's size, where those of [`ObjectStorage::new`] ask for
    /// the store's default (1,000 keys on S3).
    pub fn with_paged_listing<S>(store: Arc<S>, prefix: &str) -> Result<Self, StorageError>
    where
        S: ObjectStore + PaginatedListStore,
    {
        Ok(Self {
            pages: Some(PagedLister(store.clone())),
            ..Self::new(store, prefix)?
        })
    }

    /// The object store underneath.
    pub fn object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Deletes the objects at `paths` (missing ones are skipped) with bulk requests, one
    /// per 1,000 keys on S3.
    async fn delete_all(
        &self,
        paths: Vec<object_store::path::Path>,
        action: &'static str,
        folder: &object_store::path::Path,
    ) -> Result<(), StorageError> {
        if paths.is_empty() {
            return Ok(());
        }
        let locations = futures_util::stream::iter(paths.into_iter().map(Ok)).boxed();
        self.store
            .delete_stream(locations)
            .try_for_each(|_| async { Ok(()) })
            .await
            .or_else(|e| match e {
                object_store::Error::NotFound { .. } => Ok(()),
                e => Err(object_error(action, folder)(e)),
            })
    }

    /// The object paths of metadata `keys`, and the folder to name in an error.
    fn meta_paths(
        &self,
        keys: &[Key],
    ) -> Result<(Vec<object_store::path::Path>, object_store::path::Path), StorageError> {
        let paths = keys
            .iter()
            .map(|key| self.layout.meta(key))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((paths, self.layout.meta(&Key::repositories())?))
    }

    /// When the object at `path` was written; `None` when there is none.
    async fn last_modified(
        &self,
        path: &object_store::path::Path,
    ) -> Result<Option<SystemTime>, StorageError> {
        match self.store.head(path).await {
            Ok(meta) => Ok(Some(meta.last_modified.into())),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(object_error("stat", path)(e)),
        }
    }
}

impl Storage for ObjectStorage {
    fn blob_size<'a>(&'a self, digest: &'a Digest) -> StorageFuture<'a, Option<u64>> {
        Box::pin(async move {
            let path = self.layout.blob(digest)?;
            match self.store.head(&path).await {
                Ok(meta) => Ok(Some(meta.size)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(object_error("stat", &path)(e)),
            }
        })
    }

    fn blob_modified<'a>(&'a self, digest: &'a Digest) -> StorageFuture<'a, Option<SystemTime>> {
        Box::pin(async move { self.last_modified(&self.layout.blob(digest)?).await })
    }

    fn blob_read<'a>(
        &'a self,
        digest: &'a Digest,
        range: Option<ByteRange>,
    ) -> StorageFuture<'a, Option<ByteStream<'static>>> {
        Box::pin(async move {
            let path = self.layout.blob(digest)?;
            let range = range.map(|r| r.start..r.end.saturating_add(1));
            match self
                .store
                .get_opts(&path, GetOptions::new().with_range(range))
                .await
            {
                Ok(found) => Ok(Some(read_whole(found))),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(object_error("read", &path)(e)),
            }
        })
    }

    fn blob_put<'a>(&'a self, digest: &'a Digest, content: Bytes) -> StorageFuture<'a, ()> {
        Box::pin(async move {
            let path = self.layout.blob(digest)?;
            self.store
                .put(&path, PutPayload::from_bytes(content))
                .await
                .map_err(object_error("put blob", &path))?;
            Ok(())
        })
    }

    fn upload_create<'a>(&'a self, id: &'a UploadId) -> StorageFuture<'a, ()> {
        Box::pin(self.create_session(id))
    }

    fn upload_write<'a>(
        &'a self,
        id: &'a UploadId,
        offset: u64,
        data: ByteStream<'a>,
        _durability: Durability,
    ) -> StorageFuture<'a, u64> {
        // Every object written is durable.
        Box::pin(self.write_part(id, offset, data))
    }

    fn upload_read<'a>(
        &'a self,
        id: &'a UploadId,
        len: u64,
    ) -> StorageFuture<'a, ByteStream<'static>> {
        Box::pin(self.read_session(id, len))
    }

    fn upload_commit<'a>(
        &'a self,
        id: &'a UploadId,
        size: u64,
        digest: &'a Digest,
    ) -> StorageFuture<'a, ()> {
        Box::pin(self.commit_session(id, size, digest))
    }

    fn upload_created<'a>(&'a self, id: &'a UploadId) -> StorageFuture<'a, Option<SystemTime>> {
        // The marker is written once, when the session is created.
        Box::pin(async move { self.last_modified(&self.layout.upload_marker(id)?).await })
    }

    fn upload_delete<'a>(&'a self, id: &'a UploadId) -> StorageFuture<'a, bool> {
        Box::pin(self.delete_session(id))
    }

    fn meta_get<'a>(&'a self, key: &'a Key) -> StorageFuture<'a, Option<Bytes>> {
        Box::pin(async move {
            let path = self.layout.meta(key)?;
            let found = match self.store.get_opts(&path, GetOptions::new()).await {
                Ok(found) => found,
                Err(object_store::Error::NotFound { .. }) => return Ok(None),
                Err(e) => return Err(object_error("read", &path)(e)),
            };
            let bytes = found.bytes().await.map_err(object_error("read", &path))?;
            Ok(Some(bytes))
        })
    }

    fn meta_put<'a>(&'a self, key: &'a Key, value: Bytes) -> StorageFuture<'a, ()> {
        Box::pin(async move {
            let path = self.layout.meta(key)?;
            self.store
                .put(&path, PutPayload::from_bytes(value))
                .await
                .map_err(object_error("put", &path))?;
            Ok(())
        })
    }

    fn meta_delete<'a>(&'a self, key: &'a Key) -> StorageFuture<'a, bool> {
        Box::pin(async move { self.delete_object(&self.layout.meta(key)?).await })
    }

    fn meta_delete_all<'a>(&'a self, keys: &'a [Key]) -> StorageFuture<'a, ()> {
        Box::pin(async move {
            let (paths, folder) = self.meta_paths(keys)?;
            self.delete_all(paths, "delete", &folder).await
        })
    }

    fn marker_delete_all<'a>(&'a self, keys: &'a [Key]) -> StorageFuture<'a, ()> {
        // An object store's deletes are durable anyway.
        self.meta_delete_all(keys)
    }

    fn meta_modified<'a>(&'a self, key: &'a Key) -> StorageFuture<'a, Option<SystemTime>> {
        Box::pin(async move { self.last_modified(&self.layout.meta(key)?).await })
    }

    fn blob_list(&self) -> StorageFuture<'_, Vec<BlobInfo>> {
        Box::pin(async move {
            let folder = self.layout.blobs();
            self.store
                .list(Some(&folder))
                .try_filter_map(|meta| {
                    // `blobs/<alg>/<fan-out>/<encoded>`: anything else was not written here.
                    let parts: Vec<String> = meta
                        .location
                        .prefix_match(&folder)
                        .map(|rest| rest.map(|p| p.as_ref().to_owned()).collect())
                        .unwrap_or_default();
                    let digest = match parts.as_slice() {
                        [algorithm, _, encoded] => {
                            Digest::parse(&format!("{algorithm}:{encoded}")).ok()
                        }
                        _ => None,
                    };
                    async move {
                        Ok(digest.map(|digest| BlobInfo {
                            digest,
                            size: meta.size,
                            modified: meta.last_modified.into(),
                        }))
                    }
                })
                .try_collect()
                .await
                .map_err(object_error("list blobs", &folder))
        })
    }

    fn blob_delete<'a>(&'a self, digest: &'a Digest) -> StorageFuture<'a, bool> {
        Box::pin(async move { self.delete_object(&self.layout.blob(digest)?).await })
    }

    fn meta_list_after<'a>(
        &'a self,
        folder: &'a Key,
        after: Option<&'a str>,
        limit: usize,
    ) -> StorageFuture<'a, Vec<String>> {
        Box::pin(async move {
            let path = self.layout.meta(folder)?;
            let plain_after = after.is_none_or(is_plain_segment);
            if let (Some(pages), true) = (&self.pages, plain_after) {
                return pages.page(&path, after, limit).await;
            }
            let listing = match after {
                // S3's `start-after` (and the other stores' equivalents): the listing begins
                // at the page, whatever the size of the folder.
                Some(after) if is_plain_segment(after) => self
                    .store
                    .list_with_offset(Some(&path), &path.clone().join(after)),
                // A start the object path would encode differently sorts differently too.
                Some(_) => {
                    return Ok(super::page_of(self.meta_list(folder).await?, after, limit));
                }
                None => self.store.list(Some(&path)),
            };
            // The stores this backend opens list in key order, and keys below one folder
            // sort as their last segments do, so the first `limit` objects are the page; a
            // listing stops being read (and requested) once the page is full.
            let depth = path.parts().count() + 1;
            let mut names: Vec<String> = listing
                .try_filter_map(|meta| {
                    let direct = meta.location.parts().count() == depth;
                    let name = meta.location.filename().map(str::to_owned);
                    async move { Ok(name.filter(|n| direct && is_safe_segment(n))) }
                })
                .take(limit)
                .try_collect()
                .await
                .map_err(object_error("list", &path))?;
            names.sort_unstable();
            Ok(names)
        })
    }

    fn meta_list<'a>(&'a self, folder: &'a Key) -> StorageFuture<'a, Vec<String>> {
        Box::pin(async move {
            let path = self.layout.meta(folder)?;
            let listed = self
                .store
                .list_with_delimiter(Some(&path))
                .await
                .map_err(object_error("list", &path))?;
            let names: BTreeSet<String> = listed
                .common_prefixes
                .iter()
                .chain(listed.objects.iter().map(|meta| &meta.location))
                .filter_map(|p| p.filename())
                .filter(|name| is_safe_segment(name))
                .map(str::to_owned)
                .collect();
            Ok(names.into_iter().collect())
        })
    }
}

/// Whether `segment` is made only of the characters an object path keeps as they are (those
/// of tags), so it sorts in the bucket as it does as text.
fn is_plain_segment(segment: &str) -> bool {
    is_safe_segment(segment)
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The bytes of a get, as a stream of I/O results.
fn read_whole(found: object_store::GetResult) -> ByteStream<'static> {
    Box::pin(found.into_stream().map_err(std::io::Error::other))
}
