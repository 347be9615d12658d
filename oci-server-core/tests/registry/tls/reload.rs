//! A renewed certificate (or a rotated client CA) reaches new connections without a restart,
//! on SIGHUP and when its files change, while a connection opened before keeps working with
//! the certificate it got.

use oci_test_support::peers::OciRegistry;
use reqwest::StatusCode;

use super::{
    Pki, as_strs,
    certs::{KeyKind, Leaf, TestCa, replace_file},
    served_certificate,
};
use crate::process;

/// Starts a registry on `pki`'s certificate with `reload_interval`, keeps a connection open,
/// renews the certificate, calls `trigger`, waits for the log line `reloaded`, and checks old
/// and new connections.
async fn renewal_reaches_new_connections_only(
    reload_interval: &str,
    trigger: impl FnOnce(&OciRegistry),
    reloaded: &str,
) {
    let pki = Pki::new(KeyKind::Ecdsa);
    let work = tempfile::tempdir().unwrap();
    let mut flags = pki.flags(false);
    // Long connection timeouts: the kept connection must outlive the test, however slow.
    flags.extend(
        [
            "--tls-reload-interval",
            reload_interval,
            "--idle-timeout",
            "1h",
            "--header-read-timeout",
            "1h",
        ]
        .map(str::to_owned),
    );
    let registry = process::start_logged(&work.path().join("store"), &as_strs(&flags));
    let url = format!("{}/v2/", registry.base());
    // One connection per client: the pool keeps it open between requests.
    let kept = pki.https_client();
    let first = kept.get(&url).send().await.unwrap();
    assert_eq!(served_certificate(&first), pki.server.der);
    first.bytes().await.unwrap();

    let renewed = pki
        .ca
        .intermediate("renewed intermediate")
        .server(KeyKind::Ed25519);
    renewed.write(pki.dir(), "server");
    trigger(&registry);
    registry.wait_for_log(reloaded);

    let fresh = pki.https_client().get(&url).send().await.unwrap();
    assert_eq!(fresh.status(), StatusCode::OK);
    assert_eq!(
        served_certificate(&fresh),
        renewed.der,
        "a new connection gets the new certificate"
    );

    let again = kept.get(&url).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(
        served_certificate(&again),
        pki.server.der,
        "the connection opened before the reload is still the same one, still working"
    );
}

#[tokio::test]
async fn sighup_reloads_the_certificate_without_dropping_connections() {
    renewal_reaches_new_connections_only(
        "0s",
        |registry| registry.signal("HUP"),
        "reloaded on SIGHUP",
    )
    .await;
}

#[tokio::test]
async fn changed_certificate_files_are_reloaded_without_a_signal() {
    renewal_reaches_new_connections_only("1s", |_| {}, "reloaded: its files changed").await;
}

/// A client that trusts `pki`'s CA and presents `leaf`.
fn client_presenting(pki: &Pki, leaf: &Leaf) -> reqwest::Client {
    let identity = format!("{}{}", leaf.chain_pem, leaf.key_pem);
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(pki.ca.pem().as_bytes()).unwrap()])
        .identity(reqwest::Identity::from_pem(identity.as_bytes()).unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_rotated_client_ca_reaches_new_connections_on_sighup() {
    let pki = Pki::new(KeyKind::Ecdsa);
    let work = tempfile::tempdir().unwrap();
    let mut flags = pki.flags(true);
    flags.extend(["--tls-reload-interval", "0s"].map(str::to_owned));
    let registry = process::start_logged(&work.path().join("store"), &as_strs(&flags));
    let url = format!("{}/v2/", registry.base());
    let rotated = TestCa::root("rotated client root");
    let erin = rotated.client("erin");

    let before = client_presenting(&pki, &erin).get(&url).send().await;
    assert!(
        before
            .as_ref()
            .map_or(true, |answer| answer.status() != StatusCode::OK),
        "a client of a CA the server does not trust yet is let in: {before:?}"
    );

    replace_file(&pki.path("ca.pem"), &rotated.pem());
    registry.signal("HUP");
    registry.wait_for_log("reloaded on SIGHUP");
    let after = client_presenting(&pki, &erin).get(&url).send().await;
    assert_eq!(after.unwrap().status(), StatusCode::OK);
}
