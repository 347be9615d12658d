//! end-12: the referrers API, its filter and its pagination.

use oci_digest::Digest;
use oci_server_core::RegistryConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{OCI_INDEX, OCI_MANIFEST, TestRegistry, header};

fn subject_of(bytes: &[u8]) -> Value {
    json!({"mediaType": OCI_MANIFEST, "digest": Digest::compute(bytes).as_str(), "size": bytes.len()})
}

#[tokio::test]
async fn referrers_are_listed_and_filtered() {
    let server = TestRegistry::start().await;
    let (subject, subject_digest) = server.push_image("ref", "base", json!({})).await;
    let signature = json!({
        "artifactType": "application/vnd.example.signature",
        "subject": subject_of(&subject),
        "annotations": {"org.example.kind": "signature"}
    });
    let put = server
        .http
        .put(server.url("/v2/ref/manifests/sig"))
        .header("content-type", OCI_MANIFEST)
        .body({
            let config = server.push_blob("ref", b"{}").await;
            let mut manifest = json!({
                "schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config.as_str(), "size": 2},
                "layers": []
            });
            manifest.as_object_mut().unwrap().extend(signature.as_object().unwrap().clone());
            serde_json::to_vec(&manifest).unwrap()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::CREATED);
    assert_eq!(header(&put, "oci-subject"), subject_digest.as_str());
    let signature_digest = header(&put, "docker-content-digest").to_owned();
    // An image referrer without artifactType is listed under its config media type.
    server
        .push_image("ref", "sbom", json!({"subject": subject_of(&subject)}))
        .await;

    let path = format!("/v2/ref/referrers/{subject_digest}");
    let all = server.get(&path).await;
    assert_eq!(all.status(), StatusCode::OK);
    assert_eq!(header(&all, "content-type"), OCI_INDEX);
    assert!(!all.headers().contains_key("oci-filters-applied"));
    let all: Value = all.json().await.unwrap();
    assert_eq!(all["schemaVersion"], 2);
    assert_eq!(all["mediaType"], OCI_INDEX);
    let manifests = all["manifests"].as_array().unwrap();
    assert_eq!(manifests.len(), 2);
    let types: Vec<_> = manifests
        .iter()
        .map(|m| m["artifactType"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"application/vnd.example.signature"));
    assert!(types.contains(&"application/vnd.oci.image.config.v1+json"));

    let filtered = server
        .get(&format!(
            "{path}?artifactType=application/vnd.example.signature"
        ))
        .await;
    assert_eq!(header(&filtered, "oci-filters-applied"), "artifactType");
    let filtered: Value = filtered.json().await.unwrap();
    assert_eq!(filtered["manifests"].as_array().unwrap().len(), 1);
    assert_eq!(
        filtered["manifests"][0]["digest"],
        signature_digest.as_str()
    );
    assert_eq!(
        filtered["manifests"][0]["annotations"]["org.example.kind"],
        "signature"
    );
    assert_eq!(filtered["manifests"][0]["mediaType"], OCI_MANIFEST);

    // Deleting a referrer removes it from the index.
    let deleted = server
        .delete(&format!("/v2/ref/manifests/{signature_digest}"))
        .await;
    assert_eq!(deleted.status(), StatusCode::ACCEPTED);
    let after: Value = server.get(&path).await.json().await.unwrap();
    assert_eq!(after["manifests"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn unknown_subject_gives_an_empty_index() {
    let server = TestRegistry::start().await;
    let answer = server
        .get(&format!(
            "/v2/nothing/here/referrers/{}",
            Digest::compute(b"none")
        ))
        .await;
    assert_eq!(answer.status(), StatusCode::OK);
    let index: Value = answer.json().await.unwrap();
    assert_eq!(index["manifests"], json!([]));
    let bad = server.get("/v2/nothing/referrers/sha256:short").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn big_referrer_lists_are_paginated() {
    let server = TestRegistry::with_config(
        RegistryConfig::default().with_referrers_page_size(std::num::NonZeroUsize::new(3).unwrap()),
    )
    .await;
    let (subject, subject_digest) = server.push_image("page", "base", json!({})).await;
    for i in 0..7 {
        server
            .push_image(
                "page",
                &format!("r{i}"),
                json!({"subject": subject_of(&subject)}),
            )
            .await;
    }
    let mut next = Some(format!("/v2/page/referrers/{subject_digest}"));
    let mut seen = Vec::new();
    let mut pages = 0;
    while let Some(path) = next.take() {
        let answer = server.get(&path).await;
        assert_eq!(answer.status(), StatusCode::OK);
        next = answer.headers().get("link").map(|link| {
            let link = link.to_str().unwrap();
            link[1..link.find('>').unwrap()].to_owned()
        });
        let index: Value = answer.json().await.unwrap();
        let page = index["manifests"].as_array().unwrap();
        assert!(page.len() <= 3);
        seen.extend(
            page.iter()
                .map(|d| d["digest"].as_str().unwrap().to_owned()),
        );
        pages += 1;
    }
    assert_eq!(pages, 3);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 7);
}
