//! The object-storage backend against real S3-compatible servers (the storage contract is in
//! [`crate::storage_contract`]): blobs larger than a multipart part, and several `oci-registry` processes sharing one
//! bucket behaving as one registry.

use std::{ffi::OsStr, sync::Arc};

use oci_digest::Digest;
use oci_server_core::RegistryConfig;
use oci_test_support::peers::OciRegistry;
use reqwest::{Client, StatusCode};
use serde_json::json;

use crate::{
    common::{OCI_MANIFEST, TestRegistry, content, header},
    process,
    s3_peers::{S3Server, object_storage},
};

/// Bigger than one 8 MiB part, so both the write and the commit go through multipart
/// uploads.
const LARGE: usize = 20 << 20;

async fn pull_digest(http: &Client, url: String) -> Digest {
    let answer = http.get(url).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    Digest::compute(&answer.bytes().await.unwrap())
}

/// Pushes `chunks` as one chunked upload, alternating the registries the requests go to,
/// and returns the digest of the whole.
async fn chunked_push(http: &Client, bases: &[&str], repo: &str, chunks: &[Vec<u8>]) -> Digest {
    let whole: Vec<u8> = chunks.concat();
    let digest = Digest::compute(&whole);
    let started = http
        .post(format!("{}/v2/{repo}/blobs/uploads/", bases[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), StatusCode::ACCEPTED);
    let mut location = header(&started, "location").to_owned();
    let mut offset = 0usize;
    for (index, chunk) in chunks.iter().enumerate() {
        let base = bases[(index + 1) % bases.len()];
        let end = offset + chunk.len() - 1;
        let answer = http
            .patch(format!("{base}{location}"))
            .header("content-range", format!("{offset}-{end}"))
            .header("content-type", "application/octet-stream")
            .body(chunk.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::ACCEPTED);
        assert_eq!(header(&answer, "range"), format!("0-{end}"));
        location = header(&answer, "location").to_owned();
        offset += chunk.len();
    }
    let status = http
        .get(format!("{}{location}", bases[0]))
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&status, "range"), format!("0-{}", offset - 1));
    let last = bases[chunks.len() % bases.len()];
    let separator = if location.contains('?') { '&' } else { '?' };
    let finished = http
        .put(format!("{last}{location}{separator}digest={digest}"))
        .send()
        .await
        .unwrap();
    assert_eq!(finished.status(), StatusCode::CREATED);
    digest
}

async fn large_blobs_round_trip(s3: &S3Server) {
    let server = TestRegistry::on_storage(
        Arc::new(object_storage(s3, "large")),
        RegistryConfig::default().with_delete(true),
    )
    .await;
    let big = content(LARGE, 3);
    let digest = server.push_blob("big/one", &big).await;
    let url = server.url(&format!("/v2/big/one/blobs/{digest}"));
    assert_eq!(pull_digest(&server.http, url.clone()).await, digest);
    let ranged = server
        .http
        .get(&url)
        .header("range", "bytes=10485760-10485769")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        ranged.bytes().await.unwrap(),
        big[10 << 20..(10 << 20) + 10]
    );

    // Three writes of which two exceed a part: the commit streams them into one blob.
    let chunks = [content(9 << 20, 5), content(100, 6), content(9 << 20, 7)];
    let base = server.base.clone();
    let digest = chunked_push(&server.http, &[&base], "big/two", &chunks).await;
    let url = server.url(&format!("/v2/big/two/blobs/{digest}"));
    assert_eq!(pull_digest(&server.http, url).await, digest);
}

#[tokio::test]
async fn large_blobs_stream_through_multipart_uploads_on_moto() {
    large_blobs_round_trip(&S3Server::moto().await).await;
}

#[tokio::test]
async fn large_blobs_stream_through_multipart_uploads_on_s3s_fs() {
    large_blobs_round_trip(&S3Server::s3s_fs().await).await;
}

fn registry_on(s3: &S3Server, prefix: &str) -> OciRegistry {
    let location = s3.location(prefix);
    let args: [&OsStr; 3] = ["--storage".as_ref(), location.as_ref(), "--delete".as_ref()];
    process::spawn(&args, &s3.env())
}

/// Pushes through one process, pulls through the other, and spreads one chunked upload
/// over both.
async fn instances_act_as_one(s3: &S3Server) {
    let first = registry_on(s3, "shared");
    let second = registry_on(s3, "shared");
    let http = Client::new();
    let (a, b) = (first.base(), second.base());

    let layer = content(70_000, 9);
    let layer_digest = Digest::compute(&layer);
    let pushed = http
        .post(format!(
            "{a}/v2/team/app/blobs/uploads/?digest={layer_digest}"
        ))
        .body(layer.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), StatusCode::CREATED);
    let config = br#"{"architecture":"amd64","os":"linux"}"#.to_vec();
    let config_digest =
        chunked_push(&http, &[a, b], "team/app", std::slice::from_ref(&config)).await;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest.as_str(), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest.as_str(), "size": layer.len()}],
    }))
    .unwrap();
    let put = http
        .put(format!("{a}/v2/team/app/manifests/v1"))
        .header("content-type", OCI_MANIFEST)
        .body(manifest.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::CREATED);

    // Everything pushed through the first is visible through the second.
    let got = http
        .get(format!("{b}/v2/team/app/manifests/v1"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(got.bytes().await.unwrap(), manifest);
    let url = format!("{b}/v2/team/app/blobs/{layer_digest}");
    assert_eq!(pull_digest(&http, url).await, layer_digest);
    let tags: serde_json::Value = http
        .get(format!("{b}/v2/team/app/tags/list"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tags["tags"], json!(["v1"]));
    let catalog: serde_json::Value = http
        .get(format!("{b}/v2/_catalog"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(catalog["repositories"], json!(["team/app"]));

    // One upload, its requests alternating between the two processes.
    let chunks: Vec<Vec<u8>> = (0..5).map(|i| content(10_000 + i * 7, i as u8)).collect();
    let digest = chunked_push(&http, &[a, b], "team/app", &chunks).await;
    let url = format!("{a}/v2/team/app/blobs/{digest}");
    assert_eq!(pull_digest(&http, url).await, digest);

    // A delete through one is seen by the other.
    let deleted = http
        .delete(format!("{b}/v2/team/app/manifests/v1"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::ACCEPTED);
    let gone = http
        .get(format!("{a}/v2/team/app/manifests/v1"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn instances_sharing_a_moto_bucket_act_as_one_registry() {
    instances_act_as_one(&S3Server::moto().await).await;
}

#[tokio::test]
async fn instances_sharing_an_s3s_fs_bucket_act_as_one_registry() {
    instances_act_as_one(&S3Server::s3s_fs().await).await;
}
