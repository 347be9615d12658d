//! The storage interface and its backends.
//!
//! A backend stores three kinds of things, each with the operation an object store offers too:
//!
//! - **blobs**, content-addressed and shared by every repository: stat, ranged read as a
//!   stream, a put of small already-verified content (manifests), and for garbage collection
//!   a listing (size, age) and deletion;
//! - **upload sessions**: create, write a stream at an offset, read back, commit (the data
//!   becomes the blob of a given digest), delete;
//! - **metadata objects** under a [`Key`] (links, tags, manifest records, referrers, upload
//!   state): get, atomic put, delete, age, list the children of a folder.
//!
//! Backends: [`FsStorage`] (a local folder), `ObjectStorage` (feature `object-store`: any
//! `object_store::ObjectStore`, opened from `s3://`, `gs://` or `az://` URLs by
//! [`open_location`]) and [`MemoryStorage`] (tests).
//!
//! Hashing, validation and every repository rule live above this trait (in `store`), so a
//! backend only moves bytes.
//!
//! **Why the methods return [`StorageFuture`], boxed by hand.** A registry picks its backend
//! at run time (a folder, `s3://`, tests' memory), so it holds an `Arc<dyn Storage>` and the
//! trait must be object safe; `async fn` in a trait is not. Boxing the future in each
//! implementation keeps the trait object safe without a proc-macro dependency
//! (`async_trait` writes the same box), and every backend's code stays plain `async` blocks.
//! The cost is one allocation per call, next to a system call or an HTTP request each.
//! (oci-copy's `Source` and `Sink` use `async_trait` for the same need: they are public
//! traits that users implement, and there the macro spares them writing the box.)

mod atomic;
mod fs;
mod fs_found;
mod fs_gc;
mod fs_list;
mod fs_listing_cache;
mod fs_read;
mod fs_upload;
mod fs_write;
mod key;
mod location;
mod memory;
#[cfg(feature = "object-store")]
mod object;

use std::{future::Future, pin::Pin, time::SystemTime};

use bytes::Bytes;
use oci_digest::Digest;

pub(crate) use self::key::{catalog_name, catalog_segment};
#[cfg(feature = "object-store")]
pub use self::object::ObjectStorage;
pub use self::{
    atomic::{StagedFile, sweep_dir, write_atomic},
    fs::FsStorage,
    key::{Key, is_safe_segment},
    location::{attach_location, open_location},
    memory::MemoryStorage,
};
use crate::{body::ByteStream, error::StorageError, names::UploadId, range::ByteRange};

/// The future every storage operation returns.
pub type StorageFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StorageError>> + Send + 'a>>;

/// A place to keep blobs, upload sessions and metadata. See the [module docs](self).
pub trait Storage: Send + Sync + std::fmt::Debug {
    /// The size of a blob, or `None` when the store does not hold it.
    fn blob_size<'a>(&'a self, digest: &'a Digest) -> StorageFuture<'a, Option<u64>>;

    /// When a blob's content was written; `None` when the store does not hold it. Garbage
    /// collection reads it again right before removing a blob.
    fn blob_modified<'a>(&'a self, digest: &'a Digest) -> StorageFuture<'a, Option<SystemTime>>;

    /// A blob's bytes (all, or the inclusive `range`), streamed; `None` when absent.
    fn blob_read<'a>(
        &'a self,
        digest: &'a Digest,
        range: Option<ByteRange>,
    ) -> StorageFuture<'a, Option<ByteStream<'static>>>;

    /// A blob's file, opened for reading, when the backend keeps blobs as local files that
    /// never change once written (so the connection may send it with `sendfile`); `None` when
    /// absent or kept otherwise, and then [`blob_read`](Self::blob_read) serves it.
    fn blob_file<'a>(&'a self, digest: &'a Digest) -> StorageFuture<'a, Option<std::fs::File>> {
        let _ = digest;
        Box::pin(async { Ok(None) })
    }

    /// Stores small content the caller has already verified against `digest`. Atomic: a reader
    /// sees the whole blob or none of it.
    fn blob_put<'a>(&'a self, digest: &'a Digest, content: Bytes) -> StorageFuture<'a, ()>;

    /// Creates an empty upload session.
    fn upload_create<'a>(&'a self, id: &'a UploadId) -> StorageFuture<'a, ()>;

    /// Writes `data` at `offset`, discarding anything stored past `offset` first, and returns
    /// the number of bytes written, durable as `durability` says. An error of `data` itself
    /// comes back as [`StorageError::Source`].
    fn upload_write<'a>(
        &'a self,
        id: &'a UploadId,
        offset: u64,
        data: ByteStream<'a>,
        durability: Durability,
    ) -> StorageFuture<'a, u64>;

    /// Makes every byte written to an upload durable (after writes with
    /// [`Durability::Deferred`]). The default does nothing: a backend without a
    /// [`volatile_epoch`](Self::volatile_epoch) makes every write durable at once.
    fn upload_sync<'a>(&'a self, id: &'a UploadId) -> StorageFuture<'a, ()> {
        let _ = id;
        Box::pin(async { Ok(()) })
    }

    /// The id of the period within which writes that are not yet durable are seen whole by
    /// every user of the store: for a local filesystem, the machine's boot (a process that
    /// dies leaves its writes in the kernel's cache; only a machine crash loses them, and the
    /// machine then boots with a new id). `None` when no such period is known, and then
    /// callers ask for every write to be durable at once. See `store::upload_record`.
    fn volatile_epoch(&self) -> Option<&str> {
        None
    }

    /// The first `len` bytes of an upload, streamed.
    fn upload_read<'a>(
        &'a self,
        id: &'a UploadId,
        len: u64,
    ) -> StorageFuture<'a, ByteStream<'static>>;

    /// Turns the first `size` bytes of an upload into the blob `digest` (atomically) and ends
    /// the session. The caller has verified the digest.
    fn upload_commit<'a>(
        &'a self,
        id: &'a UploadId,
        size: u64,
        digest: &'a Digest,
    ) -> StorageFuture<'a, ()>;

    /// When the upload session was created (a backend may answer a later time, such as its
    /// last write, never an earlier one); `None` when there is no such session. Garbage
    /// collection ages a session by it when its state object was never written.
    fn upload_created<'a>(&'a self, id: &'a UploadId) -> StorageFuture<'a, Option<SystemTime>>;

    /// Deletes an upload's data and its state object; `false` when there was no such session.
    fn upload_delete<'a>(&'a self, id: &'a UploadId) -> StorageFuture<'a, bool>;

    /// Reads a metadata object.
    fn meta_get<'a>(&'a self, key: &'a Key) -> StorageFuture<'a, Option<Bytes>>;

    /// Writes a metadata object atomically (readers see the old or the new value, whole).
    fn meta_put<'a>(&'a self, key: &'a Key, value: Bytes) -> StorageFuture<'a, ()>;

    /// Writes a metadata object atomically for readers, without making it durable: after a
    /// machine crash it may hold its old value, the new one, or nothing readable, so only a
    /// record that carries its [`volatile_epoch`](Self::volatile_epoch) and has a durable
    /// fallback belongs here. The default writes durably.
    fn meta_put_volatile<'a>(&'a self, key: &'a Key, value: Bytes) -> StorageFuture<'a, ()> {
        self.meta_put(key, value)
    }

    /// Deletes a metadata object; `false` when it did not exist.
    fn meta_delete<'a>(&'a self, key: &'a Key) -> StorageFuture<'a, bool>;

    /// Writes an empty metadata object that need not survive a crash: a garbage collector's
    /// claim, which a crash abandons anyway. Readers see it at once, as any object; a backend
    /// may skip what makes the write durable (the filesystem skips its fsyncs).
    fn marker_put<'a>(&'a self, key: &'a Key) -> StorageFuture<'a, ()> {
        self.meta_put(key, Bytes::new())
    }

    /// Deletes an object written by [`marker_put`](Self::marker_put) (or any object whose
    /// removal need not survive a crash); `false` when it did not exist.
    fn marker_delete<'a>(&'a self, key: &'a Key) -> StorageFuture<'a, bool> {
        self.meta_delete(key)
    }

    /// Deletes metadata objects (missing ones are skipped); when it returns, every deletion
    /// is durable. A backend may make them durable together: the filesystem syncs each
    /// folder once, an object store sends one bulk request per 1,000 keys.
    fn meta_delete_all<'a>(&'a self, keys: &'a [Key]) -> StorageFuture<'a, ()> {
        Box::pin(async move {
            for key in keys {
                self.meta_delete(key).await?;
            }
            Ok(())
        })
    }

    /// Deletes objects whose removal need not survive a crash (as
    /// [`marker_delete`](Self::marker_delete)), many at once; missing ones are skipped.
    fn marker_delete_all<'a>(&'a self, keys: &'a [Key]) -> StorageFuture<'a, ()> {
        Box::pin(async move {
            for key in keys {
                self.marker_delete(key).await?;
            }
            Ok(())
        })
    }

    /// The names of the children of a folder (objects and sub-folders), sorted; empty when the
    /// folder does not exist.
    fn meta_list<'a>(&'a self, folder: &'a Key) -> StorageFuture<'a, Vec<String>>;

    /// Up to `limit` names of the objects directly in a folder of objects (such as a
    /// repository's tags) that sort byte-wise after `after`, sorted: one page of it. A backend that
    /// can start a listing at a key (an object store's `start-after`) answers at a cost in
    /// proportion to the page; this default lists the whole folder.
    fn meta_list_after<'a>(
        &'a self,
        folder: &'a Key,
        after: Option<&'a str>,
        limit: usize,
    ) -> StorageFuture<'a, Vec<String>> {
        Box::pin(async move { Ok(page_of(self.meta_list(folder).await?, after, limit)) })
    }

    /// When a metadata object was last written; `None` when it does not exist.
    fn meta_modified<'a>(&'a self, key: &'a Key) -> StorageFuture<'a, Option<SystemTime>>;

    /// Every blob in the store, in no particular order (for garbage collection).
    fn blob_list(&self) -> StorageFuture<'_, Vec<BlobInfo>>;

    /// Deletes a blob's content; `false` when it did not exist. Only garbage collection
    /// calls this: repositories merely unlink blobs.
    fn blob_delete<'a>(&'a self, digest: &'a Digest) -> StorageFuture<'a, bool>;
}

/// How soon [`Storage::upload_write`] makes the bytes it writes durable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Durable before the write returns.
    Now,
    /// Seen at once by every user of the store, durable only after a later write with
    /// [`Durability::Now`] or [`Storage::upload_sync`] (or whenever the backend gets to it):
    /// meant for a backend with a [`volatile_epoch`](Storage::volatile_epoch), whose callers
    /// record such progress with that epoch. A backend without one may treat it as `Now`.
    Deferred,
}

/// The page of sorted `names` after `after`, at most `limit` long.
fn page_of(names: Vec<String>, after: Option<&str>, limit: usize) -> Vec<String> {
    names
        .into_iter()
        .filter(|name| after.is_none_or(|after| name.as_str() > after))
        .take(limit)
        .collect()
}

/// A stored blob, as [`Storage::blob_list`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    /// Its digest.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// When it was written.
    pub modified: SystemTime,
}
