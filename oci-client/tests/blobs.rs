//! Blob head, get (verified, with progress) and delete against the workspace's registry.

use futures_util::TryStreamExt;
use oci_distribution_client::{Direction, Error, Progress, UploadMethod};
use oci_test_support::TestRegistry;
use tokio::io::AsyncReadExt;

use crate::support::Repos;
use crate::support::{self, content};

#[tokio::test]
async fn blobs_head_get_and_delete() {
    let registry = TestRegistry::start().await;
    let client = support::client();
    let repo = registry.repo("blobs");
    let data = content::blob(300_000, 7);
    let pushed = client
        .push_blob_bytes(&repo, data.clone(), UploadMethod::Monolithic)
        .await
        .unwrap();

    let info = client
        .head_blob(&repo, &pushed.digest)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(info.size, Some(300_000));

    let stream = client.get_blob(&repo, &pushed.digest, None).await.unwrap();
    assert_eq!(stream.total(), Some(300_000));
    let mut pulled = Vec::new();
    stream.into_reader().read_to_end(&mut pulled).await.unwrap();
    assert_eq!(pulled, data);

    client.delete_blob(&repo, &pushed.digest).await.unwrap();
    assert_eq!(client.head_blob(&repo, &pushed.digest).await.unwrap(), None);
    let gone = client
        .get_blob(&repo, &pushed.digest, None)
        .await
        .unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
}

#[tokio::test]
async fn a_wrong_expected_size_fails_the_stream() {
    let registry = TestRegistry::start().await;
    let client = support::client();
    let repo = registry.repo("sizes");
    let data = content::blob(5_000, 8);
    let pushed = client
        .push_blob_bytes(&repo, data, UploadMethod::SinglePost)
        .await
        .unwrap();
    let stream = client
        .get_blob(&repo, &pushed.digest, Some(4_000))
        .await
        .unwrap();
    let result: Result<Vec<_>, _> = stream.try_collect().await;
    assert!(
        matches!(
            result,
            Err(Error::SizeExceeded {
                expected: 4_000,
                ..
            })
        ),
        "{result:?}"
    );
}

#[tokio::test]
async fn downloads_and_uploads_report_progress() {
    let registry = TestRegistry::start().await;
    let (progress, mut events) = Progress::channel();
    let client = support::client().with_progress(progress);
    let repo = registry.repo("progress");
    let data = content::blob(100_000, 9);
    let digest = oci_spec_types::Digest::compute(&data);
    client
        .push_blob(
            &repo,
            &digest,
            100_000,
            content::pieces(data.clone(), 10_000),
            UploadMethod::Streamed,
        )
        .await
        .unwrap();
    let mut last_upload = None;
    while let Ok(event) = events.try_recv() {
        last_upload = Some(event);
    }
    let last_upload = last_upload.unwrap();
    assert_eq!(
        (last_upload.bytes_done, last_upload.total),
        (100_000, Some(100_000))
    );
    assert_eq!(last_upload.digest, digest);
    assert_eq!(last_upload.direction, Direction::Upload);
    assert_eq!(last_upload.repository, repo);

    let pulled = content::pull(&client, &repo, &digest, Some(100_000)).await;
    assert_eq!(pulled, data);
    let mut done = Vec::new();
    while let Ok(event) = events.try_recv() {
        done.push(event.bytes_done);
    }
    assert!(done.windows(2).all(|pair| pair[0] < pair[1]), "{done:?}");
    assert_eq!(done.last(), Some(&100_000));
}

#[tokio::test]
async fn a_blob_streamed_between_repositories_reports_both_transfers_apart() {
    let registry = TestRegistry::start().await;
    let (progress, mut events) = Progress::channel();
    let client = support::client().with_progress(progress);
    let (from, to) = (registry.repo("progress/from"), registry.repo("progress/to"));
    let data = content::blob(50_000, 10);
    let pushed = support::client()
        .push_blob_bytes(&from, data, UploadMethod::Monolithic)
        .await
        .unwrap();
    let download = client
        .get_blob(&from, &pushed.digest, Some(50_000))
        .await
        .unwrap();
    let body = futures_util::StreamExt::map(download, |chunk| chunk.map_err(std::io::Error::other));
    client
        .push_blob(&to, &pushed.digest, 50_000, body, UploadMethod::Streamed)
        .await
        .unwrap();
    let mut last = std::collections::HashMap::new();
    while let Ok(event) = events.try_recv() {
        assert_eq!(event.digest, pushed.digest);
        last.insert(
            (event.direction, event.repository.clone()),
            event.bytes_done,
        );
    }
    assert_eq!(last.len(), 2, "{last:?}");
    assert_eq!(last[&(Direction::Download, from)], 50_000);
    assert_eq!(last[&(Direction::Upload, to)], 50_000);
}
