//! A tiny HTTP layer for the checks: every request ends in a [`Reply`], never an error, so a
//! network failure is just another thing a case can assert on.

use std::sync::Arc;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use rustls_pki_types::{CertificateDer, ServerName, pem::PemObject};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_rustls::{
    TlsConnector,
    rustls::{ClientConfig, RootCertStore, crypto::aws_lc_rs},
};

use crate::error::XtaskError;

/// `Content-Type` for blob uploads.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// `/v2/<repo>/blobs/<digest>`.
pub fn blob_path(repo: &str, digest: &str) -> String {
    format!("/v2/{repo}/blobs/{digest}")
}

/// `/v2/<repo>/manifests/<reference>`.
pub fn manifest_path(repo: &str, reference: &str) -> String {
    format!("/v2/{repo}/manifests/{reference}")
}

/// The registry under test.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    base: reqwest::Url,
    /// For raw requests over HTTPS: trusts the CA the run made.
    raw_tls: Option<Arc<ClientConfig>>,
}

impl Api {
    /// A client for the registry at `base` (for example `http://127.0.0.1:5000`) that, given
    /// `ca_pem`, trusts that CA only.
    pub fn new(base: &str, ca_pem: Option<&str>) -> Result<Api, XtaskError> {
        let bad_url = |reason: String| XtaskError::BadUrl {
            url: base.to_string(),
            reason,
        };
        let base = reqwest::Url::parse(base).map_err(|error| bad_url(error.to_string()))?;
        let mut builder = reqwest::Client::builder()
            // A safety net against a hung server, not an assertion about speed.
            .timeout(std::time::Duration::from_secs(120));
        let mut raw_tls = None;
        if let Some(pem) = ca_pem {
            let ca = reqwest::Certificate::from_pem(pem.as_bytes())
                .map_err(|error| bad_url(format!("the test CA: {error}")))?;
            builder = builder.tls_certs_only([ca]);
            raw_tls = Some(raw_tls_config(pem).map_err(bad_url)?);
        }
        let http = builder
            .build()
            .map_err(|error| bad_url(error.to_string()))?;
        Ok(Api {
            http,
            base,
            raw_tls,
        })
    }

    /// The registry's base URL.
    pub fn base(&self) -> &reqwest::Url {
        &self.base
    }

    /// Resolves a path (`/v2/...`) or a `Location` value (absolute or relative) to a URL.
    pub fn url(&self, target: &str) -> String {
        self.base
            .join(target)
            .map(String::from)
            .unwrap_or_else(|_| target.to_string())
    }

    /// Starts a request to a path or `Location` value.
    pub fn request(&self, method: Method, target: &str) -> RequestBuilder {
        self.http.request(method, self.url(target))
    }

    /// `GET <path>` sent exactly as written, for paths a URL library would normalise (`..`,
    /// `%2e%2e`); returns the status, or why there was none. Over HTTPS only with the CA of
    /// [`new`](Self::new).
    pub async fn raw_get_status(&self, path: &str) -> Result<u16, String> {
        let host = self.base.host_str().unwrap_or("127.0.0.1");
        let port = self.base.port_or_known_default().unwrap_or(80);
        let stream = tokio::net::TcpStream::connect((host, port))
            .await
            .map_err(|error| error.to_string())?;
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n");
        match (self.base.scheme(), &self.raw_tls) {
            ("http", _) => raw_status(stream, &request).await,
            ("https", Some(config)) => {
                let name = ServerName::try_from(host.to_owned()).map_err(|e| e.to_string())?;
                let stream = TlsConnector::from(Arc::clone(config))
                    .connect(name, stream)
                    .await
                    .map_err(|error| error.to_string())?;
                raw_status(stream, &request).await
            }
            _ => Err("raw requests over HTTPS need the CA the run made".to_string()),
        }
    }

    /// `GET target`.
    pub async fn get(&self, target: &str) -> Reply {
        self.request(Method::GET, target).fetch().await
    }

    /// `HEAD target`.
    pub async fn head(&self, target: &str) -> Reply {
        self.request(Method::HEAD, target).fetch().await
    }

    /// `DELETE target`.
    pub async fn delete(&self, target: &str) -> Reply {
        self.request(Method::DELETE, target).fetch().await
    }

    /// `POST /v2/<repo>/blobs/uploads/` with an empty body.
    pub async fn start_upload(&self, repo: &str) -> Reply {
        self.request(Method::POST, &format!("/v2/{repo}/blobs/uploads/"))
            .header(reqwest::header::CONTENT_LENGTH, "0")
            .fetch()
            .await
    }

    /// `PUT <location>?digest=<digest>` with the whole blob as body.
    pub async fn finish_upload(&self, location: &str, digest: &str, body: Vec<u8>) -> Reply {
        self.request(Method::PUT, location)
            .query(&[("digest", digest)])
            .header(reqwest::header::CONTENT_TYPE, OCTET_STREAM)
            .body(body)
            .fetch()
            .await
    }

    /// `PUT /v2/<repo>/manifests/<reference>` with the manifest's bytes and media type.
    pub async fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        body: Vec<u8>,
    ) -> Reply {
        self.request(Method::PUT, &manifest_path(repo, reference))
            .header(reqwest::header::CONTENT_TYPE, media_type)
            .body(body)
            .fetch()
            .await
    }

    /// `GET /v2/<repo>/manifests/<reference>` accepting every manifest type.
    pub async fn get_manifest(&self, repo: &str, reference: &str) -> Reply {
        self.manifest_request(Method::GET, repo, reference)
            .fetch()
            .await
    }

    /// `HEAD /v2/<repo>/manifests/<reference>` accepting every manifest type.
    pub async fn head_manifest(&self, repo: &str, reference: &str) -> Reply {
        self.manifest_request(Method::HEAD, repo, reference)
            .fetch()
            .await
    }

    fn manifest_request(&self, method: Method, repo: &str, reference: &str) -> RequestBuilder {
        self.request(method, &manifest_path(repo, reference))
            .header(
                reqwest::header::ACCEPT,
                crate::conformance::data::ACCEPT_ALL,
            )
    }
}

/// Turns a request into a [`Reply`].
pub trait Fetch {
    /// Sends the request and reads the whole answer.
    async fn fetch(self) -> Reply;
}

impl Fetch for RequestBuilder {
    async fn fetch(self) -> Reply {
        match self.send().await {
            Err(error) => Reply::transport_error(error),
            Ok(response) => {
                let status = response.status().as_u16();
                let headers = response.headers().clone();
                // A body that cannot be read still leaves a status to judge.
                let (body, error) = match response.bytes().await {
                    Ok(body) => (body, None),
                    Err(error) => (Bytes::new(), Some(error_chain(&error))),
                };
                Reply {
                    status,
                    headers,
                    body,
                    error,
                }
            }
        }
    }
}

/// A finished exchange: status, headers and the whole body (test bodies are small).
#[derive(Debug, Clone)]
pub struct Reply {
    /// The HTTP status; 0 when the request did not complete.
    pub status: u16,
    /// The response headers.
    pub headers: HeaderMap,
    /// The response body.
    pub body: Bytes,
    /// The transport error, when the request or the reading of the body failed.
    pub error: Option<String>,
}

impl Reply {
    fn transport_error(error: reqwest::Error) -> Reply {
        Reply {
            status: 0,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            error: Some(error_chain(&error)),
        }
    }

    /// The first value of a header, when present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Every value of a header, comma-separated lists split apart.
    pub fn header_values(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(|value| value.trim().to_string())
            .filter(|value| !value.is_empty())
            .collect()
    }

    /// The `Location` header.
    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }

    /// The target of a `Link: <...>; rel="next"` header (tag list and catalog pagination).
    pub fn next_link(&self) -> Option<String> {
        self.headers
            .get_all("link")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .find_map(parse_next_link)
    }

    /// The body parsed as JSON, when it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// A one-line description for failure messages.
    pub fn describe(&self) -> String {
        match &self.error {
            Some(error) if self.status == 0 => format!("no answer ({error})"),
            Some(error) => format!("status {} with an unreadable body ({error})", self.status),
            None => {
                let snippet: String = String::from_utf8_lossy(&self.body)
                    .chars()
                    .take(200)
                    .collect();
                if snippet.trim().is_empty() {
                    format!("status {}", self.status)
                } else {
                    format!("status {} body {:?}", self.status, snippet.trim())
                }
            }
        }
    }
}

/// `<target>; rel="next"` to `target`; `None` for other relations.
fn parse_next_link(link: &str) -> Option<String> {
    let (target, params) = link.trim().strip_prefix('<')?.split_once('>')?;
    let is_next = params
        .split(';')
        .filter_map(|param| param.trim().split_once('='))
        .any(|(key, value)| key.trim() == "rel" && value.trim().trim_matches('"') == "next");
    is_next.then(|| target.to_string())
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Sends `request` on `stream` and reads the status of the answer.
async fn raw_status(
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
fn raw_tls_config(ca_pem: &str) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        let cert = cert.map_err(|error| format!("the test CA: {error}"))?;
        roots
            .add(cert)
            .map_err(|error| format!("the test CA: {error}"))?;
    }
    let config = ClientConfig::builder_with_provider(Arc::new(aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|error| error.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_next_links() {
        assert_eq!(
            parse_next_link(r#"</v2/a/tags/list?n=2&last=b>; rel="next""#),
            Some("/v2/a/tags/list?n=2&last=b".to_string())
        );
        assert_eq!(
            parse_next_link(r#"<http://h/x>;rel=next"#),
            Some("http://h/x".into())
        );
        assert_eq!(parse_next_link(r#"</x>; rel="prev""#), None);
        assert_eq!(parse_next_link("garbage"), None);
    }
}
