//! Interoperability with Debian's `docker-registry` (CNCF distribution 2.8): anonymous, and
//! behind htpasswd Basic auth. It has no referrers API, so referrers take the tag schema.

use futures_util::TryStreamExt;
use oci_auth::{CredentialStore, Credentials};
use oci_distribution_client::{
    Client, Error, ManifestReference, MountOutcome, ReferrersSource, UploadMethod,
};
use oci_spec_types::{Digest, MediaType, referrers_tag};
use oci_test_support::peers::Distribution;

use crate::support::Repos;
use crate::support::{self, content};

#[tokio::test]
async fn pushes_and_pulls_with_every_upload_method() {
    let registry = Distribution::start();
    let client = Client::new(
        support::config()
            .chunk_size(std::num::NonZeroU64::new(32 * 1024).unwrap())
            .build(),
    )
    .unwrap();
    let info = client.ping(registry.host()).await.unwrap();
    assert_eq!(info.api_version.as_deref(), Some("registry/2.0"));
    let repo = registry.repo("interop/app");
    let methods = [
        UploadMethod::Monolithic,
        UploadMethod::SinglePost,
        UploadMethod::Chunked,
        UploadMethod::Streamed,
    ];
    for (index, method) in methods.into_iter().enumerate() {
        let data = content::blob(100_000 + index, 300 + index as u64);
        let digest = Digest::compute(&data);
        let body = content::pieces(data.clone(), 10_000);
        client
            .push_blob(&repo, &digest, data.len() as u64, body, method)
            .await
            .unwrap();
        let info = client.head_blob(&repo, &digest).await.unwrap().unwrap();
        assert_eq!(info.size, Some(data.len() as u64), "{method:?}");
        assert_eq!(
            content::pull(&client, &repo, &digest, None).await,
            data,
            "{method:?}"
        );
    }
    let data = content::blob(77_777, 310);
    let pushed = client
        .push_blob_reader(&repo, std::io::Cursor::new(data.to_vec()))
        .await
        .unwrap();
    assert_eq!(
        content::pull(&client, &repo, &pushed.digest, None).await,
        data
    );

    client.delete_blob(&repo, &pushed.digest).await.unwrap();
    assert_eq!(client.head_blob(&repo, &pushed.digest).await.unwrap(), None);
}

#[tokio::test]
async fn manifests_tags_catalog_and_mounts() {
    let registry = Distribution::start();
    let client = support::client();
    let repo = registry.repo("interop/manifests");
    let manifest = content::image(&client, &repo, &[2_000], 320).await;

    // distribution ignores `?tag=`: the client tags one by one.
    let pushed = client
        .put_manifest_with_tags(&repo, &manifest, &["b", "a", "c"])
        .await
        .unwrap();
    assert_eq!(pushed.digest, manifest.digest());
    assert_eq!(pushed.tags, ["b", "a", "c"]);
    let tag = ManifestReference::tag("a").unwrap();
    let head = client.head_manifest(&repo, &tag).await.unwrap().unwrap();
    assert_eq!(head.digest, Some(manifest.digest()));
    let pulled = client
        .get_manifest(&repo, &manifest.digest().into())
        .await
        .unwrap();
    assert_eq!(pulled.bytes, manifest.raw());
    assert_eq!(pulled.media_type, Some(MediaType::OciImageManifest));

    // distribution 2.8 lists tags in storage order, not the lexical order the spec asks for.
    let mut tags: Vec<String> = client
        .list_tags(&repo, Some(2))
        .try_collect()
        .await
        .unwrap();
    tags.sort();
    assert_eq!(tags, ["a", "b", "c"]);

    let other = registry.repo("interop/other");
    let layer = &manifest.blobs()[1].digest;
    let outcome = client.mount_blob(&other, layer, &repo).await.unwrap();
    assert!(matches!(outcome, MountOutcome::Mounted(_)), "{outcome:?}");
    let missing = Digest::compute(b"not there");
    let outcome = client.mount_blob(&other, &missing, &repo).await.unwrap();
    assert!(matches!(outcome, MountOutcome::Upload(_)), "{outcome:?}");

    let catalog: Vec<String> = client
        .catalog(registry.host(), Some(1))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(catalog, ["interop/manifests", "interop/other"]);

    client
        .delete_manifest(&repo, &ManifestReference::Digest(manifest.digest()))
        .await
        .unwrap();
    let gone = client.get_manifest(&repo, &tag).await.unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
}

#[tokio::test]
async fn referrers_take_the_tag_schema() {
    let registry = Distribution::start();
    let client = support::client();
    let repo = registry.repo("interop/signed");
    let subject = content::image(&client, &repo, &[1_000], 330).await;
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
    let expected_tag = referrers_tag(&subject.digest());
    for referrer in [&sbom, &signature, &sbom] {
        let pushed = client.push_referrer(&repo, referrer).await.unwrap();
        assert_eq!(pushed.fallback_tag.as_deref(), Some(expected_tag.as_str()));
    }

    let all = client
        .referrers(&repo, &subject.digest(), None)
        .await
        .unwrap();
    assert_eq!(all.source, ReferrersSource::TagSchema);
    let digests: Vec<Digest> = all.descriptors.iter().map(|d| d.digest.clone()).collect();
    assert_eq!(
        digests,
        [sbom.digest(), signature.digest()],
        "no duplicate entries"
    );

    let signature_type = MediaType::from("application/vnd.example.signature");
    let filtered = client
        .referrers(&repo, &subject.digest(), Some(&signature_type))
        .await
        .unwrap();
    assert_eq!(filtered.descriptors.len(), 1);
    assert_eq!(filtered.descriptors[0].digest, signature.digest());

    let tag = ManifestReference::tag(&expected_tag).unwrap();
    let index = client.get_manifest(&repo, &tag).await.unwrap();
    assert_eq!(index.media_type, Some(MediaType::OciImageIndex));
}

#[tokio::test]
async fn htpasswd_basic_auth() {
    let (registry, _files) = support::distribution_with_account("bob", "builder");
    let host = registry.host();
    let store = CredentialStore::new().with_credentials(host, Credentials::basic("bob", "builder"));
    let client = Client::new(support::config().credentials(store).build()).unwrap();
    client.ping(host).await.unwrap();
    let repo = registry.repo("private/app");
    let data = content::blob(40_000, 340);
    let digest = Digest::compute(&data);
    client
        .push_blob(
            &repo,
            &digest,
            40_000,
            content::pieces(data.clone(), 8_192),
            UploadMethod::Streamed,
        )
        .await
        .unwrap();
    let manifest = content::image(&client, &repo, &[1_000], 341).await;
    let tag = ManifestReference::tag("v1").unwrap();
    client.put_manifest(&repo, &tag, &manifest).await.unwrap();
    assert_eq!(
        client.get_manifest(&repo, &tag).await.unwrap().digest,
        manifest.digest()
    );
    assert_eq!(content::pull(&client, &repo, &digest, None).await, data);

    let anonymous = support::client();
    let error = anonymous.ping(host).await.unwrap_err();
    assert_eq!(error.status(), Some(http::StatusCode::UNAUTHORIZED));
    let wrong = CredentialStore::new().with_credentials(host, Credentials::basic("bob", "wrong"));
    let wrong = Client::new(support::config().credentials(wrong).build()).unwrap();
    let error = wrong.get_manifest(&repo, &tag).await.unwrap_err();
    assert!(matches!(error, Error::Status { .. }), "{error:?}");
    assert_eq!(error.status(), Some(http::StatusCode::UNAUTHORIZED));
    assert_eq!(
        error.kind(),
        oci_distribution_client::ErrorKind::Unauthorized
    );
}
