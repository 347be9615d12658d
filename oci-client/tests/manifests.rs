//! Ping and manifest get/head/put/delete against the workspace's registry.

use bytes::Bytes;
use oci_distribution_client::{Client, Error, ManifestReference};
use oci_server_core::RegistryConfig;
use oci_spec_types::{ErrorCode, MediaType, Reference};
use oci_test_support::TestRegistry;

use crate::support::Repos;
use crate::support::{self, content};

#[tokio::test]
async fn ping_reports_the_api_version() {
    let registry = TestRegistry::start().await;
    let info = support::client().ping(registry.host()).await.unwrap();
    assert_eq!(info.api_version.as_deref(), Some("registry/2.0"));
}

#[tokio::test]
async fn manifests_round_trip_by_tag_and_digest() {
    let registry = TestRegistry::start().await;
    let client = support::client();
    let repo = registry.repo("team/app");
    let manifest = content::image(&client, &repo, &[1000, 2000], 1).await;
    let tag = ManifestReference::tag("v1").unwrap();

    let pushed = client.put_manifest(&repo, &tag, &manifest).await.unwrap();
    assert_eq!(pushed.digest, manifest.digest());
    assert!(pushed.location.is_some());

    let head = client.head_manifest(&repo, &tag).await.unwrap().unwrap();
    assert_eq!(head.digest, Some(manifest.digest()));
    assert_eq!(head.size, Some(manifest.size()));
    assert_eq!(head.media_type, Some(MediaType::OciImageManifest));

    let by_tag = client.get_manifest(&repo, &tag).await.unwrap();
    assert_eq!(by_tag.bytes, manifest.raw());
    assert_eq!(by_tag.digest, manifest.digest());
    assert_eq!(by_tag.parse().unwrap(), manifest);

    let by_digest = client
        .get_manifest(&repo, &manifest.digest().into())
        .await
        .unwrap();
    assert_eq!(by_digest.bytes, manifest.raw());

    let reference = Reference::parse(&format!("{}/team/app:v1", registry.host())).unwrap();
    let pulled = client.pull_manifest(&reference).await.unwrap();
    assert_eq!(pulled.digest, manifest.digest());

    // Deleting the tag leaves the manifest; deleting the manifest removes it.
    client.delete_manifest(&repo, &tag).await.unwrap();
    assert_eq!(client.head_manifest(&repo, &tag).await.unwrap(), None);
    let by_digest = ManifestReference::Digest(manifest.digest());
    assert!(
        client
            .head_manifest(&repo, &by_digest)
            .await
            .unwrap()
            .is_some()
    );
    client.delete_manifest(&repo, &by_digest).await.unwrap();
    let error = client.get_manifest(&repo, &by_digest).await.unwrap_err();
    assert!(error.is_not_found(), "{error}");
    assert_eq!(
        error.error_codes().collect::<Vec<_>>(),
        [&ErrorCode::ManifestUnknown]
    );
}

#[tokio::test]
async fn tag_parameters_tag_in_one_request() {
    let registry = TestRegistry::start().await;
    let client = support::client();
    let repo = registry.repo("tagged");
    let manifest = content::image(&client, &repo, &[10], 2).await;
    let pushed = client
        .put_manifest_with_tags(&repo, &manifest, &["a", "b"])
        .await
        .unwrap();
    assert_eq!(pushed.tags, ["a", "b"]);
    for tag in ["a", "b"] {
        let reference = ManifestReference::tag(tag).unwrap();
        let head = client
            .head_manifest(&repo, &reference)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(head.digest, Some(manifest.digest()));
    }
}

#[tokio::test]
async fn manifests_over_the_size_cap_are_refused_both_ways() {
    let registry = TestRegistry::start().await;
    let client = support::client();
    let repo = registry.repo("capped");
    let manifest = content::image(&client, &repo, &[10], 3).await;
    let tag = ManifestReference::tag("latest").unwrap();
    client.put_manifest(&repo, &tag, &manifest).await.unwrap();

    let small = Client::new(support::config().max_manifest_size(16).build()).unwrap();
    let pulled = small.get_manifest(&repo, &tag).await;
    assert!(
        matches!(pulled, Err(Error::ManifestTooLarge { limit: 16, .. })),
        "{pulled:?}"
    );
    let pushed = small.put_manifest(&repo, &tag, &manifest).await;
    assert!(
        matches!(pushed, Err(Error::ManifestTooLarge { .. })),
        "{pushed:?}"
    );
}

#[tokio::test]
async fn a_push_by_the_wrong_digest_is_refused_before_sending() {
    let registry = TestRegistry::start().await;
    let client = support::client();
    let repo = registry.repo("wrong");
    let manifest = content::image(&client, &repo, &[10], 4).await;
    let other = ManifestReference::Digest(oci_spec_types::Digest::compute(b"other"));
    let result = client
        .put_manifest_raw(
            &repo,
            &other,
            Bytes::clone(manifest.raw()),
            &manifest.media_type(),
        )
        .await;
    assert!(
        matches!(result, Err(Error::DigestMismatch { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn registry_errors_carry_status_and_codes() {
    let registry = TestRegistry::with_config(RegistryConfig::default()).await;
    let client = support::client();
    let repo = registry.repo("nothing");
    let tag = ManifestReference::tag("missing").unwrap();
    assert_eq!(client.head_manifest(&repo, &tag).await.unwrap(), None);
    // Deletes are disabled on this registry.
    let error = client.delete_manifest(&repo, &tag).await.unwrap_err();
    assert_eq!(error.status(), Some(http::StatusCode::METHOD_NOT_ALLOWED));
    assert_eq!(
        error.error_codes().collect::<Vec<_>>(),
        [&ErrorCode::Unsupported]
    );
}
