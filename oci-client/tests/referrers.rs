//! The referrers API of the workspace's registry, and the helper pushing referrers.

use oci_distribution_client::{ManifestReference, ReferrersSource};
use oci_spec_types::MediaType;
use oci_test_support::TestRegistry;

use crate::support::Repos;
use crate::support::{self, content};

#[tokio::test]
async fn referrers_come_from_the_api_and_filter_by_artifact_type() {
    let registry = TestRegistry::start().await;
    let client = support::client();
    let repo = registry.repo("signed");
    let subject = content::image(&client, &repo, &[100], 41).await;
    client
        .put_manifest(&repo, &ManifestReference::tag("v1").unwrap(), &subject)
        .await
        .unwrap();

    let sbom = content::referrer(&client, &repo, &subject, "application/vnd.example.sbom").await;
    let signature = content::referrer(
        &client,
        &repo,
        &subject,
        "application/vnd.example.signature",
    )
    .await;
    for referrer in [&sbom, &signature] {
        let pushed = client.push_referrer(&repo, referrer).await.unwrap();
        assert_eq!(
            pushed.fallback_tag, None,
            "the registry indexes subjects itself"
        );
        assert_eq!(pushed.manifest.subject, Some(subject.digest()));
    }

    let all = client
        .referrers(&repo, &subject.digest(), None)
        .await
        .unwrap();
    assert_eq!(all.source, ReferrersSource::Api);
    let mut digests: Vec<_> = all.descriptors.iter().map(|d| d.digest.clone()).collect();
    digests.sort();
    let mut expected = vec![sbom.digest(), signature.digest()];
    expected.sort();
    assert_eq!(digests, expected);

    let sbom_type = MediaType::from("application/vnd.example.sbom");
    let filtered = client
        .referrers(&repo, &subject.digest(), Some(&sbom_type))
        .await
        .unwrap();
    assert_eq!(filtered.descriptors.len(), 1);
    assert_eq!(filtered.descriptors[0].digest, sbom.digest());
    assert_eq!(filtered.descriptors[0].artifact_type, Some(sbom_type));

    let none = client
        .referrers(&repo, &oci_spec_types::Digest::compute(b"no subject"), None)
        .await
        .unwrap();
    assert!(none.descriptors.is_empty());
}
