//! The library's TLS setup: RSA, ECDSA and Ed25519 server keys each serve a full chain that a
//! client trusting only the root accepts; files that cannot work are refused when loaded.

use oci_server_core::{
    ServeOptions,
    server::{ServerError, TlsConfig},
};
use reqwest::StatusCode;

use super::{Pki, certs::KeyKind, served_certificate};
use crate::common::TestRegistry;

#[tokio::test]
async fn every_key_kind_serves_a_full_chain() {
    for kind in [KeyKind::Rsa, KeyKind::Ecdsa, KeyKind::Ed25519] {
        let pki = Pki::new(kind);
        let tls = TlsConfig::new(pki.path("server.crt"), pki.path("server.key"))
            .load()
            .unwrap();
        let registry =
            TestRegistry::with_serve_options(ServeOptions::default().with_tls(tls)).await;

        let answer = pki
            .https_client()
            .get(format!("https://{}/v2/", registry.host()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e:?}"));
        assert_eq!(answer.status(), StatusCode::OK, "{kind:?}");
        assert_eq!(served_certificate(&answer), pki.server.der, "{kind:?}");
        registry.stop().await;
    }
}

#[test]
fn files_that_cannot_work_are_refused_when_loaded() {
    let pki = Pki::new(KeyKind::Ecdsa);
    let other = Pki::new(KeyKind::Ecdsa);
    let mismatched = TlsConfig::new(pki.path("server.crt"), other.path("server.key")).load();
    assert!(
        matches!(mismatched, Err(ServerError::KeyMismatch { .. })),
        "{mismatched:?}"
    );

    let empty = pki.path("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let no_cert = TlsConfig::new(&empty, pki.path("server.key")).load();
    assert!(
        matches!(no_cert, Err(ServerError::NoCertificate { .. })),
        "{no_cert:?}"
    );
    let no_key = TlsConfig::new(pki.path("server.crt"), &empty).load();
    assert!(matches!(no_key, Err(ServerError::Pem { .. })), "{no_key:?}");
    let missing = TlsConfig::new(pki.path("server.crt"), pki.path("server.key"))
        .with_client_ca(pki.path("missing.pem"))
        .load();
    assert!(
        matches!(missing, Err(ServerError::Pem { .. })),
        "{missing:?}"
    );
}
