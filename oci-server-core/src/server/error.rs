//! [`ServerError`]: what setting up the connection layer can fail with.

use std::path::PathBuf;

/// A setting of the connection layer that cannot be used, or TLS material that cannot be
/// loaded. Serving itself fails only with the listener's `io::Error`.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A timeout of zero, which would close every connection at once.
    #[error("the {setting} must be longer than zero")]
    ZeroTimeout {
        /// Which timeout.
        setting: &'static str,
    },
    /// A PEM file that cannot be read or parsed.
    #[error("cannot read {what} from {path:?}")]
    Pem {
        /// What the file should hold (certificate chain, private key, client CA).
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    /// A certificate file without any certificate in it.
    #[error("{path:?} holds no PEM certificate")]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The private key and the certificate chain cannot be used together (a key of another
    /// certificate, or of a kind rustls cannot sign with).
    #[error("the private key {key:?} does not fit the certificate {cert:?}")]
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// What rustls said.
        #[source]
        source: tokio_rustls::rustls::Error,
    },
    /// A client CA file whose certificates cannot anchor client verification.
    #[error("cannot verify client certificates against {path:?}")]
    ClientCa {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: crate::body::BoxError,
    },
    /// The TLS configuration rustls refused.
    #[error("cannot build the TLS configuration")]
    Tls(#[source] tokio_rustls::rustls::Error),
}
