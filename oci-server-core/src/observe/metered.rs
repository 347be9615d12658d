//! A [`Storage`] that counts and times every operation of the backend it wraps.

use std::{sync::Arc, time::Instant};

use bytes::Bytes;
use oci_digest::Digest;

use super::Metrics;
use crate::{
    body::ByteStream,
    names::UploadId,
    range::ByteRange,
    storage::{BlobInfo, Durability, Key, Storage, StorageFuture},
};

/// Wraps a backend; every call is reported to [`Metrics`] by operation name.
#[derive(Debug)]
pub(crate) struct MeteredStorage {
    inner: Arc<dyn Storage>,
    metrics: Arc<Metrics>,
}

impl MeteredStorage {
    pub(crate) fn new(inner: Arc<dyn Storage>, metrics: Arc<Metrics>) -> Self {
        Self { inner, metrics }
    }

    fn timed<'a, T: 'a>(
        &'a self,
        operation: &'static str,
        call: StorageFuture<'a, T>,
    ) -> StorageFuture<'a, T> {
        Box::pin(async move {
            let started = Instant::now();
            let outcome = call.await;
            self.metrics
                .storage_operation(operation, outcome.is_ok(), started.elapsed());
            outcome
        })
    }
}

impl Storage for MeteredStorage {
    fn blob_size<'a>(&'a self, digest: &'a Digest) -> StorageFuture<'a, Option<u64>> {
        self.timed("blob_size", self.inner.blob_size(digest))
    }

    fn blob_modified<'a>(
        &'a self,
        digest: &'a Digest,
    ) -> StorageFuture<'a, Option<std::time::SystemTime>> {
        self.timed("blob_modified", self.inner.blob_modified(digest))
    }

    fn blob_read<'a>(
        &'a self,
        digest: &'a Digest,
        range: Option<ByteRange>,
    ) -> StorageFuture<'a, Option<ByteStream<'static>>> {
        self.timed("blob_read", self.inner.blob_read(digest, range))
    }

    fn blob_file<'a>(&'a self, digest: &'a Digest) -> StorageFuture<'a, Option<std::fs::File>> {
        // The same operation as `blob_read`, by another route: counted under its name.
        self.timed("blob_read", self.inner.blob_file(digest))
    }

    fn blob_put<'a>(&'a self, digest: &'a Digest, content: Bytes) -> StorageFuture<'a, ()> {
        self.timed("blob_put", self.inner.blob_put(digest, content))
    }

    fn upload_create<'a>(&'a self, id: &'a UploadId) -> StorageFuture<'a, ()> {
        self.timed("upload_create", self.inner.upload_create(id))
    }

    fn upload_write<'a>(
        &'a self,
        id: &'a UploadId,
        offset: u64,
        data: ByteStream<'a>,
        durability: Durability,
    ) -> StorageFuture<'a, u64> {
        self.timed(
            "upload_write",
            self.inner.upload_write(id, offset, data, durability),
        )
    }

    fn upload_sync<'a>(&'a self, id: &'a UploadId) -> StorageFuture<'a, ()> {
        self.timed("upload_sync", self.inner.upload_sync(id))
    }

    fn volatile_epoch(&self) -> Option<&str> {
        self.inner.volatile_epoch()
    }

    fn upload_read<'a>(
        &'a self,
        id: &'a UploadId,
        len: u64,
    ) -> StorageFuture<'a, ByteStream<'static>> {
        self.timed("upload_read", self.inner.upload_read(id, len))
    }

    fn upload_commit<'a>(
        &'a self,
        id: &'a UploadId,
        size: u64,
        digest: &'a Digest,
    ) -> StorageFuture<'a, ()> {
        self.timed("upload_commit", self.inner.upload_commit(id, size, digest))
    }

    fn upload_created<'a>(
        &'a self,
        id: &'a UploadId,
    ) -> StorageFuture<'a, Option<std::time::SystemTime>> {
        self.timed("upload_created", self.inner.upload_created(id))
    }

    fn upload_delete<'a>(&'a self, id: &'a UploadId) -> StorageFuture<'a, bool> {
        self.timed("upload_delete", self.inner.upload_delete(id))
    }

    fn meta_get<'a>(&'a self, key: &'a Key) -> StorageFuture<'a, Option<Bytes>> {
        self.timed("meta_get", self.inner.meta_get(key))
    }

    fn meta_put<'a>(&'a self, key: &'a Key, value: Bytes) -> StorageFuture<'a, ()> {
        self.timed("meta_put", self.inner.meta_put(key, value))
    }

    fn meta_put_volatile<'a>(&'a self, key: &'a Key, value: Bytes) -> StorageFuture<'a, ()> {
        self.timed(
            "meta_put_volatile",
            self.inner.meta_put_volatile(key, value),
        )
    }

    fn meta_delete<'a>(&'a self, key: &'a Key) -> StorageFuture<'a, bool> {
        self.timed("meta_delete", self.inner.meta_delete(key))
    }

    fn marker_put<'a>(&'a self, key: &'a Key) -> StorageFuture<'a, ()> {
        self.timed("marker_put", self.inner.marker_put(key))
    }

    fn marker_delete<'a>(&'a self, key: &'a Key) -> StorageFuture<'a, bool> {
        self.timed("marker_delete", self.inner.marker_delete(key))
    }

    fn meta_delete_all<'a>(&'a self, keys: &'a [Key]) -> StorageFuture<'a, ()> {
        self.timed("meta_delete_all", self.inner.meta_delete_all(keys))
    }

    fn marker_delete_all<'a>(&'a self, keys: &'a [Key]) -> StorageFuture<'a, ()> {
        self.timed("marker_delete_all", self.inner.marker_delete_all(keys))
    }

    fn meta_list_after<'a>(
        &'a self,
        folder: &'a Key,
        after: Option<&'a str>,
        limit: usize,
    ) -> StorageFuture<'a, Vec<String>> {
        self.timed(
            "meta_list_after",
            self.inner.meta_list_after(folder, after, limit),
        )
    }

    fn meta_list<'a>(&'a self, folder: &'a Key) -> StorageFuture<'a, Vec<String>> {
        self.timed("meta_list", self.inner.meta_list(folder))
    }

    fn meta_modified<'a>(
        &'a self,
        key: &'a Key,
    ) -> StorageFuture<'a, Option<std::time::SystemTime>> {
        self.timed("meta_modified", self.inner.meta_modified(key))
    }

    fn blob_list(&self) -> StorageFuture<'_, Vec<BlobInfo>> {
        self.timed("blob_list", self.inner.blob_list())
    }

    fn blob_delete<'a>(&'a self, digest: &'a Digest) -> StorageFuture<'a, bool> {
        self.timed("blob_delete", self.inner.blob_delete(digest))
    }
}

#[cfg(test)]
mod tests {
    /// The names of the methods the `Storage` trait declares, read from its source.
    fn storage_methods() -> Vec<String> {
        let source = include_str!("../storage/mod.rs");
        let (_, declaration) = source.split_once("pub trait Storage").unwrap_or_default();
        let (body, _) = declaration.split_once("\n}\n").unwrap_or_default();
        body.lines()
            .filter_map(|line| line.trim_start().strip_prefix("fn "))
            .filter_map(|rest| rest.split(['<', '(']).next())
            .map(str::to_string)
            .collect()
    }

    /// A method the wrapper does not implement would fall back to the trait's default and
    /// bypass the backend's own version (as `meta_list_after` once did, so tag pages read
    /// whole folders): every method must be implemented, and timed as a call of the same
    /// method of the backend.
    /// Properties of the backend rather than operations: forwarded, not timed.
    const UNTIMED: &[&str] = &["volatile_epoch"];

    #[test]
    fn every_storage_method_is_timed_and_forwarded_to_the_same_method() {
        let methods = storage_methods();
        assert!(methods.len() >= 20, "trait methods found: {methods:?}");
        // Whitespace removed, so that the check does not depend on how rustfmt breaks lines.
        let source: String = include_str!("metered.rs").split_whitespace().collect();
        for method in &methods {
            assert!(
                source.contains(&format!("fn{method}<"))
                    || source.contains(&format!("fn{method}(")),
                "MeteredStorage does not implement {method}"
            );
            if UNTIMED.contains(&method.as_str()) {
                assert!(source.contains(&format!("self.inner.{method}()")));
                continue;
            }
            assert!(
                source.contains(&format!("\",self.inner.{method}(")),
                "MeteredStorage does not time {method} as a call of the backend's {method}"
            );
        }
    }
}
