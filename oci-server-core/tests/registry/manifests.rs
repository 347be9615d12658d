//! end-3 (GET/HEAD), end-7 (PUT, with tag parameters) and end-9 (DELETE).

use oci_digest::{Algorithm, Digest};
use oci_server_core::RegistryConfig;
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{OCI_INDEX, OCI_MANIFEST, TestRegistry, digest_with, error_code, header};

#[tokio::test]
async fn push_and_pull_by_tag_and_digest() {
    let server = TestRegistry::start().await;
    let (bytes, digest) = server.push_image("app", "v1", json!({})).await;
    for reference in ["v1".to_owned(), digest.to_string()] {
        let got = server.get(&format!("/v2/app/manifests/{reference}")).await;
        assert_eq!(got.status(), StatusCode::OK);
        assert_eq!(header(&got, "content-type"), OCI_MANIFEST);
        assert_eq!(header(&got, "docker-content-digest"), digest.as_str());
        assert_eq!(header(&got, "content-length"), bytes.len().to_string());
        assert_eq!(got.bytes().await.unwrap(), bytes, "exact bytes");

        let head = server.head(&format!("/v2/app/manifests/{reference}")).await;
        assert_eq!(head.status(), StatusCode::OK);
        assert_eq!(header(&head, "content-length"), bytes.len().to_string());
        assert_eq!(header(&head, "docker-content-digest"), digest.as_str());
    }
    let missing = server.get("/v2/app/manifests/v2").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(missing).await, "MANIFEST_UNKNOWN");
}

#[tokio::test]
async fn put_answers_location_digest_and_tags() {
    let server = TestRegistry::start().await;
    let config = server.push_blob("t", b"{}").await;
    let manifest = json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config.as_str(), "size": 2},
        "layers": []
    });
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let digest = Digest::compute(&bytes);
    let answer = server
        .http
        .put(server.url(&format!("/v2/t/manifests/{digest}?tag=a&tag=b")))
        .header("content-type", OCI_MANIFEST)
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::CREATED);
    assert_eq!(
        header(&answer, "location"),
        format!("/v2/t/manifests/{digest}")
    );
    assert_eq!(header(&answer, "docker-content-digest"), digest.as_str());
    let tags: Vec<_> = answer
        .headers()
        .get_all("oci-tag")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(tags, ["a", "b"]);
    for tag in ["a", "b"] {
        assert_eq!(
            server
                .get(&format!("/v2/t/manifests/{tag}"))
                .await
                .bytes()
                .await
                .unwrap(),
            bytes
        );
    }
}

#[tokio::test]
async fn push_by_digest_must_match_the_body() {
    let server = TestRegistry::start().await;
    let (bytes, _) = server.push_image("d", "v1", json!({})).await;
    let mut altered = bytes.clone();
    altered.extend_from_slice(b"  ");
    let claimed = Digest::compute(&bytes);
    let answer = server
        .put_manifest("d", claimed.as_str(), OCI_MANIFEST, &altered)
        .await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(answer).await, "DIGEST_INVALID");

    // sha512 digests are computed with sha512.
    let sha512 = digest_with(&Algorithm::Sha512, &bytes);
    let answer = server
        .put_manifest("d", sha512.as_str(), OCI_MANIFEST, &bytes)
        .await;
    assert_eq!(answer.status(), StatusCode::CREATED);
    assert_eq!(header(&answer, "docker-content-digest"), sha512.as_str());
    let got = server.get(&format!("/v2/d/manifests/{sha512}")).await;
    assert_eq!(got.bytes().await.unwrap(), bytes);
}

#[tokio::test]
async fn invalid_manifests_are_refused() {
    let server = TestRegistry::start().await;
    let not_json = server
        .put_manifest("i", "v1", OCI_MANIFEST, b"{not json")
        .await;
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(not_json).await, "MANIFEST_INVALID");

    let missing_blob = json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": Digest::compute(b"absent").as_str(), "size": 6},
        "layers": []
    });
    let answer = server
        .put_manifest(
            "i",
            "v1",
            OCI_MANIFEST,
            &serde_json::to_vec(&missing_blob).unwrap(),
        )
        .await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(answer).await, "MANIFEST_BLOB_UNKNOWN");

    let mismatch = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []});
    let answer = server
        .put_manifest(
            "i",
            "v1",
            OCI_MANIFEST,
            &serde_json::to_vec(&mismatch).unwrap(),
        )
        .await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(answer).await, "MANIFEST_INVALID");

    let bad_tag = server.put_manifest("i", "-bad", OCI_MANIFEST, b"{}").await;
    assert_eq!(bad_tag.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_reference_that_cannot_exist_is_unknown_and_cannot_be_pushed_to() {
    let server = TestRegistry::start().await;
    server.push_image("r", "v1", json!({})).await;
    // The v1.1 conformance suite's reference: not a valid tag, so no manifest can have it.
    let path = "/v2/r/manifests/.INVALID_MANIFEST_NAME";
    let got = server.get(path).await;
    assert_eq!(got.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(got).await, "MANIFEST_UNKNOWN");
    assert_eq!(server.head(path).await.status(), StatusCode::NOT_FOUND);
    let deleted = server.delete(path).await;
    assert_eq!(deleted.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(deleted).await, "MANIFEST_UNKNOWN");
    let malformed = server.get("/v2/r/manifests/sha256:totallywrong").await;
    assert_eq!(malformed.status(), StatusCode::NOT_FOUND);

    let pushed = server
        .put_manifest("r", ".INVALID_MANIFEST_NAME", OCI_MANIFEST, b"{}")
        .await;
    assert_eq!(pushed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(pushed).await, "MANIFEST_INVALID");
    let pushed = server
        .put_manifest("r", "sha256:totallywrong", OCI_MANIFEST, b"blablabla")
        .await;
    assert_eq!(pushed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(pushed).await, "DIGEST_INVALID");
}

#[tokio::test]
async fn sparse_images_are_refused_unless_allowed() {
    let config_blob = Digest::compute(b"{}");
    let never_pushed = Digest::compute(b"a layer nobody pushed");
    let sparse = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_blob.as_str(), "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": never_pushed.as_str(), "size": 21}]
    }))
    .unwrap();
    for allowed in [false, true] {
        let config = RegistryConfig::default().with_sparse_images(allowed);
        let server = TestRegistry::with_config(config).await;
        server.push_blob("s", b"{}").await;
        let answer = server.put_manifest("s", "v1", OCI_MANIFEST, &sparse).await;
        if allowed {
            assert_eq!(answer.status(), StatusCode::CREATED);
            let got = server.get("/v2/s/manifests/v1").await;
            assert_eq!(got.bytes().await.unwrap(), sparse, "stored byte for byte");
        } else {
            assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
            assert_eq!(error_code(answer).await, "MANIFEST_BLOB_UNKNOWN");
        }
    }
}

#[tokio::test]
async fn urls_layers_sparse_indexes_and_missing_subjects_are_allowed() {
    let server = TestRegistry::start().await;
    let config = server.push_blob("s", b"{}").await;
    let foreign = json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config.as_str(), "size": 2},
        "layers": [{
            "mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
            "digest": Digest::compute(b"elsewhere").as_str(), "size": 9,
            "urls": ["https://example.com/layer"]
        }],
        "subject": {"mediaType": OCI_MANIFEST, "digest": Digest::compute(b"missing").as_str(), "size": 7}
    });
    let answer = server
        .put_manifest(
            "s",
            "foreign",
            OCI_MANIFEST,
            &serde_json::to_vec(&foreign).unwrap(),
        )
        .await;
    assert_eq!(
        answer.status(),
        StatusCode::CREATED,
        "{}",
        answer.text().await.unwrap()
    );

    let sparse = json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": Digest::compute(b"child").as_str(), "size": 5,
                        "platform": {"os": "linux", "architecture": "arm64"}}]
    });
    let answer = server
        .put_manifest(
            "s",
            "sparse",
            OCI_INDEX,
            &serde_json::to_vec(&sparse).unwrap(),
        )
        .await;
    assert_eq!(answer.status(), StatusCode::CREATED);
    assert_eq!(
        header(&server.get("/v2/s/manifests/sparse").await, "content-type"),
        OCI_INDEX
    );
}

#[tokio::test]
async fn manifest_size_limit() {
    let server =
        TestRegistry::with_config(RegistryConfig::default().with_max_manifest_size(1024)).await;
    let config = server.push_blob("big", b"{}").await;
    let manifest = json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config.as_str(), "size": 2},
        "layers": [],
        "annotations": {"padding": "x".repeat(2000)}
    });
    let answer = server
        .put_manifest(
            "big",
            "v1",
            OCI_MANIFEST,
            &serde_json::to_vec(&manifest).unwrap(),
        )
        .await;
    assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(answer).await, "SIZE_INVALID");
}

#[tokio::test]
async fn default_limit_accepts_4_mib() {
    let server = TestRegistry::start().await;
    let config = server.push_blob("big", b"{}").await;
    let mut manifest = json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config.as_str(), "size": 2},
        "layers": [],
        "annotations": {"padding": ""}
    });
    let base = serde_json::to_vec(&manifest).unwrap().len();
    manifest["annotations"]["padding"] = json!("x".repeat(4 * 1024 * 1024 - base));
    let bytes = serde_json::to_vec(&manifest).unwrap();
    assert_eq!(bytes.len(), 4 * 1024 * 1024);
    let answer = server.put_manifest("big", "v1", OCI_MANIFEST, &bytes).await;
    assert_eq!(answer.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn deleting_a_tag_keeps_the_manifest_deleting_a_digest_removes_its_tags() {
    let server = TestRegistry::start().await;
    let (_, digest) = server.push_image("del", "one", json!({})).await;
    server.push_image("del", "two", json!({})).await;
    let answer = server
        .put_manifest(
            "del",
            "three",
            OCI_MANIFEST,
            &server
                .get("/v2/del/manifests/one")
                .await
                .bytes()
                .await
                .unwrap(),
        )
        .await;
    assert_eq!(answer.status(), StatusCode::CREATED);

    assert_eq!(
        server.delete("/v2/del/manifests/one").await.status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(
        server.head("/v2/del/manifests/one").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server
            .head(&format!("/v2/del/manifests/{digest}"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        server.delete("/v2/del/manifests/one").await.status(),
        StatusCode::NOT_FOUND
    );

    assert_eq!(
        server
            .delete(&format!("/v2/del/manifests/{digest}"))
            .await
            .status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(
        server
            .head(&format!("/v2/del/manifests/{digest}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server.head("/v2/del/manifests/three").await.status(),
        StatusCode::NOT_FOUND,
        "tag of a deleted manifest"
    );
    assert_eq!(
        server.head("/v2/del/manifests/two").await.status(),
        StatusCode::OK
    );
    let gone = server.delete(&format!("/v2/del/manifests/{digest}")).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(gone).await, "MANIFEST_UNKNOWN");
}

/// Manifest content is kept in memory once read, but only behind the record: a manifest
/// read and then deleted is unknown at once, and content on disk that no longer matches its
/// digest is refused rather than served.
#[tokio::test]
async fn kept_manifest_content_never_outlives_its_record_or_hides_corruption() {
    let server = TestRegistry::start().await;
    let (bytes, digest) = server.push_image("kept", "v1", json!({})).await;
    let by_digest = format!("/v2/kept/manifests/{digest}");
    assert_eq!(server.get(&by_digest).await.bytes().await.unwrap(), bytes);
    assert_eq!(
        server.delete(&by_digest).await.status(),
        StatusCode::ACCEPTED
    );
    let gone = server.get(&by_digest).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(gone).await, "MANIFEST_UNKNOWN");

    let (bytes, digest) = server.push_image("torn", "v1", json!({"torn": true})).await;
    let encoded = digest.encoded();
    let stored = server
        .root()
        .join("blobs/sha256")
        .join(&encoded[..2])
        .join(encoded);
    let mut altered = bytes.clone();
    altered[0] ^= 1;
    std::fs::write(&stored, &altered).unwrap();
    let refused = server.get("/v2/torn/manifests/v1").await;
    assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(refused).await, "MANIFEST_UNKNOWN");
}
