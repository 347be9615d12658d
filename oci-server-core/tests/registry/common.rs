//! A real registry on 127.0.0.1 (in-process, on a free port) and small HTTP helpers.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use oci_digest::{Algorithm, Digest};
use oci_server_core::{Authorizer, Registry, RegistryConfig, ServeOptions, Storage, serve_with};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::oneshot,
    task::JoinHandle,
};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// A running server; shut down (gracefully) when dropped or [`stop`](Self::stop)ped.
pub struct TestServer {
    pub base: String,
    pub http: reqwest::Client,
    root: PathBuf,
    _dir: Option<TempDir>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// A server with deletes on, on a fresh store.
    pub async fn start() -> Self {
        Self::with_config(RegistryConfig::default().with_delete(true)).await
    }

    pub async fn with_config(config: RegistryConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut server = Self::on_root(dir.path(), config).await;
        server._dir = Some(dir);
        server
    }

    /// A server on an existing store folder (for restarts).
    pub async fn on_root(root: &Path, config: RegistryConfig) -> Self {
        let registry = Registry::open_fs(root, config).await.unwrap();
        Self::serving(registry, root).await
    }

    /// A server with deletes on, on a fresh store, behind `authorizer`.
    pub async fn with_authorizer(authorizer: Arc<dyn Authorizer>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = RegistryConfig::default().with_delete(true);
        let registry = Registry::open_fs(dir.path(), config)
            .await
            .unwrap()
            .with_authorizer(authorizer);
        let mut server = Self::serving(registry, dir.path()).await;
        server._dir = Some(dir);
        server
    }

    /// A server for a registry built by the caller (`root()` is meaningless then).
    #[cfg(feature = "pull-through")]
    pub async fn from_registry(registry: Registry) -> Self {
        Self::serving(registry, Path::new("")).await
    }

    /// A server over any backend (`root()` is meaningless then).
    pub async fn on_storage(storage: Arc<dyn Storage>, config: RegistryConfig) -> Self {
        Self::serving(Registry::new(storage, config), Path::new("")).await
    }

    /// A server with deletes on, on a fresh store, with connection settings `options`
    /// (plain HTTP).
    pub async fn with_serve_options(options: ServeOptions) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = RegistryConfig::default().with_delete(true);
        let registry = Registry::open_fs(dir.path(), config).await.unwrap();
        let mut server = Self::serving_with(registry, dir.path(), options).await;
        server._dir = Some(dir);
        server
    }

    async fn serving(registry: Registry, root: &Path) -> Self {
        Self::serving_with(registry, root, ServeOptions::default()).await
    }

    async fn serving_with(registry: Registry, root: &Path, options: ServeOptions) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve_with(listener, registry, options, async {
            let _ = stopped.await;
        }));
        Self {
            base,
            http: reqwest::Client::new(),
            root: root.to_owned(),
            _dir: None,
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the server and waits until it has.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    pub async fn head(&self, path: &str) -> Response {
        self.http.head(self.url(path)).send().await.unwrap()
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.http.delete(self.url(path)).send().await.unwrap()
    }

    /// Pushes `content` in one POST and returns its digest.
    pub async fn push_blob(&self, repo: &str, content: &[u8]) -> Digest {
        let digest = Digest::compute(content);
        let answer = self
            .http
            .post(self.url(&format!("/v2/{repo}/blobs/uploads/?digest={digest}")))
            .body(content.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(
            answer.status(),
            StatusCode::CREATED,
            "{}",
            answer.text().await.unwrap()
        );
        digest
    }

    /// PUTs a manifest document under `reference`.
    pub async fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        body: &[u8],
    ) -> Response {
        self.http
            .put(self.url(&format!("/v2/{repo}/manifests/{reference}")))
            .header("content-type", media_type)
            .body(body.to_vec())
            .send()
            .await
            .unwrap()
    }

    /// Pushes a config blob and an image manifest (optionally with a subject, artifact type
    /// and annotation) and returns the manifest bytes and digest.
    pub async fn push_image(&self, repo: &str, reference: &str, extra: Value) -> (Vec<u8>, Digest) {
        let config =
            serde_json::to_vec(&json!({ "seed": format!("{reference} {extra}") })).unwrap();
        let config_digest = self.push_blob(repo, &config).await;
        let mut manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest.as_str(),
                "size": config.len(),
            },
            "layers": [],
        });
        if let (Value::Object(target), Value::Object(fields)) = (&mut manifest, extra) {
            target.extend(fields);
        }
        let bytes = serde_json::to_vec(&manifest).unwrap();
        let answer = self
            .put_manifest(repo, reference, OCI_MANIFEST, &bytes)
            .await;
        assert_eq!(
            answer.status(),
            StatusCode::CREATED,
            "{}",
            answer.text().await.unwrap()
        );
        let digest = Digest::compute(&bytes);
        (bytes, digest)
    }
}

/// An answer read off a raw socket.
#[derive(Debug)]
pub struct RawAnswer {
    /// The status, or 0 when the server closed the connection without answering.
    pub status: u16,
    /// Everything the server sent, as text.
    pub text: String,
}

impl RawAnswer {
    /// The spec error code of the body, when the body is an error document.
    pub fn code(&self) -> Option<String> {
        code_of(self.text.split_once("\r\n\r\n")?.1)
    }
}

/// The first spec error code of an error document, when `body` is one.
pub fn code_of(body: &str) -> Option<String> {
    let document: Value = serde_json::from_str(body).ok()?;
    document["errors"][0]["code"].as_str().map(str::to_owned)
}

impl TestServer {
    /// Sends `method path` with no body exactly as written (an HTTP client would normalise
    /// `..` or refuse a NUL).
    pub async fn raw(&self, method: &str, path: &str) -> RawAnswer {
        let head = self.raw_head(method, path, &[("content-length", "0".to_owned())]);
        self.raw_send(&head, false).await
    }

    /// A request head (request line, `Host`, `headers`, `Connection: close`, blank line).
    pub fn raw_head(&self, method: &str, target: &str, headers: &[(&str, String)]) -> Vec<u8> {
        let host = self.base.trim_start_matches("http://");
        let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("Connection: close\r\n\r\n");
        head.into_bytes()
    }

    /// Writes `request` byte for byte on a new connection and reads until the server closes
    /// it. With `cut_short` the writing half is shut down after the bytes, as a client that
    /// dies in the middle of a body does. The server may stop reading and close early, so a
    /// failed write is not an error here: what it answered is.
    pub async fn raw_send(&self, request: &[u8], cut_short: bool) -> RawAnswer {
        let mut stream = TcpStream::connect(self.base.trim_start_matches("http://"))
            .await
            .unwrap();
        if stream.write_all(request).await.is_ok() && cut_short {
            let _ = stream.shutdown().await;
        }
        let mut received = Vec::new();
        // A safety net against a server that never closes, not a timing assertion.
        let read = tokio::time::timeout(Duration::from_secs(30), async {
            let mut buffer = [0u8; 8192];
            // A reset after the answer (unread request bytes) ends the answer too.
            while let Ok(n @ 1..) = stream.read(&mut buffer).await {
                received.extend_from_slice(&buffer[..n]);
            }
        })
        .await;
        assert!(read.is_ok(), "the server never closed the connection");
        let text = String::from_utf8_lossy(&received).into_owned();
        let status = text
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        RawAnswer { status, text }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// The spec error code of an error answer.
pub async fn error_code(answer: Response) -> String {
    let body: Value = answer.json().await.unwrap();
    body["errors"][0]["code"].as_str().unwrap().to_owned()
}

/// A header as text.
pub fn header<'a>(answer: &'a Response, name: &str) -> &'a str {
    answer
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// Deterministic test content of `len` bytes.
pub fn content(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Digest of `data` with `algorithm`.
pub fn digest_with(algorithm: &Algorithm, data: &[u8]) -> Digest {
    Digest::compute_with(algorithm, data).unwrap()
}

/// Every file below `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}
