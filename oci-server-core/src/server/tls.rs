//! HTTPS through rustls: [`TlsConfig`] names the PEM files, [`TlsConfig::load`] turns them into
//! a [`Tls`] the server accepts connections with.
//!
//! The certificate chain and key sit behind a resolver that can be swapped while the server
//! runs ([`Tls::reload`], and a watch on the files' modification times while serving), so a
//! renewed certificate reaches new connections without a restart and without touching
//! connections already open: a handshake picks up whatever the resolver holds at that moment.
//! The client CA, when there is one, is read once.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use rustls_pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        RootCertStore, ServerConfig,
        crypto::{CryptoProvider, aws_lc_rs},
        server::WebPkiClientVerifier,
        sign::CertifiedKey,
    },
};

use super::{ServerError, reload::ReloadingCert};

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
        let provider = Arc::new(aws_lc_rs::default_provider());
        let certs = Arc::new(ReloadingCert::new(self.read_certified_key(&provider)?));
        let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(ServerError::Tls)?;
        let builder = match &self.client_ca {
            Some(path) => builder.with_client_cert_verifier(client_verifier(path, &provider)?),
            None => builder.with_no_client_auth(),
        };
        let mut config = builder.with_cert_resolver(certs.clone());
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Tls {
            config: Arc::new(config),
            certs,
            files: Arc::new(self),
        })
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

/// A loaded TLS setup. Cheap to clone; clones share the certificate they serve.
#[derive(Debug, Clone)]
pub struct Tls {
    config: Arc<ServerConfig>,
    certs: Arc<ReloadingCert>,
    files: Arc<TlsConfig>,
}

impl Tls {
    /// Reads the certificate and key files again and serves them to new connections; on
    /// failure the certificate in use stays.
    pub fn reload(&self) -> Result<(), ServerError> {
        let provider = aws_lc_rs::default_provider();
        self.certs
            .replace(self.files.read_certified_key(&provider)?);
        Ok(())
    }

    /// The files this setup was loaded from.
    pub fn files(&self) -> &TlsConfig {
        &self.files
    }

    pub(super) fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(Arc::clone(&self.config))
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
