//! The workspace's registry (`oci-server-core`) served in-process on a free port of
//! 127.0.0.1: over a fresh filesystem store by default, or over a store, a backend, an
//! authorizer, connection settings or a whole [`Registry`] the test chooses.

mod raw;
mod requests;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use oci_server_core::{Authorizer, Registry, RegistryConfig, ServeOptions, Storage, serve_with};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use raw::{RawAnswer, code_of};
pub use requests::{OCI_INDEX, OCI_MANIFEST};

/// A running registry; shut down (gracefully) when dropped or [`stop`](Self::stop)ped.
pub struct TestRegistry {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// A client for the helpers' requests (and the test's own).
    pub http: reqwest::Client,
    host: String,
    root: PathBuf,
    _dir: Option<TempDir>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestRegistry {
    /// A registry with deletes on, on a fresh store.
    pub async fn start() -> Self {
        Self::with_config(RegistryConfig::default().with_delete(true)).await
    }

    /// A registry with `config`, on a fresh store.
    pub async fn with_config(config: RegistryConfig) -> Self {
        Self::on_fresh_store(config, |registry| registry, ServeOptions::default()).await
    }

    /// A registry with deletes on, on a fresh store, behind `authorizer`.
    pub async fn with_authorizer(authorizer: Arc<dyn Authorizer>) -> Self {
        let config = RegistryConfig::default().with_delete(true);
        let behind = |registry: Registry| registry.with_authorizer(authorizer);
        Self::on_fresh_store(config, behind, ServeOptions::default()).await
    }

    /// A registry with deletes on, on a fresh store, with connection settings `options`
    /// (plain HTTP).
    pub async fn with_serve_options(options: ServeOptions) -> Self {
        let config = RegistryConfig::default().with_delete(true);
        Self::on_fresh_store(config, |registry| registry, options).await
    }

    /// A registry on an existing store folder (for restarts).
    pub async fn on_root(root: &Path, config: RegistryConfig) -> Self {
        let registry = Registry::open_fs(root, config).await.unwrap();
        Self::serving(registry, root, ServeOptions::default()).await
    }

    /// A registry over any backend ([`root`](Self::root) is meaningless then).
    pub async fn on_storage(storage: Arc<dyn Storage>, config: RegistryConfig) -> Self {
        Self::from_registry(Registry::new(storage, config)).await
    }

    /// Serves a registry built by the caller ([`root`](Self::root) is meaningless then).
    pub async fn from_registry(registry: Registry) -> Self {
        Self::serving(registry, Path::new(""), ServeOptions::default()).await
    }

    /// A fresh filesystem store, opened with `config`, finished by `finish`, served with
    /// `options`; the store lives as long as the registry.
    async fn on_fresh_store(
        config: RegistryConfig,
        finish: impl FnOnce(Registry) -> Registry,
        options: ServeOptions,
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let registry = Registry::open_fs(dir.path(), config).await.unwrap();
        let mut served = Self::serving(finish(registry), dir.path(), options).await;
        served._dir = Some(dir);
        served
    }

    async fn serving(registry: Registry, root: &Path, options: ServeOptions) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve_with(listener, registry, options, async {
            let _ = stopped.await;
        }));
        Self {
            base: format!("http://{host}"),
            http: reqwest::Client::new(),
            host,
            root: root.to_owned(),
            _dir: None,
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The store folder of a filesystem registry.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The URL of `path` on this registry.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops the registry and waits until it has.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}
