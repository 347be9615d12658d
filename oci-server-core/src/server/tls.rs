//! HTTPS through rustls: [`TlsConfig`] names the PEM files, [`TlsConfig::load`] turns them into
//! a [`Tls`] the server accepts connections with.
//!
//! The whole rustls configuration (certificate chain, key and client CA) can be swapped while
//! the server runs ([`Tls::reload`], and a watch on the files' modification times while
//! serving), so a renewed certificate or a rotated client CA reaches new connections without a
//! restart and without touching connections already open: a handshake takes whatever
//! configuration is current at that moment.

use std::{
    fmt,
    path::{Path, PathBuf},
    sync::{Arc, PoisonError, RwLock},
    time::Duration,
};

use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        RootCertStore, ServerConfig,
        crypto::{CryptoProvider, aws_lc_rs},
        server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier},
        sign::CertifiedKey,
    },
};

use super::ServerError;

/// How often the certificate and key files are checked for changes: every five seconds.
pub const DEFAULT_TLS_RELOAD_INTERVAL: Duration = Duration::from_secs(5);

/// The PEM files of a TLS setup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    cert: PathBuf,
    key: PathBuf,
    client_ca: Option<PathBuf>,
    reload_interval: Duration,
}

impl TlsConfig {
    /// The server's certificate chain (leaf first, then intermediates) and its private key
    /// (PKCS#8, PKCS#1 RSA or SEC1 EC; RSA, ECDSA and Ed25519), both PEM.
    pub fn new(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        Self {
            cert: cert.into(),
            key: key.into(),
            client_ca: None,
            reload_interval: DEFAULT_TLS_RELOAD_INTERVAL,
        }
    }

    /// Requires every client to present a certificate issued by a CA of this PEM file
    /// (mutual TLS); a client without one is refused during the handshake.
    pub fn with_client_ca(mut self, client_ca: impl Into<PathBuf>) -> Self {
        self.client_ca = Some(client_ca.into());
        self
    }

    /// Checks the certificate and key files for changes this often while serving (see
    /// [`DEFAULT_TLS_RELOAD_INTERVAL`]); zero turns the check off ([`Tls::reload`] still works).
    pub fn with_reload_interval(mut self, interval: Duration) -> Self {
        self.reload_interval = interval;
        self
    }

    /// Reads the files and builds the server's TLS configuration (ALPN: `h2`, `http/1.1`).
    pub fn load(self) -> Result<Tls, ServerError> {
        let config = self.server_config()?;
        Ok(Tls {
            current: Arc::new(RwLock::new(Arc::new(config))),
            files: Arc::new(self),
        })
    }

    /// The rustls configuration of the files as they are now.
    fn server_config(&self) -> Result<ServerConfig, ServerError> {
        let provider = Arc::new(aws_lc_rs::default_provider());
        let certified = Certified(Arc::new(self.read_certified_key(&provider)?));
        let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(ServerError::Tls)?;
        let builder = match &self.client_ca {
            Some(path) => builder.with_client_cert_verifier(client_verifier(path, &provider)?),
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_cert_resolver(Arc::new(certified));
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(config)
    }

    /// The certificate file.
    pub fn cert(&self) -> &Path {
        &self.cert
    }

    /// The private key file.
    pub fn key(&self) -> &Path {
        &self.key
    }

    /// The client CA file, when clients must present certificates.
    pub fn client_ca(&self) -> Option<&Path> {
        self.client_ca.as_deref()
    }

    /// How often the files are checked for changes (zero: never).
    pub fn reload_interval(&self) -> Duration {
        self.reload_interval
    }

    /// The chain and key as rustls serves them, checked to belong together.
    pub(super) fn read_certified_key(
        &self,
        provider: &CryptoProvider,
    ) -> Result<CertifiedKey, ServerError> {
        let chain = read_certificates(&self.cert, "a certificate chain")?;
        let key = PrivateKeyDer::from_pem_file(&self.key).map_err(|source| ServerError::Pem {
            what: "a private key",
            path: self.key.clone(),
            source,
        })?;
        let mismatch = |source| ServerError::KeyMismatch {
            cert: self.cert.clone(),
            key: self.key.clone(),
            source,
        };
        let signing_key = provider
            .key_provider
            .load_private_key(key)
            .map_err(mismatch)?;
        let certified = CertifiedKey::new(chain, signing_key);
        certified.keys_match().map_err(mismatch)?;
        Ok(certified)
    }
}

/// A loaded TLS setup. Cheap to clone; clones share the configuration they serve.
#[derive(Debug, Clone)]
pub struct Tls {
    current: Arc<RwLock<Arc<ServerConfig>>>,
    files: Arc<TlsConfig>,
}

impl Tls {
    /// Reads the certificate, key and client CA files again and serves them to new
    /// connections; on failure the configuration in use stays.
    pub fn reload(&self) -> Result<(), ServerError> {
        let config = Arc::new(self.files.server_config()?);
        // A panic cannot leave the slot half-written: it holds one `Arc`.
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = config;
        Ok(())
    }

    /// The files this setup was loaded from.
    pub fn files(&self) -> &TlsConfig {
        &self.files
    }

    pub(super) fn acceptor(&self) -> TlsAcceptor {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        TlsAcceptor::from(Arc::clone(&current))
    }
}

/// The one certificate a configuration serves (rustls asks a resolver; a reload builds a
/// new configuration rather than changing this).
struct Certified(Arc<CertifiedKey>);

impl ResolvesServerCert for Certified {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.0))
    }
}

impl fmt::Debug for Certified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certified").finish_non_exhaustive()
    }
}

fn read_certificates(
    path: &Path,
    what: &'static str,
) -> Result<Vec<CertificateDer<'static>>, ServerError> {
    let pem = |source| ServerError::Pem {
        what,
        path: path.to_owned(),
        source,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(pem)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem)?;
    if certs.is_empty() {
        return Err(ServerError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

fn client_verifier(
    path: &Path,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn tokio_rustls::rustls::server::danger::ClientCertVerifier>, ServerError> {
    let refused = |source: crate::body::BoxError| ServerError::ClientCa {
        path: path.to_owned(),
        source,
    };
    let mut roots = RootCertStore::empty();
    for cert in read_certificates(path, "client CA certificates")? {
        roots.add(cert).map_err(|e| refused(Box::new(e)))?;
    }
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(provider))
        .build()
        .map_err(|e| refused(Box::new(e)))
}
