//! Every upload method, chunk minimum length, 416 recovery and cancel, against the
//! workspace's registry.

use bytes::Bytes;
use oci_distribution_client::{Client, UploadMethod};
use oci_server_core::RegistryConfig;
use oci_spec_types::Digest;
use oci_test_support::{Proxy, TestRegistry};

use crate::support::Repos;
use crate::support::{self, content};

#[tokio::test]
async fn every_method_pushes_streams_and_bytes() {
    let registry = TestRegistry::start().await;
    // Small chunks, so the chunked pushes take several PATCHes.
    let client = Client::new(
        support::config()
            .chunk_size(std::num::NonZeroU64::new(16 * 1024).unwrap())
            .build(),
    )
    .unwrap();
    let repo = registry.repo("methods");
    let methods = [
        UploadMethod::Monolithic,
        UploadMethod::SinglePost,
        UploadMethod::Chunked,
        UploadMethod::Streamed,
    ];
    for (index, method) in methods.into_iter().enumerate() {
        let seed = index as u64;
        let data = content::blob(50_000 + index, 100 + seed);
        let digest = Digest::compute(&data);
        let body = content::pieces(data.clone(), 7_000);
        let pushed = client
            .push_blob(&repo, &digest, data.len() as u64, body, method)
            .await
            .unwrap();
        assert_eq!(pushed.digest, digest, "{method:?}");
        assert!(!pushed.mounted);
        assert_eq!(
            content::pull(&client, &repo, &digest, None).await,
            data,
            "{method:?}"
        );

        let small = content::blob(3_000 + index, 200 + seed);
        let pushed = client
            .push_blob_bytes(&repo, small.clone(), method)
            .await
            .unwrap();
        assert_eq!(pushed.digest, Digest::compute(&small), "{method:?}");
        assert_eq!(
            content::pull(&client, &repo, &pushed.digest, None).await,
            small
        );
    }
}

#[tokio::test]
async fn readers_of_unknown_length_are_hashed_on_the_way() {
    let registry = TestRegistry::start().await;
    let client = support::client();
    let repo = registry.repo("reader");
    let data = content::blob(123_457, 11);
    let reader = std::io::Cursor::new(data.to_vec());
    let pushed = client.push_blob_reader(&repo, reader).await.unwrap();
    assert_eq!(pushed.digest, Digest::compute(&data));
    assert_eq!(pushed.size, Some(123_457));
    assert_eq!(
        content::pull(&client, &repo, &pushed.digest, None).await,
        data
    );
}

#[tokio::test]
async fn chunks_honour_the_announced_minimum_length() {
    const MIN: u64 = 40_000;
    let registry =
        TestRegistry::with_config(RegistryConfig::default().with_chunk_min_length(Some(MIN))).await;
    let proxy = Proxy::start(registry.host()).await;
    let client = Client::new(
        support::config()
            .chunk_size(std::num::NonZeroU64::new(1_000).unwrap())
            .build(),
    )
    .unwrap();
    let repo = oci_distribution_client::Repository::new(proxy.host(), "min").unwrap();

    let session = client.start_upload(&repo).await.unwrap();
    assert_eq!(session.min_chunk_length(), Some(MIN));
    let data = content::blob(100_000, 12);
    let digest = Digest::compute(&data);
    client
        .upload_stream(session, &digest, None, content::pieces(data.clone(), 3_000))
        .await
        .unwrap();

    let patches = proxy.seen_matching("PATCH", "/blobs/uploads/");
    let lengths: Vec<u64> = patches
        .iter()
        .map(|p| p.header("content-length").unwrap().parse().unwrap())
        .collect();
    assert_eq!(lengths, [MIN, MIN, 20_000]);
    assert_eq!(content::pull(&client, &repo, &digest, None).await, data);
}

#[tokio::test]
async fn a_416_is_reconciled_through_the_upload_status() {
    let registry = TestRegistry::start().await;
    let client = support::client();
    let repo = registry.repo("resume");
    let data = content::blob(30_000, 13);
    let digest = Digest::compute(&data);
    let mut session = client.start_upload(&repo).await.unwrap();

    // Another party (or an answer the client never saw) already sent the first 10,000 bytes.
    let status = reqwest::Client::new()
        .patch(session.location().clone())
        .header("content-range", "0-9999")
        .header("content-type", "application/octet-stream")
        .body(data.slice(..10_000))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 202);
    assert_eq!(session.offset(), 0);

    // The client sends from 0: 416, status says 10,000, the rest goes from there.
    client
        .upload_chunk(&mut session, data.slice(..20_000))
        .await
        .unwrap();
    assert_eq!(session.offset(), 20_000);
    assert_eq!(client.upload_status(&mut session).await.unwrap(), 20_000);
    client
        .upload_chunk(&mut session, data.slice(20_000..))
        .await
        .unwrap();
    let pushed = client.finish_upload(session, &digest).await.unwrap();
    assert_eq!(pushed.size, Some(30_000));
    assert_eq!(content::pull(&client, &repo, &digest, None).await, data);
}

#[tokio::test]
async fn cancelled_uploads_are_gone() {
    let registry = TestRegistry::start().await;
    let client = support::client();
    let repo = registry.repo("cancel");
    let mut session = client.start_upload(&repo).await.unwrap();
    client
        .upload_chunk(&mut session, Bytes::from_static(b"some bytes"))
        .await
        .unwrap();
    let mut copy = session.clone();
    client.cancel_upload(session).await.unwrap();
    let error = client.upload_status(&mut copy).await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
}
