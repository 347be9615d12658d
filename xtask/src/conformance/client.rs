//! A tiny HTTP layer for the checks: every request ends in a [`Reply`], never an error, so a
//! network failure is just another thing a case can assert on.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName};
use reqwest::{Method, Request, RequestBuilder};

use super::auth::{Auth, Credentials};
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

/// How to reach the registry: TLS trust and credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Connection {
    /// PEM certificates to trust for `https://` registries, besides the system's.
    pub ca_file: Option<std::path::PathBuf>,
    /// A PEM CA to trust instead of any other (the CA made for a `--tls` run).
    pub ca_pem: Option<String>,
    /// Accept any TLS certificate.
    pub insecure: bool,
    /// Credentials for Basic or token authentication.
    pub credentials: Option<Credentials>,
}

/// The registry under test.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    base: reqwest::Url,
    auth: Arc<Auth>,
    /// For raw requests over HTTPS: the CA certificates given.
    raw_tls: Option<Arc<tokio_rustls::rustls::ClientConfig>>,
}

impl Api {
    /// A client for the registry at `base` (for example `http://127.0.0.1:5000`).
    pub fn new(base: &str, connection: &Connection) -> Result<Api, XtaskError> {
        let bad_url = |reason: String| XtaskError::BadUrl {
            url: base.to_string(),
            reason,
        };
        let base = reqwest::Url::parse(base).map_err(|error| bad_url(error.to_string()))?;
        let mut builder = reqwest::Client::builder()
            // A safety net against a hung server, not an assertion about speed.
            .timeout(std::time::Duration::from_secs(120))
            .danger_accept_invalid_certs(connection.insecure);
        let mut raw_tls = None;
        if let Some(pem) = &connection.ca_pem {
            let ca = reqwest::Certificate::from_pem(pem.as_bytes())
                .map_err(|error| bad_url(format!("the test CA: {error}")))?;
            builder = builder.tls_certs_only([ca]);
            raw_tls = Some(super::raw::tls_config(pem.as_bytes()).map_err(bad_url)?);
        }
        if let Some(path) = &connection.ca_file {
            let bad_certificate = |reason: String| XtaskError::CaFile {
                path: path.clone(),
                reason,
            };
            let pem = std::fs::read(path).map_err(|error| bad_certificate(error.to_string()))?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|error| bad_certificate(error.to_string()))?;
            if certificates.is_empty() {
                return Err(bad_certificate(
                    "no PEM certificate in the file".to_string(),
                ));
            }
            for certificate in certificates {
                builder = builder.add_root_certificate(certificate);
            }
            raw_tls = Some(super::raw::tls_config(&pem).map_err(bad_certificate)?);
        }
        let http = builder
            .build()
            .map_err(|error| bad_url(error.to_string()))?;
        let auth = Arc::new(Auth::new(
            http.clone(),
            &base,
            connection.credentials.as_ref(),
        ));
        Ok(Api {
            http,
            base,
            auth,
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
    pub fn request(&self, method: Method, target: &str) -> Call<'_> {
        Call {
            api: self,
            builder: self.http.request(method, self.url(target)),
        }
    }

    /// Sends `request`, authenticating as the registry asks (see [`super::auth`]).
    async fn execute(&self, mut request: Request) -> Reply {
        self.auth.sign(&mut request);
        let retry = request.try_clone();
        let reply = Reply::of(self.http.execute(request).await).await;
        if reply.status != 401 {
            return reply;
        }
        let Some(mut retry) = retry else {
            return reply;
        };
        if !self.auth.answer(&retry, &reply).await {
            return reply;
        }
        self.auth.sign(&mut retry);
        Reply::of(self.http.execute(retry).await).await
    }

    /// `GET <path>` sent exactly as written, for paths a URL library would normalise (`..`,
    /// `%2e%2e`); returns the status, or why there was none. Over HTTPS only with the CA of
    /// `--ca-file` or of a `--tls` run.
    pub async fn raw_get_status(&self, path: &str) -> Result<u16, String> {
        super::raw::get_status(&self.base, self.raw_tls.as_ref(), path).await
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

    fn manifest_request(&self, method: Method, repo: &str, reference: &str) -> Call<'_> {
        self.request(method, &manifest_path(repo, reference))
            .header(
                reqwest::header::ACCEPT,
                crate::conformance::data::ACCEPT_ALL,
            )
    }
}

/// A request being built; [`Call::fetch`] sends it, authenticating as needed.
#[derive(Debug)]
pub struct Call<'a> {
    api: &'a Api,
    builder: RequestBuilder,
}

impl Call<'_> {
    /// Adds a header.
    pub fn header(self, name: HeaderName, value: impl fmt::Display) -> Self {
        Call {
            builder: self.builder.header(name, value.to_string()),
            ..self
        }
    }

    /// Adds query parameters.
    pub fn query(self, pairs: &[(&str, &str)]) -> Self {
        Call {
            builder: self.builder.query(pairs),
            ..self
        }
    }

    /// Sets the body.
    pub fn body(self, body: impl Into<reqwest::Body>) -> Self {
        Call {
            builder: self.builder.body(body),
            ..self
        }
    }

    /// Sends the request and reads the whole answer.
    pub async fn fetch(self) -> Reply {
        match self.builder.build() {
            Ok(request) => self.api.execute(request).await,
            Err(error) => Reply::transport_error(error),
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
    /// The answer to a sent request, its body read whole (a body that cannot be read still
    /// leaves a status to judge).
    async fn of(sent: Result<reqwest::Response, reqwest::Error>) -> Reply {
        match sent {
            Err(error) => Reply::transport_error(error),
            Ok(response) => {
                let status = response.status().as_u16();
                let headers = response.headers().clone();
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

    /// The `code`s of a spec error body, whatever else it holds (none when it is not one).
    pub fn error_codes(&self) -> Vec<String> {
        let json = self.json().unwrap_or_default();
        json["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|error| error["code"].as_str().map(str::to_string))
            .collect()
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
