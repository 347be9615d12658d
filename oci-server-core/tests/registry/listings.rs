//! end-8 (tag listing with n/last/Link) and the catalog.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestRegistry, error_code, header};

#[tokio::test]
async fn tags_are_listed_in_lexical_order_with_pagination() {
    let server = TestRegistry::start().await;
    let (bytes, _) = server.push_image("list/me", "b", json!({})).await;
    for tag in ["a", "C", "c", "a2"] {
        let answer = server
            .put_manifest("list/me", tag, crate::common::OCI_MANIFEST, &bytes)
            .await;
        assert_eq!(answer.status(), StatusCode::CREATED);
    }
    let all: Value = server
        .get("/v2/list/me/tags/list")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        all,
        json!({"name": "list/me", "tags": ["C", "a", "a2", "b", "c"]})
    );

    let first = server.get("/v2/list/me/tags/list?n=2").await;
    assert_eq!(
        header(&first, "link"),
        "</v2/list/me/tags/list?n=2&last=a>; rel=\"next\""
    );
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["tags"], json!(["C", "a"]));

    let second = server.get("/v2/list/me/tags/list?n=2&last=a").await;
    assert!(second.headers().contains_key("link"));
    assert_eq!(
        second.json::<Value>().await.unwrap()["tags"],
        json!(["a2", "b"])
    );

    let last = server.get("/v2/list/me/tags/list?n=2&last=b").await;
    assert!(!last.headers().contains_key("link"));
    assert_eq!(last.json::<Value>().await.unwrap()["tags"], json!(["c"]));

    let none = server.get("/v2/list/me/tags/list?n=0").await;
    assert!(!none.headers().contains_key("link"));
    assert_eq!(none.json::<Value>().await.unwrap()["tags"], json!([]));

    let after: Value = server
        .get("/v2/list/me/tags/list?last=b")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(after["tags"], json!(["c"]));

    let bad_n = server.get("/v2/list/me/tags/list?n=many").await;
    assert_eq!(bad_n.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unknown_repository_has_no_tag_list() {
    let server = TestRegistry::start().await;
    for path in [
        "/v2/never/pushed/tags/list",
        "/v2/never/pushed/tags/list?n=0",
        "/v2/never/pushed/tags/list?n=5&last=a",
    ] {
        let answer = server.get(path).await;
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(error_code(answer).await, "NAME_UNKNOWN", "{path}");
    }
}

/// Pages past the first, read from their start, stay right while tags and a manifest named
/// by many of them are deleted; the other manifest's tags stay.
#[tokio::test]
async fn tag_pages_stay_right_after_deletes() {
    let server = TestRegistry::start().await;
    let (gone, gone_digest) = server.push_image("paged", "a00", json!({"n": 1})).await;
    let (kept, _) = server.push_image("paged", "b00", json!({"n": 2})).await;
    for i in 1..20 {
        for (prefix, bytes) in [("a", &gone), ("b", &kept)] {
            let tag = format!("{prefix}{i:02}");
            let answer = server
                .put_manifest("paged", &tag, crate::common::OCI_MANIFEST, bytes)
                .await;
            assert_eq!(answer.status(), StatusCode::CREATED);
        }
    }
    let deleted = server.delete("/v2/paged/manifests/b05").await;
    assert_eq!(deleted.status(), StatusCode::ACCEPTED);
    let page = |last: &'static str| {
        let server = &server;
        async move {
            let answer = server
                .get(&format!("/v2/paged/tags/list?n=3&last={last}"))
                .await;
            answer.json::<Value>().await.unwrap()["tags"].clone()
        }
    };
    assert_eq!(page("b03").await, json!(["b04", "b06", "b07"]));
    let deleted = server
        .delete(&format!("/v2/paged/manifests/{gone_digest}"))
        .await;
    assert_eq!(deleted.status(), StatusCode::ACCEPTED);
    assert_eq!(page("a10").await, json!(["b00", "b01", "b02"]));
    assert_eq!(page("b17").await, json!(["b18", "b19"]));
    let all: Value = server
        .get("/v2/paged/tags/list")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["tags"].as_array().map(Vec::len), Some(19));
}

#[tokio::test]
async fn catalog_lists_nested_repositories() {
    let server = TestRegistry::start().await;
    for repo in ["b", "a/x", "a/x/y", "c-1"] {
        server.push_blob(repo, repo.as_bytes()).await;
    }
    let all: Value = server.get("/v2/_catalog").await.json().await.unwrap();
    assert_eq!(all, json!({"repositories": ["a/x", "a/x/y", "b", "c-1"]}));

    let page = server.get("/v2/_catalog?n=3").await;
    assert_eq!(
        header(&page, "link"),
        "</v2/_catalog?n=3&last=b>; rel=\"next\""
    );
    assert_eq!(
        page.json::<Value>().await.unwrap()["repositories"],
        json!(["a/x", "a/x/y", "b"])
    );
    let rest: Value = server
        .get("/v2/_catalog?n=3&last=b")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["repositories"], json!(["c-1"]));
}
