//! end-4a/4b (POST), end-5 (PATCH), end-6 (PUT), end-13 (status), upload cancel, sha512.

use oci_digest::{Algorithm, Digest};
use oci_server_core::RegistryConfig;
use reqwest::StatusCode;

use crate::common::{TestRegistry, content, digest_with, error_code, header};

/// POSTs to start a session; returns its location.
async fn start(server: &TestRegistry, repo: &str, query: &str) -> String {
    let answer = server
        .http
        .post(server.url(&format!("/v2/{repo}/blobs/uploads/{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&answer, "range"), "0-0");
    assert!(!header(&answer, "docker-upload-uuid").is_empty());
    header(&answer, "location").to_owned()
}

async fn patch(
    server: &TestRegistry,
    location: &str,
    range: Option<&str>,
    body: &[u8],
) -> reqwest::Response {
    let mut request = server
        .http
        .patch(server.url(location))
        .header("content-type", "application/octet-stream")
        .body(body.to_vec());
    if let Some(range) = range {
        request = request.header("content-range", range);
    }
    request.send().await.unwrap()
}

async fn put(
    server: &TestRegistry,
    location: &str,
    digest: &Digest,
    body: &[u8],
) -> reqwest::Response {
    server
        .http
        .put(format!("{}?digest={digest}", server.url(location)))
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn post_then_put_with_the_whole_blob() {
    let server = TestRegistry::start().await;
    let data = content(10_000, 3);
    let digest = Digest::compute(&data);
    let location = start(&server, "p", "").await;
    let done = put(&server, &location, &digest, &data).await;
    assert_eq!(done.status(), StatusCode::CREATED);
    assert_eq!(header(&done, "location"), format!("/v2/p/blobs/{digest}"));
    assert_eq!(header(&done, "docker-content-digest"), digest.as_str());
    assert_eq!(
        server
            .get(&format!("/v2/p/blobs/{digest}"))
            .await
            .bytes()
            .await
            .unwrap(),
        data
    );
    // The session is gone once finished.
    assert_eq!(server.get(&location).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn chunked_upload_with_status_and_out_of_order_refusal() {
    let server = TestRegistry::start().await;
    let data = content(2500, 9);
    let digest = Digest::compute(&data);
    let location = start(&server, "c", "").await;

    let first = patch(&server, &location, Some("0-999"), &data[..1000]).await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&first, "range"), "0-999");
    let location = header(&first, "location").to_owned();

    let status = server.get(&location).await;
    assert_eq!(status.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&status, "range"), "0-999");
    assert_eq!(header(&status, "location"), location);

    let skipped = patch(&server, &location, Some("2000-2499"), &data[2000..]).await;
    assert_eq!(skipped.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(header(&skipped, "range"), "0-999");
    let repeated = patch(&server, &location, Some("0-999"), &data[..1000]).await;
    assert_eq!(repeated.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    let malformed = patch(
        &server,
        &location,
        Some("bytes 1000-1999/*x"),
        &data[1000..2000],
    )
    .await;
    assert_eq!(malformed.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(error_code(malformed).await, "BLOB_UPLOAD_INVALID");

    let second = patch(&server, &location, Some("1000-1999"), &data[1000..2000]).await;
    assert_eq!(header(&second, "range"), "0-1999");
    let last = server
        .http
        .put(format!("{}?digest={digest}", server.url(&location)))
        .header("content-range", "2000-2499")
        .body(data[2000..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(last.status(), StatusCode::CREATED);
    assert_eq!(
        server
            .get(&format!("/v2/c/blobs/{digest}"))
            .await
            .bytes()
            .await
            .unwrap(),
        data
    );
}

#[tokio::test]
async fn streamed_patch_without_content_range() {
    let server = TestRegistry::start().await;
    let data = content(70_000, 5);
    let digest = Digest::compute(&data);
    let location = start(&server, "s", "").await;
    let streamed = patch(&server, &location, None, &data).await;
    assert_eq!(streamed.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&streamed, "range"), "0-69999");
    let done = put(&server, header(&streamed, "location"), &digest, b"").await;
    assert_eq!(done.status(), StatusCode::CREATED);
    assert_eq!(
        server
            .get(&format!("/v2/s/blobs/{digest}"))
            .await
            .bytes()
            .await
            .unwrap(),
        data
    );
}

#[tokio::test]
async fn digest_and_size_mismatches_are_refused() {
    let server = TestRegistry::start().await;
    let wrong = Digest::compute(b"something else");

    let monolithic = server
        .http
        .post(server.url(&format!("/v2/m/blobs/uploads/?digest={wrong}")))
        .body("content")
        .send()
        .await
        .unwrap();
    assert_eq!(monolithic.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(monolithic).await, "DIGEST_INVALID");
    assert_eq!(
        server.head(&format!("/v2/m/blobs/{wrong}")).await.status(),
        StatusCode::NOT_FOUND
    );

    let location = start(&server, "m", "").await;
    let refused = put(&server, &location, &wrong, b"content").await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(refused).await, "DIGEST_INVALID");

    let location = start(&server, "m", "").await;
    let short = patch(&server, &location, Some("0-99"), &[0u8; 50]).await;
    assert_eq!(short.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(short).await, "SIZE_INVALID");

    let no_digest = server.http.put(server.url(&location)).send().await.unwrap();
    assert_eq!(no_digest.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(no_digest).await, "DIGEST_INVALID");

    let bad_digest = server
        .http
        .post(server.url("/v2/m/blobs/uploads/?digest=sha256:nothex"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_digest.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(bad_digest).await, "DIGEST_INVALID");
}

#[tokio::test]
async fn empty_blob_both_ways() {
    let server = TestRegistry::start().await;
    let empty = Digest::compute(b"");
    let posted = server
        .http
        .post(server.url(&format!("/v2/e/blobs/uploads/?digest={empty}")))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::CREATED);
    let got = server.get(&format!("/v2/e/blobs/{empty}")).await;
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(header(&got, "content-length"), "0");

    let location = start(&server, "e2", "").await;
    assert_eq!(
        put(&server, &location, &empty, b"").await.status(),
        StatusCode::CREATED
    );
    assert_eq!(
        server.head(&format!("/v2/e2/blobs/{empty}")).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn cancel_ends_the_session() {
    let server = TestRegistry::start().await;
    let location = start(&server, "x", "").await;
    patch(&server, &location, None, b"partial").await;
    assert_eq!(
        server.delete(&location).await.status(),
        StatusCode::NO_CONTENT
    );
    let gone = server.get(&location).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(gone).await, "BLOB_UPLOAD_UNKNOWN");
    assert_eq!(
        server.delete(&location).await.status(),
        StatusCode::NOT_FOUND
    );
    let late = put(&server, &location, &Digest::compute(b"partial"), b"").await;
    assert_eq!(late.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn sessions_belong_to_their_repository() {
    let server = TestRegistry::start().await;
    let location = start(&server, "mine", "").await;
    let id = location.rsplit('/').next().unwrap();
    let foreign = server.get(&format!("/v2/yours/blobs/uploads/{id}")).await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    let made_up = server.get("/v2/mine/blobs/uploads/not-an-id").await;
    assert_eq!(made_up.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(made_up).await, "BLOB_UPLOAD_UNKNOWN");
}

#[tokio::test]
async fn sha512_content() {
    let server = TestRegistry::start().await;
    let sha512 = Algorithm::Sha512;
    let data = content(5000, 11);
    let digest = digest_with(&sha512, &data);

    // Chosen up front with digest-algorithm.
    let location = start(&server, "h", "?digest-algorithm=sha512").await;
    let chunk = patch(&server, &location, Some("0-2999"), &data[..3000]).await;
    let done = put(&server, header(&chunk, "location"), &digest, &data[3000..]).await;
    assert_eq!(done.status(), StatusCode::CREATED);
    assert_eq!(header(&done, "docker-content-digest"), digest.as_str());
    let got = server.get(&format!("/v2/h/blobs/{digest}")).await;
    assert_eq!(header(&got, "docker-content-digest"), digest.as_str());
    assert_eq!(got.bytes().await.unwrap(), data);

    // Started as sha256 and finished with a sha512 digest: hashed again on the way out.
    let other = content(4000, 12);
    let other_digest = digest_with(&sha512, &other);
    let location = start(&server, "h", "").await;
    let chunk = patch(&server, &location, None, &other[..1000]).await;
    let done = put(
        &server,
        header(&chunk, "location"),
        &other_digest,
        &other[1000..],
    )
    .await;
    assert_eq!(done.status(), StatusCode::CREATED);

    // Whole blob in the POST.
    let third = content(100, 13);
    let third_digest = digest_with(&sha512, &third);
    let posted = server
        .http
        .post(server.url(&format!("/v2/h/blobs/uploads/?digest={third_digest}")))
        .body(third.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), StatusCode::CREATED);

    let unsupported = server
        .http
        .post(server.url("/v2/h/blobs/uploads/?digest-algorithm=md5"))
        .send()
        .await
        .unwrap();
    assert_eq!(unsupported.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn announces_the_minimum_chunk_length_when_configured() {
    let server =
        TestRegistry::with_config(RegistryConfig::default().with_chunk_min_length(Some(1 << 20)))
            .await;
    let answer = server
        .http
        .post(server.url("/v2/a/blobs/uploads/"))
        .send()
        .await
        .unwrap();
    assert_eq!(header(&answer, "oci-chunk-min-length"), "1048576");
}
