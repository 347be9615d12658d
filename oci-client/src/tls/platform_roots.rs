//! The platform verifier, built on the first TLS handshake rather than with the client.
//!
//! Building it reads and parses the system's trust store (on Linux every file of
//! `/etc/ssl/certs`), which costs a few milliseconds of CPU: about half of what a short run
//! of a command-line tool costs in all. A run that only speaks plain HTTP (loopback or
//! `--plain-http` registries) never needs it, and a run that speaks TLS pays it once, as
//! before.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

/// The platform's roots plus `extra_roots`, loaded when a server certificate is first
/// checked. A trust store that cannot be loaded fails that handshake (and every later one)
/// with the loader's error.
#[derive(Debug)]
pub(crate) struct PlatformRoots {
    provider: Arc<CryptoProvider>,
    extra_roots: Vec<CertificateDer<'static>>,
    verifier: OnceLock<Result<rustls_platform_verifier::Verifier, rustls::Error>>,
}

impl PlatformRoots {
    /// A verifier trusting the platform's roots and `extra_roots`. The extra roots are
    /// checked now, so an unusable one is refused when the client is built.
    pub(crate) fn new(
        extra_roots: Vec<CertificateDer<'static>>,
        provider: Arc<CryptoProvider>,
    ) -> Result<Self, rustls::Error> {
        let mut check = RootCertStore::empty();
        for root in &extra_roots {
            check.add(root.clone())?;
        }
        Ok(PlatformRoots {
            provider,
            extra_roots,
            verifier: OnceLock::new(),
        })
    }

    fn verifier(&self) -> Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        self.verifier
            .get_or_init(|| {
                rustls_platform_verifier::Verifier::new_with_extra_roots(
                    self.extra_roots.iter().cloned(),
                    Arc::clone(&self.provider),
                )
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl ServerCertVerifier for PlatformRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.verifier()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifier()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.verifier()?.verify_tls13_signature(message, cert, dss)
    }

    /// Asked when the client hello is written, before any certificate: the provider's
    /// schemes, which are what the platform verifier answers too, without loading roots.
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_are_loaded_only_when_a_certificate_is_checked() {
        let provider = crate::tls::crypto_provider().unwrap();
        let roots = PlatformRoots::new(Vec::new(), provider).unwrap();
        assert!(!roots.supported_verify_schemes().is_empty());
        assert!(roots.verifier.get().is_none());
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let checked = roots.verify_server_cert(made.cert.der(), &[], &name, &[], UnixTime::now());
        assert!(checked.is_err(), "a self-signed certificate is not trusted");
        assert!(roots.verifier.get().is_some());
    }

    #[test]
    fn an_unusable_extra_root_is_refused_at_once() {
        let provider = crate::tls::crypto_provider().unwrap();
        let garbage = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x01]);
        assert!(PlatformRoots::new(vec![garbage], provider).is_err());
    }
}
