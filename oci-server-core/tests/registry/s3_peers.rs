//! The object-storage backend on the real S3-compatible servers of `oci-test-support`
//! (`moto_server`, which does not check signatures, and `s3s-fs`, which checks SigV4).

use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use oci_server_core::storage::ObjectStorage;

pub use oci_test_support::peers::S3Server;

/// An in-process backend on `server` under `prefix`.
pub fn object_storage(server: &S3Server, prefix: &str) -> ObjectStorage {
    let store = AmazonS3Builder::new()
        .with_endpoint(&server.endpoint)
        .with_bucket_name(&server.bucket)
        .with_access_key_id(&server.access_key)
        .with_secret_access_key(&server.secret_key)
        .with_region("us-east-1")
        .with_allow_http(true)
        .build()
        .unwrap();
    ObjectStorage::with_paged_listing(Arc::new(store), prefix).unwrap()
}
