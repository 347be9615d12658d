//! Invalid digests wherever a digest goes (blob and referrers paths, `?digest=`, `?mount=`,
//! `?digest-algorithm=`), and digests that do not match the content sent, aimed at content
//! already stored. (Digests as manifest references are in `names`.)

use oci_digest::{Algorithm, Digest};
use reqwest::StatusCode;
use reqwest::header::HeaderValue;
use serde_json::json;

use super::{
    expect::{raw_refused, refused},
    guarded::{GuardedStore, VICTIM},
};
use crate::common::{OCI_MANIFEST, content, digest_with};

/// Digests that must be refused, as they appear in a path.
fn invalid_digests() -> Vec<String> {
    let hex = Digest::compute(b"x").encoded().to_owned();
    [
        String::new(),
        "sha256".to_owned(),
        "sha256:".to_owned(),
        format!(":{hex}"),
        format!("sha256:{}", &hex[1..]),
        format!("sha256:{hex}0"),
        format!("sha256:{}", hex.to_uppercase()),
        format!("SHA256:{hex}"),
        format!("sha256:{}", "g".repeat(64)),
        format!("sha512:{hex}"),
        format!("md5:{}", &hex[..32]),
        "sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564".to_owned(),
        format!("sha256:{hex}:{hex}"),
        format!("sha256:{hex}%00"),
        "sha256:%2e%2e".to_owned(),
    ]
    .to_vec()
}

#[tokio::test]
async fn invalid_digests_are_refused_everywhere() {
    let store = GuardedStore::start().await;
    let location = store.start_upload(VICTIM).await;
    for digest in invalid_digests() {
        for method in ["GET", "HEAD", "DELETE"] {
            let path = format!("/v2/{VICTIM}/blobs/{digest}");
            let answer = store.raw(method, &path).await;
            raw_refused(&answer, 400, "DIGEST_INVALID", &format!("{method} {path}"));
        }
        let path = format!("/v2/{VICTIM}/referrers/{digest}");
        raw_refused(&store.raw("GET", &path).await, 400, "DIGEST_INVALID", &path);

        let query = [
            format!("/v2/{VICTIM}/blobs/uploads/?digest={digest}"),
            format!("/v2/{VICTIM}/blobs/uploads/?mount={digest}&from={VICTIM}"),
        ];
        for target in query {
            let answer = store
                .http
                .post(store.url(&target))
                .body("data")
                .send()
                .await
                .unwrap();
            refused(answer, StatusCode::BAD_REQUEST, "DIGEST_INVALID", &target).await;
        }
        let ending = store
            .http
            .put(format!("{}?digest={digest}", store.url(&location)))
            .body("data")
            .send()
            .await
            .unwrap();
        refused(ending, StatusCode::BAD_REQUEST, "DIGEST_INVALID", &digest).await;
    }
    for algorithm in ["", "md5", "SHA256", "sha256+b64u", "..%2f..", "sha256%00"] {
        let target = format!("/v2/{VICTIM}/blobs/uploads/?digest-algorithm={algorithm}");
        let answer = store.http.post(store.url(&target)).send().await.unwrap();
        refused(answer, StatusCode::BAD_REQUEST, "DIGEST_INVALID", &target).await;
    }
    // None of that touched the session.
    assert_eq!(store.upload_range(&location).await, "0-0");
    let data = content(1000, 3);
    let done = store
        .http
        .put(format!(
            "{}?digest={}",
            store.url(&location),
            Digest::compute(&data)
        ))
        .body(data)
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::CREATED);
    store.assert_intact().await;
}

#[tokio::test]
async fn content_claiming_a_stored_digest_is_refused() {
    let store = GuardedStore::start().await;
    let claimed = store.layer.clone();
    let forged = content(50_000, 9);
    let refuse = |answer: reqwest::Response, case: &'static str| {
        refused(answer, StatusCode::BAD_REQUEST, "DIGEST_INVALID", case)
    };

    // Whole blob in the POST, into the repository that holds the claimed digest and into one
    // that does not.
    for repo in [VICTIM, "attacker"] {
        let answer = store
            .http
            .post(store.url(&format!("/v2/{repo}/blobs/uploads/?digest={claimed}")))
            .body(forged.clone())
            .send()
            .await
            .unwrap();
        refuse(answer, "monolithic POST").await;
    }

    // POST, then the whole blob in the PUT.
    let location = store.start_upload("attacker").await;
    let answer = store
        .http
        .put(format!("{}?digest={claimed}", store.url(&location)))
        .body(forged.clone())
        .send()
        .await
        .unwrap();
    refuse(answer, "monolithic PUT").await;

    // Chunks, then a last chunk in the PUT.
    let location = store.start_upload("attacker").await;
    for (range, part) in [
        ("0-19999", &forged[..20_000]),
        ("20000-39999", &forged[20_000..40_000]),
    ] {
        let answer = store
            .patch_chunk(&location, HeaderValue::from_static(range), part)
            .await;
        assert_eq!(answer.status(), StatusCode::ACCEPTED, "{range}");
    }
    let answer = store
        .http
        .put(format!("{}?digest={claimed}", store.url(&location)))
        .header("content-range", "40000-49999")
        .body(forged[40_000..].to_vec())
        .send()
        .await
        .unwrap();
    refuse(answer, "chunked PUT").await;

    // A sha512 claim is checked with sha512.
    let sha512 = digest_with(&Algorithm::Sha512, b"something else");
    let answer = store
        .http
        .post(store.url(&format!("/v2/attacker/blobs/uploads/?digest={sha512}")))
        .body(forged.clone())
        .send()
        .await
        .unwrap();
    refuse(answer, "sha512 POST").await;

    for digest in [&claimed, &Digest::compute(&forged), &sha512] {
        let answer = store.head(&format!("/v2/attacker/blobs/{digest}")).await;
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{digest} stored");
    }
    store.assert_intact().await;
}

#[tokio::test]
async fn a_manifest_claiming_a_stored_digest_is_refused() {
    let store = GuardedStore::start().await;
    let victim = store
        .get(&format!("/v2/{VICTIM}/manifests/{}", store.manifest))
        .await
        .bytes()
        .await
        .unwrap();
    let config = store.push_blob(VICTIM, b"{}").await;
    let forged = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config.as_str(), "size": 2},
        "layers": [], "annotations": {"forged": "yes"}
    }))
    .unwrap();
    let claims = [
        store.manifest.clone(),
        store.layer.clone(),
        digest_with(&Algorithm::Sha512, &victim),
    ];
    for claimed in claims {
        let answer = store
            .put_manifest(VICTIM, claimed.as_str(), OCI_MANIFEST, &forged)
            .await;
        refused(
            answer,
            StatusCode::BAD_REQUEST,
            "DIGEST_INVALID",
            claimed.as_str(),
        )
        .await;
    }
    let answer = store
        .head(&format!(
            "/v2/{VICTIM}/manifests/{}",
            Digest::compute(&forged)
        ))
        .await;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    store.assert_intact().await;
}
