//! Requests sent byte for byte over a plain TCP (or TLS) connection, for paths an HTTP library
//! would normalise before sending.

use std::sync::Arc;

use rustls_pki_types::{CertificateDer, ServerName, pem::PemObject};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{ClientConfig, RootCertStore, crypto::aws_lc_rs};

/// `GET <path>` on the registry at `base`, the path sent exactly as written; returns the
/// status, or why there was none. Over HTTPS only with `tls`, which names the CAs to trust.
pub async fn get_status(
    base: &reqwest::Url,
    tls: Option<&Arc<ClientConfig>>,
    path: &str,
) -> Result<u16, String> {
    let host = base.host_str().unwrap_or("127.0.0.1");
    let port = base.port_or_known_default().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host, port))
        .await
        .map_err(|error| error.to_string())?;
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n");
    match (base.scheme(), tls) {
        ("http", _) => status(stream, &request).await,
        ("https", Some(config)) => {
            let name = ServerName::try_from(host.to_owned()).map_err(|e| e.to_string())?;
            let stream = TlsConnector::from(Arc::clone(config))
                .connect(name, stream)
                .await
                .map_err(|error| error.to_string())?;
            status(stream, &request).await
        }
        _ => Err("raw requests over HTTPS need --ca-file (or a --tls run)".to_string()),
    }
}

/// Sends `request` on `stream` and reads the status of the answer.
async fn status(
    mut stream: impl AsyncRead + AsyncWrite + Unpin,
    request: &str,
) -> Result<u16, String> {
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|error| error.to_string())?;
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        let read = stream
            .read(&mut buffer)
            .await
            .map_err(|error| error.to_string())?;
        if read == 0 {
            break;
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let head = String::from_utf8_lossy(&head);
    head.split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .ok_or_else(|| format!("no HTTP status line in {:?}", head.lines().next()))
}

/// A rustls client configuration trusting the CA certificates of `ca_pem` only.
pub fn tls_config(ca_pem: &[u8]) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        let cert = cert.map_err(|error| format!("CA certificate: {error}"))?;
        roots
            .add(cert)
            .map_err(|error| format!("CA certificate: {error}"))?;
    }
    let config = ClientConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
