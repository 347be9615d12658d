//! The `Storage` contract, written once ([`clauses`]) and run on every backend as one test per
//! clause: the filesystem, memory, object storage over an in-memory object store, and (with
//! the `s3` feature) the real S3-compatible servers `moto_server` and `s3s-fs`. A new backend
//! is one more constructor and one more line in [`on_every_backend`].

pub mod clauses;

use std::{any::Any, sync::Arc};

use oci_server_core::Storage;

/// A backend under test and whatever keeps it alive (a temporary folder, a server process).
pub struct Backend {
    pub storage: Arc<dyn Storage>,
    _keep: Box<dyn Any + Send>,
}

impl Backend {
    fn new(storage: impl Storage + 'static, keep: impl Any + Send) -> Self {
        Self {
            storage: Arc::new(storage),
            _keep: Box::new(keep),
        }
    }

    pub async fn fs() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let storage = oci_server_core::FsStorage::open(dir.path()).await.unwrap();
        Self::new(storage, dir)
    }

    pub async fn memory() -> Self {
        Self::new(oci_server_core::MemoryStorage::new(), ())
    }

    #[cfg(feature = "object-store")]
    pub async fn object_in_memory() -> Self {
        let store = std::sync::Arc::new(object_store::memory::InMemory::new());
        let storage = oci_server_core::storage::ObjectStorage::new(store, "some/prefix").unwrap();
        Self::new(storage, ())
    }

    #[cfg(feature = "s3")]
    pub async fn moto() -> Self {
        let server = crate::s3_peers::S3Server::moto().await;
        Self::new(crate::s3_peers::object_storage(&server, "contract"), server)
    }

    #[cfg(feature = "s3")]
    pub async fn s3s_fs() -> Self {
        let server = crate::s3_peers::S3Server::s3s_fs().await;
        Self::new(crate::s3_peers::object_storage(&server, ""), server)
    }
}

/// For each backend, `mod <backend> { one #[tokio::test] per clause }`: each test opens a
/// fresh backend and calls `<module>::<clause>(&Arc<dyn Storage>)`. Used for the contract
/// below and for garbage collection.
macro_rules! on_every_backend {
    ($($module:ident)::+; $($clause:ident),* $(,)?) => {
        mod fs {
            $crate::storage_contract::on_every_backend!(@tests $crate::storage_contract::Backend::fs(); $($module)::+; $($clause),*);
        }
        mod memory {
            $crate::storage_contract::on_every_backend!(@tests $crate::storage_contract::Backend::memory(); $($module)::+; $($clause),*);
        }
        #[cfg(feature = "object-store")]
        mod object_in_memory {
            $crate::storage_contract::on_every_backend!(@tests $crate::storage_contract::Backend::object_in_memory(); $($module)::+; $($clause),*);
        }
        #[cfg(feature = "s3")]
        mod moto {
            $crate::storage_contract::on_every_backend!(@tests $crate::storage_contract::Backend::moto(); $($module)::+; $($clause),*);
        }
        #[cfg(feature = "s3")]
        mod s3s_fs {
            $crate::storage_contract::on_every_backend!(@tests $crate::storage_contract::Backend::s3s_fs(); $($module)::+; $($clause),*);
        }
    };
    (@tests $open:expr; $($module:ident)::+; $($clause:ident),*) => {
        use $($module)::+ as under_test;
        $(
            #[tokio::test]
            async fn $clause() {
                let backend = $open.await;
                under_test::$clause(&backend.storage).await;
            }
        )*
    };
}
pub(crate) use on_every_backend;

on_every_backend!(crate::storage_contract::clauses;
    a_write_counts_its_bytes_and_reads_back,
    a_write_at_an_offset_replaces_what_lay_past_it,
    a_commit_makes_the_blob_and_ends_the_session,
    a_commit_takes_only_the_first_size_bytes,
    a_range_read_gives_the_inclusive_bytes,
    an_absent_blob_has_no_size_content_or_time,
    a_blob_put_reads_back_whole,
    a_failing_source_is_a_source_error,
    a_deleted_upload_takes_no_more_writes,
    an_upload_has_a_creation_time_and_an_unknown_one_none,
    meta_put_overwrites_whole,
    meta_list_is_sorted,
    a_missing_folder_lists_empty,
    meta_delete_says_whether_there_was_one,
    meta_modified_is_the_write_time_or_none,
    markers_are_read_as_objects_and_deleted,
    blob_list_names_every_blob_with_its_size,
    blob_delete_says_whether_there_was_one,
    an_empty_write_writes_nothing_and_drops_nothing,
    deleting_a_session_of_several_writes_removes_all_of_it,
    deferred_writes_read_back_and_commit_after_a_sync,
    a_volatile_record_reads_back_and_goes_with_its_session,
    meta_list_after_pages_a_folder,
    meta_list_after_pages_beyond_one_request,
    deleting_many_objects_removes_exactly_those_named,
    deleting_many_markers_removes_exactly_those_named,
);
