//! TLS against Debian's `docker-registry` configured with `http.tls` (and `clientcas`), with
//! a certificate authority made at test time: extra roots, client identities, `certs.d`
//! directories, the insecure switch, and loopback hosts that speak TLS.

use oci_distribution_client::{
    Certificates, Client, ContainersConventions, Error, ErrorKind, Identity, ManifestReference,
};
use oci_test_support::peers::Distribution;
use tokio::io::AsyncReadExt;

use crate::support::Repos;
use crate::support::content::image;
use crate::support::pass_through::CountingPassThrough;
use crate::support::pki::{Pem, TestCa};
use crate::support::{self, client, config};

fn roots(ca: &TestCa) -> Certificates {
    Certificates::from_pem(ca.cert.as_bytes()).unwrap()
}

fn identity(pem: &Pem) -> Identity {
    Identity::from_pem(pem.cert.as_bytes(), pem.key.as_bytes()).unwrap()
}

/// Pushes a one-layer image and reads it back: the whole protocol over this client's TLS.
async fn round_trip(client: &Client, registry: &Distribution) {
    let repository = registry.repo("tls/app");
    let manifest = image(client, &repository, &[3000], 7).await;
    client
        .put_manifest(
            &repository,
            &ManifestReference::tag("v1").unwrap(),
            &manifest,
        )
        .await
        .unwrap();
    let pulled = client
        .get_manifest(&repository, &ManifestReference::tag("v1").unwrap())
        .await
        .unwrap();
    assert_eq!(pulled.digest, manifest.digest());
}

/// True when the error is a failed connection to an `https://` URL.
fn failed_over_tls(error: &Error) -> bool {
    matches!(error, Error::Transport { url, .. } if url.starts_with("https://"))
}

#[tokio::test]
async fn a_registry_behind_a_private_ca_is_reached_with_its_root_over_tls() {
    let ca = TestCa::new("private CA");
    let server = ca.server();
    let (registry, _files) = support::distribution_with_tls(&server, None);

    // Loopback hosts are tried over plain HTTP first: this one answers it with a TLS server's
    // 400, so TLS is used.
    let trusting = Client::new(config().root_certificates(roots(&ca)).build()).unwrap();
    round_trip(&trusting, &registry).await;

    // Without the root the certificate is refused, over TLS (not retried as plain HTTP):
    // a matter of settings, not of trying again.
    let error = client().ping(registry.host()).await.unwrap_err();
    assert!(failed_over_tls(&error), "{error:?}");
    assert_eq!(error.kind(), ErrorKind::Configuration);

    // Roots for another registry do not help this one.
    let elsewhere = config()
        .registry_root_certificates("127.0.0.1:1", roots(&ca))
        .build();
    let error = Client::new(elsewhere)
        .unwrap()
        .ping(registry.host())
        .await
        .unwrap_err();
    assert!(failed_over_tls(&error), "{error:?}");

    // `insecure` skips the check.
    let insecure = Client::new(config().insecure(registry.host()).build()).unwrap();
    insecure.ping(registry.host()).await.unwrap();
}

/// Whether some TLS connection through `through` offered HTTP/1.1 alone.
fn some_connection_offered_http1_alone(through: &CountingPassThrough) -> bool {
    through
        .alpn_offers()
        .iter()
        .any(|offered| *offered == ["http/1.1"])
}

#[tokio::test]
async fn blob_bytes_travel_over_http1_and_other_requests_may_share_http2() {
    let ca = TestCa::new("private CA");
    let (registry, _files) = support::distribution_with_tls(&ca.server(), None);
    let trusting = || Client::new(config().root_certificates(roots(&ca)).build()).unwrap();

    // Pushing blobs: their bytes go on connections that offer HTTP/1.1 alone.
    let pushing = CountingPassThrough::start(registry.host()).await;
    let repository = pushing.repo("tls/bulk");
    let manifest = image(&trusting(), &repository, &[3000], 11).await;
    assert!(
        some_connection_offered_http1_alone(&pushing),
        "{:?}",
        pushing.alpn_offers()
    );

    // Manifests carry no blob bytes: every connection offers HTTP/2 too.
    let tagging = CountingPassThrough::start(registry.host()).await;
    let repository = tagging.repo("tls/bulk");
    let tag = ManifestReference::tag("v1").unwrap();
    let client = trusting();
    client
        .put_manifest(&repository, &tag, &manifest)
        .await
        .unwrap();
    let pulled = client.get_manifest(&repository, &tag).await.unwrap();
    assert_eq!(pulled.digest, manifest.digest());
    let offers = tagging.alpn_offers();
    assert!(!offers.is_empty(), "no TLS connection was made");
    assert!(
        offers
            .iter()
            .all(|offered| offered.iter().any(|p| p == "h2")),
        "{offers:?}"
    );

    // Pulling a blob: its bytes come on a connection that offered HTTP/1.1 alone.
    let pulling = CountingPassThrough::start(registry.host()).await;
    let repository = pulling.repo("tls/bulk");
    let config_blob = &manifest.image().unwrap().config;
    let stream = trusting()
        .get_blob(&repository, &config_blob.digest, Some(config_blob.size))
        .await
        .unwrap();
    let mut bytes = Vec::new();
    stream.into_reader().read_to_end(&mut bytes).await.unwrap();
    assert_eq!(bytes.len() as u64, config_blob.size);
    assert!(
        some_connection_offered_http1_alone(&pulling),
        "{:?}",
        pulling.alpn_offers()
    );
}

#[tokio::test]
async fn mutual_tls_needs_the_client_identity() {
    let ca = TestCa::new("mTLS CA");
    let (server, client_pem) = (ca.server(), ca.client());
    let (registry, _files) = support::distribution_with_tls(&server, Some(&ca.cert));
    let host = registry.host();

    // Refused for want of a certificate. Under TLS 1.3 the server refuses once the client's
    // side of the handshake is done: its alert usually reaches the client, which may instead
    // see the connection close first (then a plain Transient failure, tried again). Once the
    // alert arrives, the refusal is a matter of configuration and the client stops trying,
    // before its four attempts are spent.
    let anonymous = Client::new(config().root_certificates(roots(&ca)).build()).unwrap();
    let mut refused = None;
    for _ in 0..5 {
        let through = CountingPassThrough::start(host).await;
        let error = anonymous.ping(through.host()).await.unwrap_err();
        assert!(failed_over_tls(&error), "{error:?}");
        if error.kind() == ErrorKind::Configuration {
            refused = Some((error, through.connections()));
            break;
        }
    }
    let (error, connections) = refused.expect("the server's alert never reached the client");
    // The plain-HTTP probe a loopback host gets first, then the TLS attempts up to the one
    // that read the alert (one, most often).
    assert!(connections < 5, "{connections} connections: {error:?}");

    let for_this_registry = config()
        .registry_root_certificates(host, roots(&ca))
        .registry_identity(host, identity(&client_pem))
        .build();
    round_trip(&Client::new(for_this_registry).unwrap(), &registry).await;

    // A certificate from another authority is refused.
    let stranger = TestCa::new("stranger").client();
    let wrong = config()
        .root_certificates(roots(&ca))
        .identity(identity(&stranger))
        .build();
    let error = Client::new(wrong).unwrap().ping(host).await.unwrap_err();
    assert!(failed_over_tls(&error), "{error:?}");
}

#[tokio::test]
async fn certs_d_directories_give_roots_and_identities_per_registry() {
    let ca = TestCa::new("certs.d CA");
    let (server, client_pem) = (ca.server(), ca.client());
    let (registry, _files) = support::distribution_with_tls(&server, Some(&ca.cert));
    let certs_d = tempfile::tempdir().unwrap();
    let dir = certs_d.path().join(registry.host());
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ca.crt"), &ca.cert).unwrap();
    std::fs::write(dir.join("client.cert"), &client_pem.cert).unwrap();
    std::fs::write(dir.join("client.key"), &client_pem.key).unwrap();

    let conventions = ContainersConventions::new()
        .with_certs_dir(certs_d.path().join("missing"))
        .with_certs_dir(certs_d.path());
    let config = config()
        .containers_conventions(&conventions)
        .unwrap()
        .build();
    round_trip(&Client::new(config).unwrap(), &registry).await;
}

#[tokio::test]
async fn loopback_registries_without_tls_fall_back_to_plain_http() {
    let registry = Distribution::start();
    let client = client();
    round_trip(&client, &registry).await;
    // A configured plain-HTTP registry is never tried over TLS, with the same outcome.
    let plain = Client::new(config().plain_http(registry.host()).build()).unwrap();
    plain.ping(registry.host()).await.unwrap();
}

/// A relay on a free loopback port to `upstream` that records the first byte each
/// connection sends: `0x16` opens a TLS handshake, `G` a plain `GET`.
async fn first_bytes_relay(
    upstream: String,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<u8>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let (record, upstream) = (record.clone(), upstream.clone());
            tokio::spawn(async move {
                let mut first = [0u8; 1];
                if client.peek(&mut first).await.unwrap_or(0) == 1 {
                    record.lock().unwrap().push(first[0]);
                }
                if let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    (host, seen)
}

#[tokio::test]
async fn a_plain_http_loopback_registry_is_reached_without_a_tls_attempt() {
    let registry = Distribution::start();
    let (host, first_bytes) = first_bytes_relay(registry.host().to_owned()).await;
    client().ping(&host).await.unwrap();
    let seen = first_bytes.lock().unwrap().clone();
    assert!(!seen.is_empty());
    assert!(seen.iter().all(|&byte| byte == b'G'), "{seen:?}");
}
