//! Garbage collection never removes what the registry acknowledged within the grace period:
//! content uploaded again or mounted after it aged, a blob a client saw before naming it in a
//! manifest, an upload a slow request holds, and a read that meets a sweep's claim.
//!
//! "Two hours pass" is played by making every stored time two hours older and starting a new
//! registry on the same store (a new process remembers no recent marks).

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, SystemTime},
};

use bytes::Bytes;
use futures_util::StreamExt;
use oci_digest::Digest;
use oci_server_core::{
    FsStorage, GcOptions, MemoryStorage, RegistryConfig, Storage, UploadId, collect_garbage,
    storage::Key,
};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{OCI_MANIFEST, TestRegistry, content, files_under, header};

const TWO_HOURS: Duration = Duration::from_secs(7200);

/// A store whose clock can be turned back.
struct AgingStore {
    storage: Arc<dyn Storage>,
    age: Box<dyn Fn(Duration) + Send + Sync>,
    _dir: Option<tempfile::TempDir>,
}

impl AgingStore {
    async fn filesystem() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root: PathBuf = dir.path().to_owned();
        Self {
            storage: Arc::new(FsStorage::open(&root).await.unwrap()),
            age: Box::new(move |by| {
                // Files a running registry replaces meanwhile (heartbeats) may vanish.
                for file in files_under(&root) {
                    let Ok(modified) = std::fs::metadata(&file).and_then(|m| m.modified()) else {
                        continue;
                    };
                    if let Ok(handle) = std::fs::File::options().write(true).open(&file) {
                        handle.set_modified(modified - by).unwrap();
                    }
                }
            }),
            _dir: Some(dir),
        }
    }

    fn memory() -> Self {
        let storage = Arc::new(MemoryStorage::new());
        let aged = Arc::clone(&storage);
        Self {
            storage,
            age: Box::new(move |by| aged.age_by(by)),
            _dir: None,
        }
    }

    async fn serve(&self, config: RegistryConfig) -> TestRegistry {
        TestRegistry::on_storage(self.storage.clone(), config.with_delete(true)).await
    }

    async fn collect(&self) -> oci_server_core::GcReport {
        collect_garbage(self.storage.clone(), &GcOptions::default())
            .await
            .unwrap()
    }
}

fn image_naming(config: &Digest, config_len: usize, layer: &Digest, layer_len: usize) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config.as_str(), "size": config_len},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer.as_str(), "size": layer_len}],
    }))
    .unwrap()
}

/// An orphan blob in `a`, two hours old, and a registry that started after those hours.
async fn aged_orphan(store: &AgingStore, layer: &[u8]) -> (Digest, TestRegistry) {
    let first = store.serve(RegistryConfig::default()).await;
    let digest = first.push_blob("a", layer).await;
    first.stop().await;
    (store.age)(TWO_HOURS);
    (digest, store.serve(RegistryConfig::default()).await)
}

async fn content_uploaded_again_or_mounted_survives(store: AgingStore) {
    let layer = content(3000, 1);
    let (digest, server) = aged_orphan(&store, &layer).await;
    server.push_blob("b", &layer).await;
    let mount = server
        .http
        .post(server.url(&format!("/v2/e/blobs/uploads/?mount={digest}&from=a")))
        .send()
        .await
        .unwrap();
    assert_eq!(mount.status(), StatusCode::CREATED);

    let report = store.collect().await;
    assert!(report.blobs.is_empty(), "{report:?}");
    for repo in ["b", "e"] {
        let path = format!("/v2/{repo}/blobs/{digest}");
        assert_eq!(server.head(&path).await.status(), StatusCode::OK, "{repo}");
    }
    let config = server.push_blob("b", b"{}").await;
    let manifest = image_naming(&config, 2, &digest, layer.len());
    let put = server
        .put_manifest("b", "v1", OCI_MANIFEST, &manifest)
        .await;
    assert_eq!(put.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn content_uploaded_again_or_mounted_survives_gc_on_the_filesystem() {
    content_uploaded_again_or_mounted_survives(AgingStore::filesystem().await).await;
}

#[tokio::test]
async fn content_uploaded_again_or_mounted_survives_gc_in_memory() {
    content_uploaded_again_or_mounted_survives(AgingStore::memory()).await;
}

/// A client HEADs an old blob, skips its upload, and pushes a manifest naming it after a
/// sweep: the layer is still there.
async fn a_blob_a_client_saw_survives(store: AgingStore) {
    let layer = content(2000, 2);
    let (digest, server) = aged_orphan(&store, &layer).await;
    let path = format!("/v2/a/blobs/{digest}");
    assert_eq!(server.head(&path).await.status(), StatusCode::OK);

    let report = store.collect().await;
    assert!(report.blobs.is_empty(), "{report:?}");
    let config = server.push_blob("a", b"{}").await;
    let manifest = image_naming(&config, 2, &digest, layer.len());
    let put = server
        .put_manifest("a", "v1", OCI_MANIFEST, &manifest)
        .await;
    assert_eq!(put.status(), StatusCode::CREATED);
    let pulled = server.get(&path).await;
    assert_eq!(pulled.status(), StatusCode::OK);
    assert_eq!(pulled.bytes().await.unwrap(), layer);
}

#[tokio::test]
async fn a_blob_a_client_saw_survives_gc_on_the_filesystem() {
    a_blob_a_client_saw_survives(AgingStore::filesystem().await).await;
}

#[tokio::test]
async fn a_blob_a_client_saw_survives_gc_in_memory() {
    a_blob_a_client_saw_survives(AgingStore::memory()).await;
}

/// A read that finds a sweep's claim waits for the sweep's decision: 404 when the sweep
/// removed the blob, 200 when it released the claim and kept it.
#[tokio::test]
async fn a_read_that_meets_a_sweeps_claim_answers_as_the_sweep_decided() {
    let store = AgingStore::memory();
    let server = store
        .serve(RegistryConfig::default().with_liveness_refresh(Duration::ZERO))
        .await;
    for (seed, removed) in [(3, true), (4, false)] {
        let digest = server.push_blob("a", &content(100, seed)).await;
        let claim = Key::claimed_blob(&digest);
        store.storage.meta_put(&claim, Bytes::new()).await.unwrap();
        let read = tokio::spawn({
            let (http, url) = (
                server.http.clone(),
                server.url(&format!("/v2/a/blobs/{digest}")),
            );
            async move { http.head(url).send().await.unwrap().status() }
        });
        if removed {
            store.storage.blob_delete(&digest).await.unwrap();
        }
        store.storage.meta_delete(&claim).await.unwrap();
        let expected = if removed {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        };
        assert_eq!(read.await.unwrap(), expected, "removed: {removed}");
    }
}

/// Waits until `key` was written after `since`; bounded, so a registry that never writes it
/// fails the test instead of hanging it.
async fn written_after(storage: &dyn Storage, key: &Key, since: SystemTime) {
    for _ in 0..2000 {
        if storage
            .meta_modified(key)
            .await
            .unwrap()
            .is_some_and(|m| m > since)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{} was never written", key.to_path_string());
}

/// A PATCH whose body takes longer than the grace period holds its session: a sweep in the
/// middle of it leaves the session alone, and the upload completes.
async fn an_upload_held_by_a_slow_request_survives(store: AgingStore) {
    let server = store
        .serve(RegistryConfig::default().with_liveness_refresh(Duration::ZERO))
        .await;
    let started = server
        .http
        .post(server.url("/v2/a/blobs/uploads/"))
        .send()
        .await
        .unwrap();
    let location = header(&started, "location").to_owned();
    let id = UploadId::parse(location.rsplit('/').next().unwrap()).unwrap();
    let data = content(4096, 5);
    let (send, receive) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(1);
    let body = reqwest::Body::wrap_stream(tokio_stream_of(receive));
    let patch = tokio::spawn(server.http.patch(server.url(&location)).body(body).send());
    send.send(Ok(Bytes::copy_from_slice(&data[..1024])))
        .await
        .unwrap();

    let mark = Key::live_upload(&id);
    written_after(store.storage.as_ref(), &mark, SystemTime::UNIX_EPOCH).await;
    // The request has now lasted "two hours": only its heartbeat can keep it.
    (store.age)(TWO_HOURS);
    written_after(
        store.storage.as_ref(),
        &mark,
        SystemTime::now() - Duration::from_secs(60),
    )
    .await;
    let report = store.collect().await;
    assert!(report.uploads.is_empty(), "{report:?}");

    send.send(Ok(Bytes::copy_from_slice(&data[1024..])))
        .await
        .unwrap();
    drop(send);
    let patched = patch.await.unwrap().unwrap();
    assert_eq!(patched.status(), StatusCode::ACCEPTED);
    let digest = Digest::compute(&data);
    let finished = server
        .http
        .put(server.url(&format!("{location}?digest={digest}")))
        .send()
        .await
        .unwrap();
    assert_eq!(finished.status(), StatusCode::CREATED);
}

fn tokio_stream_of<T: Send + 'static>(
    receive: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_util::Stream<Item = T> + Send + 'static {
    futures_util::stream::unfold(receive, |mut receive| async move {
        receive.recv().await.map(|item| (item, receive))
    })
    .boxed()
}

#[tokio::test]
async fn an_upload_held_by_a_slow_request_survives_gc_on_the_filesystem() {
    an_upload_held_by_a_slow_request_survives(AgingStore::filesystem().await).await;
}

#[tokio::test]
async fn an_upload_held_by_a_slow_request_survives_gc_in_memory() {
    an_upload_held_by_a_slow_request_survives(AgingStore::memory()).await;
}
