//! A registry on the in-memory backend driven through `Registry::handle` without any network
//! (the `Storage` contract itself is in [`crate::storage_contract`]).

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use oci_digest::Digest;
use oci_server_core::{MemoryStorage, Registry, RegistryConfig};

#[tokio::test]
async fn registry_on_memory_storage_without_a_network() {
    let registry = Registry::new(Arc::new(MemoryStorage::new()), RegistryConfig::default());
    let digest = Digest::compute(b"layer");
    let pushed = registry
        .handle(
            Request::post(format!("/v2/mem/blobs/uploads/?digest={digest}"))
                .body(Full::new(Bytes::from_static(b"layer")))
                .unwrap(),
        )
        .await;
    assert_eq!(pushed.status(), StatusCode::CREATED);
    let pulled = registry
        .handle(
            Request::get(format!("/v2/mem/blobs/{digest}"))
                .body(Full::<Bytes>::default())
                .unwrap(),
        )
        .await;
    assert_eq!(pulled.status(), StatusCode::OK);
    assert_eq!(
        pulled.into_body().collect().await.unwrap().to_bytes(),
        "layer"
    );
}
