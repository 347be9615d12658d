//! Crafted repository names, tags, digests in references, upload ids and query values, on
//! every route kind and method. Request lines go out raw, exactly as written, so `..`,
//! `%2e%2e`, `%2f`, `%00` and backslashes reach the server untouched.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{
    expect::{raw_client_error, raw_refused, refused},
    guarded::{CANARY, GuardedStore, VICTIM, VICTIM_TAG},
};
use crate::common::{OCI_MANIFEST, RawAnswer};

/// The digest of nothing: a well-formed digest no request below may reach through.
const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// A well-formed upload id no session has.
const NO_SESSION: &str = "0123456789abcdef0123456789abcdef";

/// Every route kind with the methods it serves, for repository `name`.
fn every_route(name: &str) -> Vec<(&'static str, String)> {
    let mut routes = Vec::new();
    for method in ["GET", "HEAD", "PUT", "DELETE"] {
        routes.push((method, format!("/v2/{name}/manifests/{VICTIM_TAG}")));
    }
    for method in ["GET", "HEAD", "DELETE"] {
        routes.push((method, format!("/v2/{name}/blobs/{D}")));
    }
    routes.push(("POST", format!("/v2/{name}/blobs/uploads/")));
    routes.push(("POST", format!("/v2/{name}/blobs/uploads/?digest={D}")));
    for method in ["GET", "PATCH", "PUT", "DELETE"] {
        routes.push((
            method,
            format!("/v2/{name}/blobs/uploads/{NO_SESSION}?digest={D}"),
        ));
    }
    routes.push(("GET", format!("/v2/{name}/tags/list")));
    routes.push(("GET", format!("/v2/{name}/referrers/{D}")));
    routes
}

/// Names aimed at the victim, at the store's own folders, and beside the store.
fn crafted_names(store: &GuardedStore) -> Vec<String> {
    let beside = store.parent().display().to_string();
    let long_component = "a".repeat(256);
    let many_components = "a/".repeat(128) + "a";
    [
        "..",
        "../victim/app",
        "victim/../victim/app",
        "victim/app/..",
        "victim/./app",
        "victim//app",
        "%2e%2e",
        "%2E%2E/victim/app",
        "victim%2fapp",
        "victim%2f..%2f..%2fcanary",
        "/victim/app",
        &format!("/{beside}/canary"),
        &format!("..%2f..%2f..%2f..{beside}"),
        "victim%00app",
        "victim/app%00",
        "victim%5c..%5capp",
        "victim\\..\\..\\canary",
        "Victim/App",
        "victim/APP",
        ".hidden",
        "_tags",
        "victim/app/_manifests",
        "victim/app/_layers",
        &long_component,
        &many_components,
    ]
    .map(str::to_owned)
    .to_vec()
}

fn assert_nothing_leaked(answer: &RawAnswer, case: &str) {
    assert!(!answer.text.contains(CANARY), "{case} leaked the canary");
    assert!(!answer.text.contains("root:"), "{case} leaked /etc/passwd");
}

#[tokio::test]
async fn crafted_repository_names_are_refused_on_every_route() {
    let store = GuardedStore::start().await;
    for name in crafted_names(&store) {
        for (method, path) in every_route(&name) {
            let case = format!("{method} {path}");
            let answer = store.raw(method, &path).await;
            raw_refused(&answer, 400, "NAME_INVALID", &case);
            assert_nothing_leaked(&answer, &case);
        }
    }
    store.assert_intact().await;
}

#[tokio::test]
async fn request_lines_the_http_layer_refuses_never_reach_the_store() {
    let store = GuardedStore::start().await;
    let overlong = format!("/v2/{}/manifests/{VICTIM_TAG}", "a/".repeat(40_000));
    for path in [
        format!("/v2/victim\0app/manifests/{VICTIM_TAG}"),
        format!("/v2/victim/app/manifests/{VICTIM_TAG}\0"),
        format!("/v2/victim app/manifests/{VICTIM_TAG}"),
        overlong,
    ] {
        for method in ["GET", "PUT", "DELETE"] {
            let case = format!("{method} {path:.80}");
            let answer = store.raw(method, &path).await;
            raw_client_error(&answer, &case);
            assert_nothing_leaked(&answer, &case);
        }
    }
    store.assert_intact().await;
}

#[tokio::test]
async fn crafted_tags_and_digest_references_are_refused() {
    let store = GuardedStore::start().await;
    let manifests = format!("/v2/{VICTIM}/manifests");
    let long_tag = "t".repeat(129);
    let bad_tags = [
        "..",
        "%2e%2e",
        ".hidden",
        "-dash",
        "stable%00",
        "stable%2f..%2f..%2f..%2fcanary",
        "..%2f..%2f_layers",
        "stable%5c..",
        "..\\..\\stable",
        "%20stable",
        long_tag.as_str(),
    ];
    let hex = D.trim_start_matches("sha256:");
    let bad_digests = [
        format!("sha256:{}", &hex[1..]),
        format!("sha256:{hex}0"),
        format!("sha256:{}", hex.to_uppercase()),
        format!("SHA256:{hex}"),
        format!("md5:{}", &hex[..32]),
        format!(":{hex}"),
        "sha256:".to_owned(),
        "sha256:..%2f..%2f..%2fcanary".to_owned(),
        format!("sha256:{hex}%00"),
    ];
    // A reference that cannot exist is unknown to reads and deletes (the v1.1 conformance suite
    // wants 404 for `.INVALID_MANIFEST_NAME`); a push to it is refused as invalid.
    for method in ["GET", "HEAD", "PUT", "DELETE"] {
        let refusal = |invalid| match method {
            "PUT" => (400, invalid),
            _ => (404, "MANIFEST_UNKNOWN"),
        };
        for tag in bad_tags {
            let case = format!("{method} {manifests}/{tag:.60}");
            let answer = store.raw(method, &format!("{manifests}/{tag}")).await;
            let (status, code) = refusal("MANIFEST_INVALID");
            raw_refused(&answer, status, code, &case);
            assert_nothing_leaked(&answer, &case);
        }
        for digest in &bad_digests {
            let case = format!("{method} {manifests}/{digest}");
            let answer = store.raw(method, &format!("{manifests}/{digest}")).await;
            let (status, code) = refusal("DIGEST_INVALID");
            raw_refused(&answer, status, code, &case);
        }
    }

    // Tags are case-sensitive and may be upper case: a valid tag, just not there.
    for method in ["GET", "HEAD", "DELETE"] {
        let case = format!("{method} {manifests}/STABLE");
        let answer = store.raw(method, &format!("{manifests}/STABLE")).await;
        raw_refused(&answer, 404, "MANIFEST_UNKNOWN", &case);
    }

    // Crafted `?tag=` values on a push by digest: refused before anything is stored.
    let config = store.push_blob(VICTIM, b"{}").await;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config.as_str(), "size": 2},
        "layers": [], "annotations": {"pushed": "with crafted tags"}
    }))
    .unwrap();
    let digest = oci_digest::Digest::compute(&manifest);
    for tag in [
        "..",
        "../../canary",
        "_tags/stable",
        "stable\0",
        "",
        &long_tag,
    ] {
        let answer = store
            .http
            .put(store.url(&format!("{manifests}/{digest}")))
            .query(&[("tag", "fine"), ("tag", tag)])
            .header("content-type", OCI_MANIFEST)
            .body(manifest.clone())
            .send()
            .await
            .unwrap();
        refused(
            answer,
            StatusCode::BAD_REQUEST,
            "MANIFEST_INVALID",
            &format!("?tag={tag:?}"),
        )
        .await;
    }
    for reference in [digest.to_string(), "fine".to_owned()] {
        let answer = store.head(&format!("{manifests}/{reference}")).await;
        assert_eq!(
            answer.status(),
            StatusCode::NOT_FOUND,
            "{reference} was stored"
        );
    }
    store.assert_intact().await;
}

#[tokio::test]
async fn crafted_upload_ids_name_no_session() {
    let store = GuardedStore::start().await;
    let location = store.start_upload(VICTIM).await;
    let id = location.rsplit('/').next().unwrap().to_owned();
    let chunk = store
        .http
        .patch(store.url(&location))
        .header("content-range", "0-99")
        .body(vec![7u8; 100])
        .send()
        .await
        .unwrap();
    assert_eq!(chunk.status(), StatusCode::ACCEPTED);

    let uploads = format!("/v2/{VICTIM}/blobs/uploads");
    let mut targets: Vec<String> = [
        "..",
        "%2e%2e",
        "..%2f..%2frepositories",
        "..%2f..%2fuploads%2f",
        "%00",
        "state",
    ]
    .iter()
    .map(|id| format!("{uploads}/{id}"))
    .collect();
    targets.push(format!("{uploads}/{}", id.to_uppercase()));
    targets.push(format!("{uploads}/{id}0"));
    targets.push(format!("{uploads}/{}", &id[1..]));
    targets.push(format!("{uploads}/{id}%2fstate"));
    targets.push(format!("/v2/victim/other/blobs/uploads/{id}"));
    for target in &targets {
        for method in ["GET", "PATCH", "PUT", "DELETE"] {
            let case = format!("{method} {target}");
            let answer = store.raw(method, &format!("{target}?digest={D}")).await;
            raw_refused(&answer, 404, "BLOB_UPLOAD_UNKNOWN", &case);
        }
    }

    // The real session did not move.
    assert_eq!(store.upload_range(&location).await, "0-99");
    store.assert_intact().await;
}

#[tokio::test]
async fn crafted_query_values_reach_nothing() {
    let store = GuardedStore::start().await;
    let layer = store.layer.clone();

    // A crafted `from` mounts nothing: a fresh upload session instead.
    for from in [
        "../victim/app",
        "victim/app/..",
        "victim%2f..%2fapp",
        "/victim/app",
        "VICTIM/APP",
    ] {
        let answer = store
            .raw(
                "POST",
                &format!("/v2/thief/blobs/uploads/?mount={layer}&from={from}"),
            )
            .await;
        assert_eq!(answer.status, 202, "from={from}: {}", answer.text);
    }
    let stolen = store.head(&format!("/v2/thief/blobs/{layer}")).await;
    assert_eq!(stolen.status(), StatusCode::NOT_FOUND);
    for mount in ["..%2f..%2fcanary", "sha256:..", ""] {
        let answer = store
            .raw(
                "POST",
                &format!("/v2/thief/blobs/uploads/?mount={mount}&from={VICTIM}"),
            )
            .await;
        raw_refused(&answer, 400, "DIGEST_INVALID", &format!("mount={mount}"));
    }

    // Listing cursors and filters are compared, never used as paths.
    let long = "z".repeat(10_000);
    for last in ["..%2f..%2f..%2fcanary", "%00", "%2f", &long] {
        for listing in [
            format!("/v2/{VICTIM}/tags/list?n=5&last={last}"),
            format!("/v2/_catalog?n=5&last={last}"),
        ] {
            let answer = store.get(&listing).await;
            assert_eq!(answer.status(), StatusCode::OK, "{listing:.80}");
            assert!(!answer.text().await.unwrap().contains(CANARY));
        }
    }
    let index: Value = store
        .get(&format!(
            "/v2/{VICTIM}/referrers/{}?artifactType=..%2f..%2fcanary",
            store.manifest
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(index["manifests"], json!([]));
    store.assert_intact().await;
}

#[tokio::test]
async fn the_longest_valid_name_and_tag_are_stored() {
    let mut store = GuardedStore::start().await;
    let name = format!("{}/{}", "n".repeat(127), "m".repeat(127));
    assert_eq!(name.len(), 255);
    let tag = "T".repeat(128);
    let (bytes, digest) = store.push_image(&name, &tag, json!({})).await;
    store.keep(&format!("/v2/{name}/manifests/{tag}"), bytes.clone());
    store.keep(&format!("/v2/{name}/manifests/{digest}"), bytes);
    store.assert_intact().await;
}
