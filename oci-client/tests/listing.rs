//! Tag list and catalog pagination (`n`, `last`, `Link`).

use futures_util::TryStreamExt;
use oci_distribution_client::{ManifestReference, Repository};
use oci_spec_types::ErrorCode;
use oci_test_support::{Proxy, TestRegistry};

use crate::support::Repos;
use crate::support::{self, content};

#[tokio::test]
async fn tags_come_in_pages_and_in_order() {
    let registry = TestRegistry::start().await;
    let proxy = Proxy::start(registry.host()).await;
    let client = support::client();
    let repo = Repository::new(proxy.host(), "paged").unwrap();
    let manifest = content::image(&client, &repo, &[10], 31).await;
    let tags = ["v1", "v2", "v3", "latest", "beta", "alpha", "z"];
    for tag in tags {
        let reference = ManifestReference::tag(tag).unwrap();
        client
            .put_manifest(&repo, &reference, &manifest)
            .await
            .unwrap();
    }
    let listed: Vec<String> = client
        .list_tags(&repo, Some(2))
        .try_collect()
        .await
        .unwrap();
    let mut expected: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
    expected.sort();
    assert_eq!(listed, expected);
    assert_eq!(proxy.count("GET", "/tags/list"), 4);

    let all: Vec<String> = client.list_tags(&repo, None).try_collect().await.unwrap();
    assert_eq!(all, expected);
}

#[tokio::test]
async fn the_catalog_comes_in_pages() {
    let registry = TestRegistry::start().await;
    let client = support::client();
    let mut names = Vec::new();
    for name in ["e", "d/x", "c", "b", "a"] {
        let repo = registry.repo(name);
        let manifest = content::image(&client, &repo, &[], 32).await;
        let reference = ManifestReference::tag("latest").unwrap();
        client
            .put_manifest(&repo, &reference, &manifest)
            .await
            .unwrap();
        names.push(name.to_owned());
    }
    names.sort();
    let listed: Vec<String> = client
        .catalog(registry.host(), Some(2))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(listed, names);
}

#[tokio::test]
async fn tags_of_an_unknown_repository_are_an_error() {
    let registry = TestRegistry::start().await;
    let client = support::client();
    let result: Result<Vec<String>, _> = client
        .list_tags(&registry.repo("nobody/here"), None)
        .try_collect()
        .await;
    let error = result.unwrap_err();
    assert!(error.is_not_found(), "{error}");
    assert_eq!(
        error.error_codes().collect::<Vec<_>>(),
        [&ErrorCode::NameUnknown]
    );
}
