//! A throwaway CA and a server certificate for `127.0.0.1`, made for a `--tls` run: the
//! registry serves the certificate, the checks' client trusts the CA and nothing else.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

use crate::error::XtaskError;

/// The files the registry reads and the CA the client trusts.
#[derive(Debug)]
pub struct TestCa {
    /// The CA certificate, PEM.
    pub ca_pem: String,
    /// The server's certificate chain file.
    pub cert: PathBuf,
    /// The server's private key file.
    pub key: PathBuf,
}

impl TestCa {
    /// Makes the CA and the server certificate and writes the server's files into `dir`.
    pub fn make(dir: &Path) -> Result<TestCa, XtaskError> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;
        let server_key = KeyPair::generate()?;
        let server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?
            .signed_by(&server_key, &ca)?;
        let cert = dir.join("server.crt");
        let key = dir.join("server.key");
        std::fs::write(&cert, server.pem())?;
        std::fs::write(&key, server_key.serialize_pem())?;
        Ok(TestCa {
            ca_pem: ca.pem(),
            cert,
            key,
        })
    }
}
