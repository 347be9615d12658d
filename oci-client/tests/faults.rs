//! Faults through a real forwarding proxy: cut connections, transient statuses,
//! `Retry-After`, lost answers, corrupted bytes, and the per-host concurrency limit.

use futures_util::TryStreamExt;
use http::StatusCode;
use oci_distribution_client::{Client, Error, ManifestReference, Repository, UploadMethod};
use oci_spec_types::Digest;
use oci_test_support::{Action, Fault, Proxy, TestRegistry};

use crate::support::{self, content};

/// A registry behind a fault proxy, and a repository reached through the proxy.
async fn setup(name: &str) -> (TestRegistry, Proxy, Repository) {
    let registry = TestRegistry::start().await;
    let proxy = Proxy::start(registry.host()).await;
    let repo = Repository::new(proxy.host(), name).unwrap();
    (registry, proxy, repo)
}

#[tokio::test]
async fn a_cut_download_resumes_with_range_and_verifies() {
    let (_registry, proxy, repo) = setup("cut").await;
    let client = support::client();
    let data = content::blob(1_000_000, 51);
    let pushed = client
        .push_blob_bytes(&repo, data.clone(), UploadMethod::Monolithic)
        .await
        .unwrap();
    proxy.inject(Fault::new("GET", "/blobs/sha256:", Action::Cut { after: 300_000 }).times(2));

    let pulled = content::pull(&client, &repo, &pushed.digest, Some(1_000_000)).await;
    assert_eq!(pulled, data);
    let gets = proxy.seen_matching("GET", "/blobs/sha256:");
    assert_eq!(gets.len(), 3, "{gets:?}");
    assert_eq!(gets[0].header("range"), None);
    for resumed in &gets[1..] {
        let range = resumed.header("range").unwrap();
        let offset: u64 = range
            .strip_prefix("bytes=")
            .and_then(|r| r.strip_suffix('-'))
            .unwrap()
            .parse()
            .unwrap();
        assert!(offset > 0 && offset < 1_000_000, "{range}");
    }
}

#[tokio::test]
async fn corrupted_bytes_fail_verification() {
    let (_registry, proxy, repo) = setup("corrupt").await;
    let client = support::client();
    let data = content::blob(10_000, 52);
    let pushed = client
        .push_blob_bytes(&repo, data, UploadMethod::Monolithic)
        .await
        .unwrap();
    proxy.inject(Fault::new("GET", "/blobs/sha256:", Action::Corrupt));
    let stream = client.get_blob(&repo, &pushed.digest, None).await.unwrap();
    let result: Result<Vec<_>, _> = stream.try_collect().await;
    match result {
        Err(Error::DigestMismatch { expected, found }) => {
            assert_eq!(expected, pushed.digest);
            assert_ne!(found, pushed.digest);
        }
        other => panic!("expected a digest mismatch, got {other:?}"),
    }

    // The same for a manifest pulled by digest.
    let manifest = content::image(&client, &repo, &[], 52).await;
    let by_digest = ManifestReference::Digest(manifest.digest());
    client
        .put_manifest(&repo, &by_digest, &manifest)
        .await
        .unwrap();
    proxy.inject(Fault::new("GET", "/manifests/", Action::Corrupt));
    let result = client.get_manifest(&repo, &by_digest).await;
    assert!(
        matches!(result, Err(Error::DigestMismatch { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn transient_statuses_are_retried() {
    let (_registry, proxy, repo) = setup("transient").await;
    let client = support::client();
    let manifest = content::image(&client, &repo, &[], 53).await;
    let tag = ManifestReference::tag("v1").unwrap();
    client.put_manifest(&repo, &tag, &manifest).await.unwrap();

    let unavailable = Action::status(503);
    proxy.inject(Fault::new("GET", "/manifests/v1", unavailable));
    let pulled = client.get_manifest(&repo, &tag).await.unwrap();
    assert_eq!(pulled.digest, manifest.digest());
    assert_eq!(proxy.count("GET", "/manifests/v1"), 2);

    let slow_down = Action::too_many_requests("1");
    proxy.inject(Fault::new("HEAD", "/manifests/v1", slow_down));
    let head = client.head_manifest(&repo, &tag).await.unwrap().unwrap();
    assert_eq!(head.digest, Some(manifest.digest()));
    assert_eq!(proxy.count("HEAD", "/manifests/v1"), 2);

    // An HTTP-date already past means "now".
    let dated = Action::too_many_requests("Sun, 06 Nov 1994 08:49:37 GMT");
    proxy.inject(Fault::new("HEAD", "/manifests/v1", dated));
    assert!(client.head_manifest(&repo, &tag).await.unwrap().is_some());
    assert_eq!(proxy.count("HEAD", "/manifests/v1"), 4);
}

#[tokio::test]
async fn client_errors_are_not_retried_and_retries_run_out() {
    let (_registry, proxy, repo) = setup("final").await;
    let client = support::client();
    let tag = ManifestReference::tag("v1").unwrap();
    let bad_request = Action::status(400);
    proxy.inject(Fault::new("GET", "/manifests/v1", bad_request).times(5));
    let error = client.get_manifest(&repo, &tag).await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::BAD_REQUEST));
    assert_eq!(proxy.count("GET", "/manifests/v1"), 1);

    let broken = Action::status(502);
    proxy.inject(Fault::new("HEAD", "/manifests/v1", broken).times(100));
    let error = client.head_manifest(&repo, &tag).await.unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::BAD_GATEWAY));
    let attempts = support::fast_retries().max_attempts().get() as usize;
    assert_eq!(proxy.count("HEAD", "/manifests/v1"), attempts);
}

#[tokio::test]
async fn a_lost_chunk_answer_is_recovered_after_the_416() {
    let (_registry, proxy, repo) = setup("lost").await;
    let client = Client::new(
        support::config()
            .chunk_size(std::num::NonZeroU64::new(20_000).unwrap())
            .build(),
    )
    .unwrap();
    let data = content::blob(50_000, 54);
    let digest = Digest::compute(&data);
    // The registry takes the first chunk, but its answer is lost: the client retries the
    // chunk, gets 416, asks the status and goes on from there.
    let lost = Action::LoseAnswer { status: 503 };
    proxy.inject(Fault::new("PATCH", "/blobs/uploads/", lost));
    let pushed = client
        .push_blob(
            &repo,
            &digest,
            50_000,
            content::pieces(data.clone(), 5_000),
            UploadMethod::Chunked,
        )
        .await
        .unwrap();
    assert_eq!(pushed.digest, digest);
    let patches = proxy.seen_matching("PATCH", "/blobs/uploads/");
    // chunk 1 (lost answer), chunk 1 again (416), chunk 2, chunk 3.
    assert_eq!(patches.len(), 4, "{patches:?}");
    assert_eq!(
        proxy.count("GET", "/blobs/uploads/"),
        1,
        "one status request"
    );
    assert_eq!(content::pull(&client, &repo, &digest, None).await, data);
}

#[tokio::test]
async fn requests_per_host_are_limited() {
    let (_registry, proxy, repo) = setup("limited").await;
    let client = Client::new(
        support::config()
            .max_requests_per_host(std::num::NonZeroUsize::new(2).unwrap())
            .build(),
    )
    .unwrap();
    let data = content::blob(1_000, 55);
    let pushed = client
        .push_blob_bytes(&repo, data, UploadMethod::Monolithic)
        .await
        .unwrap();
    let heads = (0..12).map(|_| {
        let client = client.clone();
        let repo = repo.clone();
        let digest = pushed.digest.clone();
        tokio::spawn(async move { client.head_blob(&repo, &digest).await })
    });
    for head in heads.collect::<Vec<_>>() {
        assert!(head.await.unwrap().unwrap().is_some());
    }
    assert_eq!(proxy.count("HEAD", "/blobs/"), 12);
    assert!(proxy.most_in_flight() <= 2, "{}", proxy.most_in_flight());
}
