//! Upload sessions live in the store: a restarted server finishes an upload begun before.

use oci_digest::{Algorithm, Digest};
use oci_server_core::{RegistryConfig, range::upload_progress};
use reqwest::StatusCode;

use crate::common::{TestRegistry, content, digest_with, header};

/// Starts an upload with `path` (the uploads URL and its query); its `Location`.
async fn start_upload(registry: &TestRegistry, path: &str) -> String {
    let started = registry.http.post(registry.url(path)).send().await.unwrap();
    header(&started, "location").to_owned()
}

/// Sends `bytes` as the chunk at `start` of the upload at `location`.
async fn patch_chunk(
    registry: &TestRegistry,
    location: &str,
    start: usize,
    bytes: &[u8],
) -> reqwest::Response {
    registry
        .http
        .patch(registry.url(location))
        .header(
            "content-range",
            format!("{start}-{}", start + bytes.len() - 1),
        )
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap()
}

/// Finishes the upload at `location` with `bytes` as its last chunk.
async fn finish(
    registry: &TestRegistry,
    location: &str,
    digest: &Digest,
    bytes: &[u8],
) -> reqwest::Response {
    registry
        .http
        .put(format!("{}?digest={digest}", registry.url(location)))
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_chunked_upload_survives_a_restart() {
    let root = tempfile::tempdir().unwrap();
    for (algorithm, query) in [
        (Algorithm::Sha256, ""),
        (Algorithm::Sha512, "?digest-algorithm=sha512"),
    ] {
        let data = content(300_000, 42);
        let digest: Digest = digest_with(&algorithm, &data);

        let before = TestRegistry::on_root(root.path(), RegistryConfig::default()).await;
        let location = start_upload(&before, &format!("/v2/resume/blobs/uploads/{query}")).await;
        let first = patch_chunk(&before, &location, 0, &data[..100_000]).await;
        assert_eq!(first.status(), StatusCode::ACCEPTED);
        before.stop().await;

        let after = TestRegistry::on_root(root.path(), RegistryConfig::default()).await;
        let status = after.get(&location).await;
        assert_eq!(status.status(), StatusCode::NO_CONTENT);
        assert_eq!(header(&status, "range"), "0-99999");
        let second = patch_chunk(&after, &location, 100_000, &data[100_000..200_000]).await;
        assert_eq!(second.status(), StatusCode::ACCEPTED);
        let done = finish(&after, &location, &digest, &data[200_000..]).await;
        assert_eq!(
            done.status(),
            StatusCode::CREATED,
            "{}",
            done.text().await.unwrap()
        );
        let pulled = after.get(&format!("/v2/resume/blobs/{digest}")).await;
        assert_eq!(pulled.bytes().await.unwrap(), data);
        after.stop().await;
    }
}

/// What a machine crash leaves of a chunked upload: the progress recorded after each chunk
/// (not synced) belongs to the boot before, and the data past the last durable state may be
/// gone. The status then reports that state's offset, a chunk sent from where the client had
/// got to is refused with 416, and the upload resumes from the reported offset to a blob of
/// the bytes sent.
#[tokio::test]
async fn after_a_machine_crash_a_chunked_upload_resumes_from_its_last_durable_offset() {
    let root = tempfile::tempdir().unwrap();
    let data = content(300_000, 7);
    let digest = Digest::compute(&data);
    let before = TestRegistry::on_root(root.path(), RegistryConfig::default()).await;
    let location = start_upload(&before, "/v2/crashed/blobs/uploads/").await;
    for start in [0, 100_000] {
        let patched = patch_chunk(&before, &location, start, &data[start..start + 100_000]).await;
        assert_eq!(patched.status(), StatusCode::ACCEPTED);
    }
    before.stop().await;

    let id = location
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap();
    let session = root.path().join("uploads").join(id);
    let progress = session.join("progress");
    let mut record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&progress).unwrap()).unwrap();
    assert_eq!(record["offset"], 200_000, "the progress counts both chunks");
    record["epoch"] = "the boot before the crash".into();
    std::fs::write(&progress, serde_json::to_vec(&record).unwrap()).unwrap();
    // The chunks were never synced: a crash may take them.
    std::fs::write(session.join("data"), b"").unwrap();

    let after = TestRegistry::on_root(root.path(), RegistryConfig::default()).await;
    let status = after.get(&location).await;
    assert_eq!(status.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&status, "range"), upload_progress(0));
    let ahead = patch_chunk(&after, &location, 200_000, &data[200_000..]).await;
    assert_eq!(ahead.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    let resumed = patch_chunk(&after, &location, 0, &data[..200_000]).await;
    assert_eq!(resumed.status(), StatusCode::ACCEPTED);
    let done = finish(&after, &location, &digest, &data[200_000..]).await;
    assert_eq!(done.status(), StatusCode::CREATED);
    let pulled = after.get(&format!("/v2/crashed/blobs/{digest}")).await;
    assert_eq!(pulled.bytes().await.unwrap(), data);
    after.stop().await;
}
