//! end-1, end-2 (with ranges), end-10 and end-11 (mounts).

use oci_digest::Digest;
use oci_server_core::RegistryConfig;
use reqwest::StatusCode;

use crate::common::{TestRegistry, content, error_code, header};

#[tokio::test]
async fn version_check_answers_200_with_the_api_header() {
    let server = TestRegistry::start().await;
    let answer = server.get("/v2/").await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(
        header(&answer, "docker-distribution-api-version"),
        "registry/2.0"
    );
    let unknown = server.get("/nope").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        header(&unknown, "docker-distribution-api-version"),
        "registry/2.0"
    );
}

#[tokio::test]
async fn get_and_head_a_blob() {
    let server = TestRegistry::start().await;
    let data = content(3000, 1);
    let digest = server.push_blob("lib/app", &data).await;
    let path = format!("/v2/lib/app/blobs/{digest}");

    let got = server.get(&path).await;
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(header(&got, "docker-content-digest"), digest.as_str());
    assert_eq!(header(&got, "content-length"), "3000");
    assert_eq!(got.bytes().await.unwrap(), data);

    let head = server.head(&path).await;
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(header(&head, "content-length"), "3000");
    assert_eq!(header(&head, "docker-content-digest"), digest.as_str());
    assert!(head.bytes().await.unwrap().is_empty());

    // Another repository does not see it.
    let elsewhere = server.get(&format!("/v2/other/blobs/{digest}")).await;
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(elsewhere).await, "BLOB_UNKNOWN");
    let head_missing = server.head(&format!("/v2/other/blobs/{digest}")).await;
    assert_eq!(head_missing.status(), StatusCode::NOT_FOUND);
    assert!(
        head_missing.bytes().await.unwrap().is_empty(),
        "HEAD answers carry no body"
    );
}

#[tokio::test]
async fn range_requests() {
    let server = TestRegistry::start().await;
    let data = content(2048, 7);
    let digest = server.push_blob("r", &data).await;
    let url = server.url(&format!("/v2/r/blobs/{digest}"));
    let ranged = |range: &'static str| server.http.get(&url).header("range", range).send();

    let part = ranged("bytes=500-1499").await.unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(header(&part, "content-range"), "bytes 500-1499/2048");
    assert_eq!(header(&part, "content-length"), "1000");
    assert_eq!(part.bytes().await.unwrap(), data[500..1500]);

    let suffix = ranged("bytes=-48").await.unwrap();
    assert_eq!(header(&suffix, "content-range"), "bytes 2000-2047/2048");
    assert_eq!(suffix.bytes().await.unwrap(), data[2000..]);

    let clipped = ranged("bytes=2000-999999").await.unwrap();
    assert_eq!(clipped.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(header(&clipped, "content-range"), "bytes 2000-2047/2048");

    for bad in ["bytes=500-0", "bytes=2048-", "bytes=5000-6000"] {
        let refused = ranged(bad).await.unwrap();
        assert_eq!(refused.status(), StatusCode::RANGE_NOT_SATISFIABLE, "{bad}");
        assert_eq!(header(&refused, "content-range"), "bytes */2048");
    }
}

#[tokio::test]
async fn delete_unlinks_only_from_that_repository() {
    let server = TestRegistry::start().await;
    let digest = server.push_blob("one", b"shared").await;
    server.push_blob("two", b"shared").await;
    let path = format!("/v2/one/blobs/{digest}");
    assert_eq!(server.delete(&path).await.status(), StatusCode::ACCEPTED);
    assert_eq!(server.head(&path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(server.delete(&path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        server
            .head(&format!("/v2/two/blobs/{digest}"))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn deletes_can_be_switched_off() {
    let server = TestRegistry::with_config(RegistryConfig::default()).await;
    let digest = server.push_blob("a", b"keep").await;
    let answer = server.delete(&format!("/v2/a/blobs/{digest}")).await;
    assert_eq!(answer.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_code(answer).await, "UNSUPPORTED");
    let answer = server.delete("/v2/a/manifests/latest").await;
    assert_eq!(answer.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn mount_from_another_repository() {
    let server = TestRegistry::start().await;
    let digest = server.push_blob("source", b"layer").await;
    let mount = |to: &str, from: Option<&str>, digest: &Digest| {
        let mut url = server.url(&format!("/v2/{to}/blobs/uploads/?mount={digest}"));
        if let Some(from) = from {
            url.push_str(&format!("&from={from}"));
        }
        server.http.post(url).send()
    };

    let mounted = mount("target", Some("source"), &digest).await.unwrap();
    assert_eq!(mounted.status(), StatusCode::CREATED);
    assert_eq!(
        header(&mounted, "location"),
        format!("/v2/target/blobs/{digest}")
    );
    assert_eq!(
        server
            .get(&format!("/v2/target/blobs/{digest}"))
            .await
            .bytes()
            .await
            .unwrap(),
        "layer"
    );

    // Not in `from`: a new upload session instead.
    let missing = Digest::compute(b"not pushed");
    let fallback = mount("target", Some("source"), &missing).await.unwrap();
    assert_eq!(fallback.status(), StatusCode::ACCEPTED);
    assert!(header(&fallback, "location").starts_with("/v2/target/blobs/uploads/"));

    // Without `from`: automatic mount from anywhere in the store.
    let automatic = mount("third", None, &digest).await.unwrap();
    assert_eq!(automatic.status(), StatusCode::CREATED);
    let nowhere = mount("third", None, &missing).await.unwrap();
    assert_eq!(nowhere.status(), StatusCode::ACCEPTED);
}
