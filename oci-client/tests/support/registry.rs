//! The workspace's registry (`oci-server-core`), served in-process on 127.0.0.1:0.

use std::net::SocketAddr;

use oci_distribution_client::Repository;
use oci_server_core::{Registry, RegistryConfig};
use tempfile::TempDir;
use tokio::sync::oneshot;

/// A running registry; stops when dropped.
pub struct TestRegistry {
    addr: SocketAddr,
    _root: TempDir,
    _shutdown: oneshot::Sender<()>,
}

impl TestRegistry {
    /// A registry with deletes enabled.
    pub async fn start() -> TestRegistry {
        TestRegistry::start_with(RegistryConfig::default().with_delete(true)).await
    }

    /// A registry with `config`.
    pub async fn start_with(config: RegistryConfig) -> TestRegistry {
        let root = tempfile::tempdir().unwrap();
        let registry = Registry::open_fs(root.path(), config).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let stop = async {
                let _ = stopped.await;
            };
            oci_server_core::serve(listener, registry, stop).await
        });
        TestRegistry {
            addr,
            _root: root,
            _shutdown: shutdown,
        }
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// A repository on this registry.
    pub fn repo(&self, name: &str) -> Repository {
        Repository::new(&self.host(), name).unwrap()
    }
}
