//! Cross-repository mounts: 201, and the 202 fallback to a normal upload.

use oci_distribution_client::{MountOutcome, UploadMethod};
use oci_spec_types::Digest;
use oci_test_support::TestRegistry;

use crate::support::Repos;
use crate::support::{self, content};

#[tokio::test]
async fn a_blob_in_the_source_is_mounted() {
    let registry = TestRegistry::start().await;
    let client = support::client();
    let source = registry.repo("source");
    let target = registry.repo("target");
    let data = content::blob(10_000, 21);
    let pushed = client
        .push_blob_bytes(&source, data.clone(), UploadMethod::Monolithic)
        .await
        .unwrap();
    assert_eq!(
        client.head_blob(&target, &pushed.digest).await.unwrap(),
        None
    );

    let outcome = client
        .mount_blob(&target, &pushed.digest, &source)
        .await
        .unwrap();
    let MountOutcome::Mounted(blob) = outcome else {
        panic!("expected a mount, got {outcome:?}");
    };
    assert!(blob.mounted);
    assert_eq!(blob.digest, pushed.digest);
    assert_eq!(
        content::pull(&client, &target, &pushed.digest, None).await,
        data
    );
}

#[tokio::test]
async fn a_refused_mount_falls_back_to_an_upload() {
    let registry = TestRegistry::start().await;
    let client = support::client();
    let empty_source = registry.repo("empty-source");
    let target = registry.repo("target");
    let data = content::blob(20_000, 22);
    let digest = Digest::compute(&data);

    let outcome = client
        .mount_blob(&target, &digest, &empty_source)
        .await
        .unwrap();
    assert!(matches!(outcome, MountOutcome::Upload(_)), "{outcome:?}");
    if let MountOutcome::Upload(session) = outcome {
        client.cancel_upload(session).await.unwrap();
    }

    let pushed = client
        .mount_or_push_blob(
            &target,
            &empty_source,
            &digest,
            20_000,
            content::pieces(data.clone(), 4_096),
        )
        .await
        .unwrap();
    assert!(!pushed.mounted);
    assert_eq!(content::pull(&client, &target, &digest, None).await, data);
}
