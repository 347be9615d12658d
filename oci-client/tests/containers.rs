//! `registries.conf` against real registries: a mirror served by Debian's `docker-registry`
//! in front of the workspace's registry, pull-from-mirror policies, location rewrites,
//! blocked entries; and an explicit proxy with its no-proxy list.

use oci_distribution_client::{
    Client, ContainersConventions, Error, ManifestReference, Repository,
};
use oci_test_support::Proxy;
use oci_test_support::TestRegistry;
use oci_test_support::peers::Distribution;

use crate::support::Repos;
use crate::support::content::{image, pull};
use crate::support::{client, config};

/// A client reading `conf` as its only `registries.conf`.
fn client_with_conf(conf: &str) -> (Client, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("registries.conf");
    std::fs::write(&path, conf).unwrap();
    let conventions = ContainersConventions::new().with_registries_conf(&path);
    let config = config()
        .containers_conventions(&conventions)
        .unwrap()
        .build();
    (Client::new(config).unwrap(), dir)
}

#[tokio::test]
async fn pulls_go_to_a_mirror_first_and_fall_through_to_the_registry() {
    let primary = TestRegistry::start().await;
    let mirror = Distribution::start();
    // The mirror holds the image under its namespace; the registry itself does not.
    let in_mirror = mirror.repo("cache/team/app");
    let manifest = image(&client(), &in_mirror, &[5000], 3).await;
    client()
        .put_manifest(
            &in_mirror,
            &ManifestReference::tag("v1").unwrap(),
            &manifest,
        )
        .await
        .unwrap();
    let on_primary = primary.repo("team/app");
    let v1 = ManifestReference::tag("v1").unwrap();

    let (mirrored, _conf) = client_with_conf(&format!(
        "[[registry]]\nprefix = \"{}\"\n[[registry.mirror]]\nlocation = \"{}/cache\"\n",
        primary.host(),
        mirror.host()
    ));
    let pulled = mirrored.get_manifest(&on_primary, &v1).await.unwrap();
    assert_eq!(pulled.digest, manifest.digest());
    let layer = manifest.blobs()[1].clone();
    let bytes = pull(&mirrored, &on_primary, &layer.digest, Some(layer.size)).await;
    assert_eq!(bytes.len() as u64, layer.size);
    assert!(
        mirrored
            .head_blob(&on_primary, &layer.digest)
            .await
            .unwrap()
            .is_some()
    );

    // A digest-only mirror serves pulls by digest, not by tag: the tag goes to the registry.
    let (digest_only, _conf) = client_with_conf(&format!(
        "[[registry]]\nprefix = \"{}\"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = \"{}/cache\"\n",
        primary.host(),
        mirror.host()
    ));
    let error = digest_only
        .get_manifest(&on_primary, &v1)
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
    let by_digest = ManifestReference::Digest(manifest.digest());
    assert!(
        digest_only
            .get_manifest(&on_primary, &by_digest)
            .await
            .is_ok()
    );

    // Pushes never go to a mirror.
    let pushed = image(&mirrored, &on_primary, &[10], 4).await;
    mirrored
        .put_manifest(&on_primary, &ManifestReference::tag("v2").unwrap(), &pushed)
        .await
        .unwrap();
    assert!(
        client()
            .head_manifest(&on_primary, &ManifestReference::tag("v2").unwrap())
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn locations_rewrite_and_blocked_entries_refuse() {
    let registry = TestRegistry::start().await;
    let (routed, _conf) = client_with_conf(&format!(
        "[[registry]]\nprefix = \"example.invalid/team\"\nlocation = \"{host}/moved\"\n\n[[registry]]\nprefix = \"{host}/secret\"\nblocked = true\n",
        host = registry.host()
    ));
    let named = Repository::new("example.invalid", "team/app").unwrap();
    let manifest = image(&routed, &named, &[100], 5).await;
    routed
        .put_manifest(&named, &ManifestReference::tag("v1").unwrap(), &manifest)
        .await
        .unwrap();
    let real = registry.repo("moved/app");
    let found = client()
        .head_manifest(&real, &ManifestReference::tag("v1").unwrap())
        .await;
    assert!(found.unwrap().is_some());

    let error = routed
        .start_upload(&registry.repo("secret/app"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Blocked { .. }), "{error:?}");
    assert!(routed.start_upload(&registry.repo("secrets")).await.is_ok());
}

#[tokio::test]
async fn an_explicit_proxy_carries_requests_except_for_no_proxy_hosts() {
    let registry = TestRegistry::start().await;
    let proxy = Proxy::start(registry.host()).await;
    let through_proxy = config()
        .plain_http(registry.host())
        .proxy(format!("http://{}", proxy.host()))
        .build();
    Client::new(through_proxy)
        .unwrap()
        .ping(registry.host())
        .await
        .unwrap();
    assert_eq!(proxy.count("GET", "/v2/"), 1);

    let bypassing = config()
        .plain_http(registry.host())
        .proxy(format!("http://{}", proxy.host()))
        .no_proxy("127.0.0.1")
        .build();
    Client::new(bypassing)
        .unwrap()
        .ping(registry.host())
        .await
        .unwrap();
    assert_eq!(proxy.count("GET", "/v2/"), 1);

    let error = Client::new(config().proxy("not a url").build()).unwrap_err();
    assert!(matches!(error, Error::Build(_)), "{error:?}");
}
