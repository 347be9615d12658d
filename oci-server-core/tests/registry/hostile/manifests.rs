//! Manifests over the size limit however they arrive, that are not JSON or not a manifest,
//! that nest without end, whose media type disagrees with their `Content-Type`, or that name
//! content the repository does not hold. Each push goes at the victim's tag, which must not
//! move.

use futures_util::stream;
use oci_digest::Digest;
use oci_server_core::RegistryConfig;
use reqwest::{Body, StatusCode};
use serde_json::{Value, json};

use super::{
    expect::{raw_refused, refused},
    guarded::{GuardedStore, VICTIM, VICTIM_TAG},
};
use crate::common::{OCI_INDEX, OCI_MANIFEST, TestRegistry};

const EMPTY_CONFIG: &str = "application/vnd.oci.empty.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// A valid image manifest in `repo` (its config pushed), with `extra` fields merged in.
async fn image(server: &TestRegistry, repo: &str, extra: Value) -> Value {
    let config = server.push_blob(repo, b"{}").await;
    let mut manifest = json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": EMPTY_CONFIG, "digest": config.as_str(), "size": 2},
        "layers": []
    });
    if let (Value::Object(target), Value::Object(fields)) = (&mut manifest, extra) {
        target.extend(fields);
    }
    manifest
}

/// PUTs `body` at the victim's tag and expects 400 with `code`.
async fn refused_at_tag(store: &GuardedStore, content_type: &str, body: &[u8], code: &str) {
    let answer = store
        .put_manifest(VICTIM, VICTIM_TAG, content_type, body)
        .await;
    let text = String::from_utf8_lossy(body);
    let case = format!(
        "{content_type}: {:.100}...{}",
        text,
        &text[text.len().saturating_sub(200)..]
    );
    refused(answer, StatusCode::BAD_REQUEST, code, &case).await;
}

#[tokio::test]
async fn oversized_manifests_get_413_however_they_arrive() {
    let limit = 4096;
    let config = RegistryConfig::default()
        .with_delete(true)
        .with_max_manifest_size(limit);
    let store = GuardedStore::with_config(config).await;
    let padding = "x".repeat(2 * limit as usize);
    let big = image(&store, VICTIM, json!({"annotations": {"padding": padding}})).await;
    let big = serde_json::to_vec(&big).unwrap();
    let target = store.url(&format!("/v2/{VICTIM}/manifests/{VICTIM_TAG}"));

    let declared = store
        .http
        .put(&target)
        .header("content-type", OCI_MANIFEST)
        .body(big.clone());
    let answer = declared.send().await.unwrap();
    refused(
        answer,
        StatusCode::PAYLOAD_TOO_LARGE,
        "SIZE_INVALID",
        "with Content-Length",
    )
    .await;

    // No Content-Length: chunked, in small pieces, so the cap is met while reading.
    let pieces: Vec<Result<Vec<u8>, std::io::Error>> =
        big.chunks(100).map(|c| Ok(c.to_vec())).collect();
    let streamed = store
        .http
        .put(&target)
        .header("content-type", OCI_MANIFEST)
        .body(Body::wrap_stream(stream::iter(pieces)))
        .send()
        .await
        .unwrap();
    refused(
        streamed,
        StatusCode::PAYLOAD_TOO_LARGE,
        "SIZE_INVALID",
        "chunked",
    )
    .await;

    // Announcing a terabyte is enough to be refused: nothing is read.
    let mut request = store.raw_head(
        "PUT",
        &format!("/v2/{VICTIM}/manifests/{VICTIM_TAG}"),
        &[
            ("content-type", OCI_MANIFEST.to_owned()),
            ("content-length", (1u64 << 40).to_string()),
        ],
    );
    request.extend_from_slice(&big[..100]);
    let answer = store.raw_send(&request, false).await;
    raw_refused(&answer, 413, "SIZE_INVALID", "announced a terabyte");
    store.assert_intact().await;
}

#[tokio::test]
async fn bytes_that_are_not_a_manifest_are_invalid() {
    let store = GuardedStore::start().await;
    let valid = serde_json::to_vec(&image(&store, VICTIM, json!({})).await).unwrap();
    let with = |patch: Value| {
        let mut manifest: Value = serde_json::from_slice(&valid).unwrap();
        for (key, value) in patch.as_object().unwrap() {
            manifest[key] = value.clone();
        }
        serde_json::to_vec(&manifest).unwrap()
    };
    let text = String::from_utf8(valid.clone()).unwrap();
    let config_digest = text
        .split("\"digest\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let mut bodies: Vec<Vec<u8>> = [
        "",
        " ",
        "null",
        "[]",
        "\"manifest\"",
        "42",
        "{",
        "}",
        "{}x",
        &text[..text.len() - 1],
        &format!("{text}{text}"),
        &format!("{text} trailing"),
        &text.replace("\"layers\":[]", "\"layers\":[],\"layers\":[]"),
    ]
    .iter()
    .map(|b| b.as_bytes().to_vec())
    .collect();
    bodies.push([b"\xef\xbb\xbf".as_slice(), &valid].concat());
    bodies.push([b"{\"x\":\"\xff\",".as_slice(), &valid[1..]].concat());
    bodies.push(text.replace(&config_digest, "sha256:\u{0}").into_bytes());
    for patch in [
        json!({"schemaVersion": 1}),
        json!({"schemaVersion": "2"}),
        json!({"schemaVersion": 3}),
        json!({"schemaVersion": null}),
        json!({"config": "none"}),
        json!({"config": null}),
        json!({"layers": {}}),
        json!({"layers": [{"mediaType": "x/y"}]}),
        json!({"config": {"mediaType": EMPTY_CONFIG, "digest": "sha256:abc", "size": 2}}),
        json!({"config": {"mediaType": EMPTY_CONFIG, "digest": config_digest, "size": -1}}),
        json!({"config": {"mediaType": EMPTY_CONFIG, "digest": config_digest, "size": 1e30}}),
        json!({"config": {"mediaType": EMPTY_CONFIG, "digest": config_digest, "size": "2"}}),
        json!({"config": {"mediaType": 7, "digest": config_digest, "size": 2}}),
        json!({"config": {"mediaType": EMPTY_CONFIG, "digest": config_digest, "size": 2, "data": "not base64!"}}),
        json!({"config": {"mediaType": EMPTY_CONFIG, "digest": config_digest, "size": 2, "data": "e30K"}}),
        json!({"annotations": {"key": 7}}),
        json!({"subject": {"mediaType": OCI_MANIFEST, "digest": "sha256:00", "size": 1}}),
    ] {
        bodies.push(with(patch));
    }
    for body in &bodies {
        refused_at_tag(&store, OCI_MANIFEST, body, "MANIFEST_INVALID").await;
    }
    store.assert_intact().await;
}

#[tokio::test]
async fn deep_nesting_is_refused_without_overflowing_the_stack() {
    let store = GuardedStore::start().await;
    let depth = 100_000;
    let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    let valid = serde_json::to_vec(&image(&store, VICTIM, json!({})).await).unwrap();
    let valid = String::from_utf8(valid).unwrap();
    let inside =
        |field: &str, deep: &str| valid.replacen('{', &format!("{{\"{field}\":{deep},"), 1);
    let bodies = [
        arrays.clone(),
        objects.clone(),
        inside("unknown", &arrays),
        inside("unknown", &objects),
        inside("annotations", &objects),
        inside("layers", &arrays),
        valid.replacen(
            "\"size\":2",
            &format!("\"size\":2,\"platform\":{objects}"),
            1,
        ),
    ];
    for body in &bodies {
        refused_at_tag(&store, OCI_MANIFEST, body.as_bytes(), "MANIFEST_INVALID").await;
        refused_at_tag(&store, OCI_INDEX, body.as_bytes(), "MANIFEST_INVALID").await;
    }
    assert_eq!(store.get("/v2/").await.status(), StatusCode::OK);
    store.assert_intact().await;
}

#[tokio::test]
async fn media_type_and_content_type_must_agree() {
    let store = GuardedStore::start().await;
    let image_body = serde_json::to_vec(&image(&store, VICTIM, json!({})).await).unwrap();
    for content_type in [
        OCI_INDEX,
        DOCKER_MANIFEST,
        DOCKER_LIST,
        "application/vnd.oci.image.config.v1+json",
        "text/plain",
        "application/vnd.oci.image.manifest.v2+json",
    ] {
        refused_at_tag(&store, content_type, &image_body, "MANIFEST_INVALID").await;
    }
    let index_body = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []
    }))
    .unwrap();
    for content_type in [DOCKER_MANIFEST, DOCKER_LIST] {
        refused_at_tag(&store, content_type, &index_body, "MANIFEST_INVALID").await;
    }
    // Without a mediaType field: the shape must fit the Content-Type.
    let mut shapeless: Value = serde_json::from_slice(&image_body).unwrap();
    shapeless.as_object_mut().unwrap().remove("mediaType");
    let shapeless = serde_json::to_vec(&shapeless).unwrap();
    refused_at_tag(&store, OCI_INDEX, &shapeless, "MANIFEST_INVALID").await;
    // Image and index at once, and a mediaType that is no manifest's.
    let mut hybrid: Value = serde_json::from_slice(&image_body).unwrap();
    hybrid["manifests"] = json!([]);
    refused_at_tag(
        &store,
        OCI_MANIFEST,
        &serde_json::to_vec(&hybrid).unwrap(),
        "MANIFEST_INVALID",
    )
    .await;
    let mut config_typed: Value = serde_json::from_slice(&image_body).unwrap();
    config_typed["mediaType"] = json!("application/vnd.oci.image.config.v1+json");
    refused_at_tag(
        &store,
        "application/json",
        &serde_json::to_vec(&config_typed).unwrap(),
        "MANIFEST_INVALID",
    )
    .await;
    store.assert_intact().await;
}

#[tokio::test]
async fn manifests_naming_content_the_repository_lacks() {
    let mut store = GuardedStore::start().await;
    let layer = |digest: &Digest| json!([{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest.as_str(), "size": 100_000}]);

    // A layer nowhere in the store, and one that only another repository holds.
    let absent = Digest::compute(b"never pushed");
    let missing = image(&store, VICTIM, json!({"layers": layer(&absent)})).await;
    let body = serde_json::to_vec(&missing).unwrap();
    refused_at_tag(&store, OCI_MANIFEST, &body, "MANIFEST_BLOB_UNKNOWN").await;
    let borrowed = image(&store, "attacker", json!({"layers": layer(&store.layer)})).await;
    let body = serde_json::to_vec(&borrowed).unwrap();
    let answer = store
        .put_manifest("attacker", "v1", OCI_MANIFEST, &body)
        .await;
    refused(
        answer,
        StatusCode::BAD_REQUEST,
        "MANIFEST_BLOB_UNKNOWN",
        "other repository's layer",
    )
    .await;
    let answer = store
        .head(&format!(
            "/v2/attacker/manifests/{}",
            Digest::compute(&body)
        ))
        .await;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);

    // An index naming manifests the repository lacks is accepted (sparse indexes are allowed:
    // `require_manifest_blobs` never applies to index children); the children stay unknown.
    let child = Digest::compute(b"child manifest never pushed");
    for (media_type, child_type) in [(OCI_INDEX, OCI_MANIFEST), (DOCKER_LIST, DOCKER_MANIFEST)] {
        let index = serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": media_type,
            "manifests": [{"mediaType": child_type, "digest": child.as_str(), "size": 7,
                           "platform": {"architecture": "amd64", "os": "linux"}}]
        }))
        .unwrap();
        let tag = if media_type == OCI_INDEX {
            "sparse"
        } else {
            "sparse-docker"
        };
        let answer = store.put_manifest(VICTIM, tag, media_type, &index).await;
        assert_eq!(answer.status(), StatusCode::CREATED, "{media_type}");
        store.keep(&format!("/v2/{VICTIM}/manifests/{tag}"), index);
    }
    let answer = store.get(&format!("/v2/{VICTIM}/manifests/{child}")).await;
    refused(
        answer,
        StatusCode::NOT_FOUND,
        "MANIFEST_UNKNOWN",
        "sparse child",
    )
    .await;
    // A child that is no digest at all is not sparse but invalid.
    let broken = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [{"mediaType": OCI_MANIFEST, "digest": "sha256:..", "size": 7}]
    }))
    .unwrap();
    refused_at_tag(&store, OCI_INDEX, &broken, "MANIFEST_INVALID").await;
    store.assert_intact().await;
}
