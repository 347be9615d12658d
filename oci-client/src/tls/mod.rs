//! TLS settings: root certificates and client identities read from PEM, and the rustls
//! configuration a set of them makes.
//!
//! The client builds its rustls configuration itself instead of leaving it to reqwest, so the
//! crypto provider is a cargo feature of this crate (`rustls-aws-lc-rs`, the default, or
//! `rustls-ring`; with neither, the process-wide default provider a program installed) and
//! the same code path serves every registry's roots and identity.
//!
//! Server certificates are checked by the platform verifier (the operating system's trust
//! store; on Linux the system CA bundle, which `SSL_CERT_FILE` and `SSL_CERT_DIR` override,
//! read at the first TLS handshake, not when the client is built) with any extra roots added,
//! or, with [`ClientConfigBuilder::only_configured_roots`](crate::ClientConfigBuilder::only_configured_roots),
//! by webpki against the configured roots alone.

mod platform_roots;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};

/// Why TLS settings could not be read or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A certificate or key file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// PEM text is malformed.
    #[error("{origin} is not valid PEM")]
    Pem {
        /// The file, or `PEM text` for bytes given directly.
        origin: String,
        /// The parser's complaint.
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    /// PEM text holds no certificate.
    #[error("{origin} holds no certificate")]
    NoCertificate {
        /// The file, or `PEM text`.
        origin: String,
    },
    /// PEM text holds no private key.
    #[error("{origin} holds no private key")]
    NoPrivateKey {
        /// The file, or `PEM text`.
        origin: String,
    },
    /// No crypto provider: neither `rustls-aws-lc-rs` nor `rustls-ring` is enabled and the
    /// program installed no process-wide default.
    #[error(
        "no TLS crypto provider: enable the rustls-aws-lc-rs or rustls-ring feature, or install a rustls default provider"
    )]
    NoCryptoProvider,
    /// rustls refused the settings (an unusable root certificate, a key that does not fit
    /// the certificate, ...).
    #[error("the TLS settings are unusable")]
    Rustls(#[source] rustls::Error),
}

/// Where PEM text came from, for error messages.
fn origin(path: Option<&Path>) -> String {
    path.map_or_else(|| "PEM text".to_owned(), |path| path.display().to_string())
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Root certificates (certificate authorities) to trust, in DER, read from PEM.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Certificates {
    certificates: Vec<CertificateDer<'static>>,
}

impl Certificates {
    /// No certificate.
    pub fn new() -> Self {
        Certificates::default()
    }

    /// Every `CERTIFICATE` block of PEM text (other blocks are skipped); at least one.
    pub fn from_pem(pem: &[u8]) -> Result<Self, TlsError> {
        Certificates::parse(pem, None)
    }

    /// Every certificate of a PEM file (a `ca.crt`, a bundle).
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self, TlsError> {
        let path = path.as_ref();
        Certificates::parse(&read(path)?, Some(path))
    }

    fn parse(pem: &[u8], path: Option<&Path>) -> Result<Self, TlsError> {
        let certificates = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| TlsError::Pem {
                origin: origin(path),
                source,
            })?;
        if certificates.is_empty() {
            return Err(TlsError::NoCertificate {
                origin: origin(path),
            });
        }
        Ok(Certificates { certificates })
    }

    /// Adds the certificates of `other`.
    pub fn extend(&mut self, other: Certificates) {
        self.certificates.extend(other.certificates);
    }

    /// How many certificates there are.
    pub fn len(&self) -> usize {
        self.certificates.len()
    }

    /// True when there is none.
    pub fn is_empty(&self) -> bool {
        self.certificates.is_empty()
    }
}

impl fmt::Debug for Certificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Certificates({})", self.certificates.len())
    }
}

/// A client certificate chain and its private key, for registries that ask for one
/// (mutual TLS).
pub struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Identity {
    /// The certificates of `certificate_pem` (the client's first, then intermediates) and
    /// the first private key (PKCS#8, PKCS#1 or SEC1) of `key_pem`.
    pub fn from_pem(certificate_pem: &[u8], key_pem: &[u8]) -> Result<Self, TlsError> {
        Identity::parse(certificate_pem, None, key_pem, None)
    }

    /// Like [`from_pem`](Self::from_pem), from files (`client.cert` and `client.key`).
    pub fn from_pem_files(
        certificate: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Self, TlsError> {
        let (certificate, key) = (certificate.as_ref(), key.as_ref());
        Identity::parse(
            &read(certificate)?,
            Some(certificate),
            &read(key)?,
            Some(key),
        )
    }

    fn parse(
        certificate_pem: &[u8],
        certificate_path: Option<&Path>,
        key_pem: &[u8],
        key_path: Option<&Path>,
    ) -> Result<Self, TlsError> {
        let chain = Certificates::parse(certificate_pem, certificate_path)?.certificates;
        let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|source| match source {
            rustls_pki_types::pem::Error::NoItemsFound => TlsError::NoPrivateKey {
                origin: origin(key_path),
            },
            source => TlsError::Pem {
                origin: origin(key_path),
                source,
            },
        })?;
        Ok(Identity { chain, key })
    }
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Identity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl PartialEq for Identity {
    fn eq(&self, other: &Self) -> bool {
        self.chain == other.chain && self.key.secret_der() == other.key.secret_der()
    }
}

impl Eq for Identity {}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key stays out of logs.
        write!(f, "Identity({} certificates, key)", self.chain.len())
    }
}

/// Everything that decides one rustls configuration: registries sharing these share a
/// connection pool.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TlsProfile {
    /// Roots trusted besides (or, with `only_roots`, instead of) the platform's.
    pub(crate) roots: Certificates,
    pub(crate) only_roots: bool,
    pub(crate) identity: Option<Identity>,
    /// Accept any server certificate.
    pub(crate) insecure: bool,
}

impl TlsProfile {
    /// The rustls configuration for this profile, with HTTP/2 and HTTP/1.1 offered by ALPN.
    pub(crate) fn rustls_config(&self) -> Result<rustls::ClientConfig, TlsError> {
        let provider = crypto_provider()?;
        let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Rustls)?;
        let verifier: Arc<dyn ServerCertVerifier> = if self.insecure {
            Arc::new(AcceptAnyCertificate { provider })
        } else if self.only_roots {
            let mut store = RootCertStore::empty();
            for root in &self.roots.certificates {
                store.add(root.clone()).map_err(TlsError::Rustls)?;
            }
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider)
                .build()
                .map_err(|error| TlsError::Rustls(rustls::Error::General(error.to_string())))?
        } else {
            Arc::new(
                platform_roots::PlatformRoots::new(self.roots.certificates.clone(), provider)
                    .map_err(TlsError::Rustls)?,
            )
        };
        let builder = builder
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let mut config = match &self.identity {
            Some(identity) => builder
                .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
                .map_err(TlsError::Rustls)?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }
}

/// The crypto provider the features chose, else the one the program installed.
fn crypto_provider() -> Result<Arc<CryptoProvider>, TlsError> {
    #[cfg(feature = "rustls-aws-lc-rs")]
    return Ok(Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    #[cfg(all(feature = "rustls-ring", not(feature = "rustls-aws-lc-rs")))]
    return Ok(Arc::new(rustls::crypto::ring::default_provider()));
    #[allow(unreachable_code)]
    CryptoProvider::get_default()
        .cloned()
        .ok_or(TlsError::NoCryptoProvider)
}

/// Accepts any server certificate, for hosts configured insecure; handshake signatures are
/// still checked, so the session is at least with the holder of the presented key.
#[derive(Debug)]
struct AcceptAnyCertificate {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed() -> rcgen::CertifiedKey<rcgen::KeyPair> {
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap()
    }

    #[test]
    fn certificates_and_identities_read_pem() {
        let made = self_signed();
        let pem = made.cert.pem();
        let mut bundle = Certificates::from_pem(format!("{pem}{pem}").as_bytes()).unwrap();
        assert_eq!(bundle.len(), 2);
        bundle.extend(Certificates::from_pem(pem.as_bytes()).unwrap());
        assert_eq!(bundle.len(), 3);
        let identity =
            Identity::from_pem(pem.as_bytes(), made.signing_key.serialize_pem().as_bytes())
                .unwrap();
        assert_eq!(identity.clone(), identity);
        assert!(!format!("{identity:?}").contains("PRIVATE"));
    }

    #[test]
    fn pem_without_the_expected_block_is_refused() {
        let made = self_signed();
        let key = made.signing_key.serialize_pem();
        assert!(matches!(
            Certificates::from_pem(key.as_bytes()),
            Err(TlsError::NoCertificate { .. })
        ));
        assert!(matches!(
            Identity::from_pem(made.cert.pem().as_bytes(), made.cert.pem().as_bytes()),
            Err(TlsError::NoPrivateKey { .. })
        ));
        assert!(matches!(
            Certificates::from_pem(b"-----BEGIN CERTIFICATE-----\nnot base64!\n"),
            Err(TlsError::Pem { .. })
        ));
        let missing = Certificates::from_pem_file("/nonexistent/ca.crt");
        assert!(matches!(missing, Err(TlsError::Read { .. })), "{missing:?}");
    }

    #[test]
    fn profiles_build_rustls_configurations() {
        let made = self_signed();
        let roots = Certificates::from_pem(made.cert.pem().as_bytes()).unwrap();
        let identity = Identity::from_pem(
            made.cert.pem().as_bytes(),
            made.signing_key.serialize_pem().as_bytes(),
        )
        .unwrap();
        for profile in [
            TlsProfile::default(),
            TlsProfile {
                roots: roots.clone(),
                only_roots: true,
                identity: Some(identity),
                insecure: false,
            },
            TlsProfile {
                insecure: true,
                ..TlsProfile::default()
            },
        ] {
            let config = profile.rustls_config().unwrap();
            assert_eq!(config.alpn_protocols[0], b"h2");
        }
    }
}
