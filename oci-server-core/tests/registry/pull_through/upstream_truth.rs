//! Upstream is the truth for a mirrored repository: its tag list, a tag it withdrew, a blob's
//! size before any download; and content the cache already holds is never fetched again.

use reqwest::StatusCode;
use serde_json::Value;

use super::{Upstream, body_digest, cache, push_upstream};

async fn tags(cache: &crate::common::TestRegistry) -> (StatusCode, Value) {
    let answer = cache.get("/v2/mirror/team/app/tags/list").await;
    let status = answer.status();
    (status, answer.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn tags_of_a_never_pulled_repository_come_from_upstream() {
    let mut upstream = Upstream::start(None).await;
    push_upstream(&upstream, "v1", 100).await;
    push_upstream(&upstream, "v2", 100).await;
    let (cache, _store) = cache(&upstream, 300, None).await;

    let (status, listed) = tags(&cache).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["tags"], serde_json::json!(["v1", "v2"]));
    let unknown = cache.get("/v2/mirror/team/nothing/tags/list").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);

    // Down: the cache lists what it holds.
    assert_eq!(
        cache.get("/v2/mirror/team/app/manifests/v1").await.status(),
        StatusCode::OK
    );
    upstream.go_down().await;
    let (status, listed) = tags(&cache).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["tags"], serde_json::json!(["v1"]));
}

#[tokio::test]
async fn a_tag_withdrawn_upstream_is_withdrawn_from_the_cache() {
    let upstream = Upstream::start(None).await;
    push_upstream(&upstream, "v1", 100).await;
    let (cache, _store) = cache(&upstream, 0, None).await;
    let path = "/v2/mirror/team/app/manifests/v1";
    assert_eq!(cache.get(path).await.status(), StatusCode::OK);

    let deleted = upstream.direct.delete("/v2/team/app/manifests/v1").await;
    assert_eq!(deleted.status(), StatusCode::ACCEPTED);
    assert_eq!(cache.get(path).await.status(), StatusCode::NOT_FOUND);
    let (_, listed) = tags(&cache).await;
    assert_eq!(listed["tags"], serde_json::json!([]));
}

#[tokio::test]
async fn a_first_head_and_range_are_answered_without_waiting_for_the_whole_blob() {
    let upstream = Upstream::start(None).await;
    let layer_len = 4 << 20;
    let (_, _, layer) = push_upstream(&upstream, "v1", layer_len).await;
    let (cache, _store) = cache(&upstream, 300, None).await;
    let path = format!("/v2/mirror/team/app/blobs/{layer}");

    let head = cache.head(&path).await;
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(
        crate::common::header(&head, "content-length"),
        layer_len.to_string()
    );
    assert_eq!(upstream.blob_gets(), 0, "a HEAD downloads nothing");

    let ranged = cache
        .http
        .get(cache.url(&path))
        .header("range", "bytes=1000-1999")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), StatusCode::PARTIAL_CONTENT);
    let expected = crate::common::content(layer_len, 2)[1000..2000].to_vec();
    assert_eq!(ranged.bytes().await.unwrap(), expected);
    assert_eq!(upstream.blob_gets(), 1);
}

#[tokio::test]
async fn content_held_for_another_repository_is_linked_not_downloaded_again() {
    let upstream = Upstream::start(None).await;
    let (_, _, layer) = push_upstream(&upstream, "v1", 1 << 20).await;
    let mount = upstream
        .direct
        .http
        .post(upstream.direct.url(&format!(
            "/v2/team/copy/blobs/uploads/?mount={layer}&from=team/app"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(mount.status(), StatusCode::CREATED);
    let (cache, _store) = cache(&upstream, 300, None).await;

    let first = format!("/v2/mirror/team/app/blobs/{layer}");
    assert_eq!(body_digest(cache.get(&first).await).await, layer);
    // Served from the store (after the first fetch was committed, waiting for it if need be).
    assert_eq!(body_digest(cache.get(&first).await).await, layer);
    let second = format!("/v2/mirror/team/copy/blobs/{layer}");
    assert_eq!(body_digest(cache.get(&second).await).await, layer);
    assert_eq!(upstream.blob_gets(), 1);
    // A repository upstream does not have it in gets nothing from the other's copy.
    let elsewhere = format!("/v2/mirror/team/other/blobs/{layer}");
    assert_eq!(cache.get(&elsewhere).await.status(), StatusCode::NOT_FOUND);
}
