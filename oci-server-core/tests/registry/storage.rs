//! The `Storage` contract, checked on every backend the same way (a future object-store
//! backend gets the same checks), and a registry on the in-memory backend driven through
//! `Registry::handle` without any network.

use std::sync::Arc;

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use oci_digest::Digest;
use oci_server_core::{
    ByteStream, FsStorage, MemoryStorage, Registry, RegistryConfig, RepoName, Storage, Tag,
    UploadId, range::ByteRange, storage::Key,
};

fn chunks(parts: &[&'static [u8]]) -> ByteStream<'static> {
    Box::pin(stream::iter(
        parts
            .iter()
            .map(|p| Ok(Bytes::from_static(p)))
            .collect::<Vec<_>>(),
    ))
}

async fn collect(mut stream: ByteStream<'static>) -> Vec<u8> {
    let mut all = Vec::new();
    while let Some(chunk) = stream.next().await {
        all.extend_from_slice(&chunk.unwrap());
    }
    all
}

pub async fn check_contract(storage: &dyn Storage) {
    // Uploads: write, overwrite a failed tail, read back, commit.
    let id = UploadId::random();
    storage.upload_create(&id).await.unwrap();
    assert_eq!(
        storage
            .upload_write(&id, 0, chunks(&[b"hello ", b"wor"]))
            .await
            .unwrap(),
        9
    );
    // A retry from offset 6 replaces what lay past it.
    assert_eq!(
        storage
            .upload_write(&id, 6, chunks(&[b"world"]))
            .await
            .unwrap(),
        5
    );
    assert_eq!(
        collect(storage.upload_read(&id, 11).await.unwrap()).await,
        b"hello world"
    );
    let digest = Digest::compute(b"hello world");
    assert_eq!(storage.blob_size(&digest).await.unwrap(), None);
    storage.upload_commit(&id, 11, &digest).await.unwrap();
    assert_eq!(storage.blob_size(&digest).await.unwrap(), Some(11));
    assert!(
        !storage.upload_delete(&id).await.unwrap(),
        "commit ends the session"
    );
    let range = ByteRange { start: 6, end: 10 };
    let part = storage
        .blob_read(&digest, Some(range))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(collect(part).await, b"world");

    // A failing source comes back as a source error.
    let id = UploadId::random();
    storage.upload_create(&id).await.unwrap();
    let failing: ByteStream<'static> = Box::pin(stream::iter([
        Ok(Bytes::from_static(b"ok")),
        Err(std::io::Error::other("client went away")),
    ]));
    let err = storage.upload_write(&id, 0, failing).await.unwrap_err();
    assert!(
        matches!(err, oci_server_core::StorageError::Source(_)),
        "{err:?}"
    );
    assert!(storage.upload_delete(&id).await.unwrap());
    let err = storage
        .upload_write(&id, 0, chunks(&[b"late"]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, oci_server_core::StorageError::UploadMissing { .. }),
        "{err:?}"
    );

    // Small blobs and metadata.
    let small = Digest::compute(b"{}");
    storage
        .blob_put(&small, Bytes::from_static(b"{}"))
        .await
        .unwrap();
    assert_eq!(
        collect(storage.blob_read(&small, None).await.unwrap().unwrap()).await,
        b"{}"
    );
    let repo = RepoName::parse("a/b").unwrap();
    for tag in ["v2", "v1"] {
        let key = Key::tag(&repo, &Tag::new(tag).unwrap());
        storage.meta_put(&key, Bytes::from(tag)).await.unwrap();
    }
    let v1 = Key::tag(&repo, &Tag::new("v1").unwrap());
    storage
        .meta_put(&v1, Bytes::from_static(b"new"))
        .await
        .unwrap();
    assert_eq!(storage.meta_get(&v1).await.unwrap().unwrap(), "new");
    assert_eq!(
        storage.meta_list(&Key::tags(&repo)).await.unwrap(),
        ["v1", "v2"]
    );
    assert_eq!(
        storage.meta_list(&Key::repositories()).await.unwrap(),
        ["a"]
    );
    assert!(storage.meta_delete(&v1).await.unwrap());
    assert!(!storage.meta_delete(&v1).await.unwrap());
    assert_eq!(storage.meta_get(&v1).await.unwrap(), None);
    let nowhere = Key::tags(&RepoName::parse("none").unwrap());
    assert!(storage.meta_list(&nowhere).await.unwrap().is_empty());

    // What garbage collection needs: ages, the list of blobs, deleting one.
    let v2 = Key::tag(&repo, &Tag::new("v2").unwrap());
    let written = storage.meta_modified(&v2).await.unwrap().unwrap();
    assert!(written <= std::time::SystemTime::now());
    assert_eq!(storage.meta_modified(&v1).await.unwrap(), None);
    let mut listed: Vec<(String, u64)> = storage
        .blob_list()
        .await
        .unwrap()
        .into_iter()
        .map(|b| (b.digest.to_string(), b.size))
        .collect();
    listed.sort();
    let mut expected = vec![(digest.to_string(), 11), (small.to_string(), 2)];
    expected.sort();
    assert_eq!(listed, expected);
    assert!(storage.blob_delete(&small).await.unwrap());
    assert!(!storage.blob_delete(&small).await.unwrap());
    assert_eq!(storage.blob_size(&small).await.unwrap(), None);
}

#[tokio::test]
async fn filesystem_backend_keeps_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    check_contract(&FsStorage::open(dir.path()).await.unwrap()).await;
}

#[tokio::test]
async fn memory_backend_keeps_the_contract() {
    check_contract(&MemoryStorage::new()).await;
}

#[cfg(feature = "object-store")]
#[tokio::test]
async fn object_backend_on_an_in_memory_object_store_keeps_the_contract() {
    let store = Arc::new(object_store::memory::InMemory::new());
    check_contract(&oci_server_core::storage::ObjectStorage::new(store, "some/prefix").unwrap())
        .await;
}

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
