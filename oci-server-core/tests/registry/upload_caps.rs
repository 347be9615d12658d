//! Caps on open upload sessions: past the repository's or the registry's cap a new session
//! is refused with 429 `TOOMANYREQUESTS` and `Retry-After`, and a session that ends gives its
//! place back.

use std::num::NonZeroUsize;

use oci_digest::Digest;
use oci_server_core::{RegistryConfig, UploadLimits};
use reqwest::{Response, StatusCode};

use crate::common::{TestRegistry, code_of, header};

async fn post(server: &TestRegistry, repo: &str, query: &str) -> Response {
    server
        .http
        .post(server.url(&format!("/v2/{repo}/blobs/uploads/{query}")))
        .send()
        .await
        .unwrap()
}

/// Asserts a 429 refusal naming the cap `limit` (and the repository, when it was its cap).
async fn assert_refused(answer: Response, limit: usize, repository: Option<&str>) {
    assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(header(&answer, "retry-after"), "30");
    let body = answer.text().await.unwrap();
    assert_eq!(code_of(&body).as_deref(), Some("TOOMANYREQUESTS"));
    let document: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(document["errors"][0]["detail"]["limit"], limit);
    assert_eq!(
        document["errors"][0]["detail"]["repository"],
        serde_json::json!(repository)
    );
}

#[tokio::test]
async fn upload_sessions_past_a_cap_are_refused_until_one_ends() {
    let limits = UploadLimits::default()
        .with_total(NonZeroUsize::new(3).unwrap())
        .with_per_repository(NonZeroUsize::new(2).unwrap());
    let config = RegistryConfig::default()
        .with_delete(true)
        .with_upload_limits(limits);
    let server = TestRegistry::with_config(config).await;

    let first = post(&server, "a", "").await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let second = post(&server, "a", "").await;
    assert_eq!(second.status(), StatusCode::ACCEPTED);
    assert_refused(post(&server, "a", "").await, 2, Some("a")).await;
    assert_eq!(post(&server, "b", "").await.status(), StatusCode::ACCEPTED);
    assert_refused(post(&server, "c", "").await, 3, None).await;
    // A whole blob in one POST is a session too, for as long as the request lasts.
    let digest = Digest::compute(b"blob");
    assert_refused(
        post(&server, "c", &format!("?digest={digest}")).await,
        3,
        None,
    )
    .await;

    // Cancelling a session frees its place.
    let cancelled = server.delete(header(&first, "location")).await;
    assert_eq!(cancelled.status(), StatusCode::NO_CONTENT);
    assert_eq!(post(&server, "c", "").await.status(), StatusCode::ACCEPTED);
    assert_refused(post(&server, "a", "").await, 3, None).await;

    // So does finishing one.
    let finished = server
        .http
        .put(format!(
            "{}?digest={digest}",
            server.url(header(&second, "location"))
        ))
        .body(b"blob".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(finished.status(), StatusCode::CREATED);
    assert_eq!(post(&server, "a", "").await.status(), StatusCode::ACCEPTED);
}
