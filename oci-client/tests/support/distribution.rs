//! Debian's `docker-registry` (CNCF distribution 2.8) as a child process on a free port,
//! anonymous or behind htpasswd Basic auth, over plain HTTP or TLS (with client
//! certificates when asked); killed when dropped.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use oci_distribution_client::Repository;
use tempfile::TempDir;

use super::pki::Pem;

/// Where Debian installs the registry.
const BINARY: &str = "/usr/bin/docker-registry";
/// Readiness polls before giving up (50 ms apart: about 10 s).
const READY_POLLS: usize = 200;

/// TLS for the registry: its certificate and key, and the authority client certificates
/// must come from (none: no client certificate asked for).
pub struct ServerTls<'a> {
    pub server: &'a Pem,
    pub client_ca: Option<&'a str>,
}

/// A running `docker-registry`.
pub struct Distribution {
    child: Child,
    host: String,
    _dir: TempDir,
}

impl Distribution {
    /// An anonymous registry with deletes enabled.
    pub async fn start() -> Distribution {
        Distribution::launch(None, None).await
    }

    /// An anonymous registry serving TLS.
    pub async fn start_with_tls(tls: ServerTls<'_>) -> Distribution {
        Distribution::launch(None, Some(tls)).await
    }

    /// A registry that wants Basic credentials `username`/`password` (htpasswd, bcrypt).
    pub async fn start_with_htpasswd(username: &str, password: &str) -> Distribution {
        Distribution::launch(Some((username, password)), None).await
    }

    async fn launch(account: Option<(&str, &str)>, tls: Option<ServerTls<'_>>) -> Distribution {
        assert!(
            Path::new(BINARY).exists(),
            "{BINARY} is missing: install Debian's package with `apt-get install -y docker-registry`"
        );
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n",
            dir.path().join("data").display()
        );
        // The TLS keys belong under `http`, which ends the text so far.
        if let Some(tls) = tls {
            let (cert, key) = (dir.path().join("server.crt"), dir.path().join("server.key"));
            std::fs::write(&cert, &tls.server.cert).unwrap();
            std::fs::write(&key, &tls.server.key).unwrap();
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                cert.display(),
                key.display()
            ));
            if let Some(client_ca) = tls.client_ca {
                let path = dir.path().join("client-ca.crt");
                std::fs::write(&path, client_ca).unwrap();
                config.push_str(&format!("    clientcas:\n      - {}\n", path.display()));
            }
        }
        if let Some((username, password)) = account {
            let hash = bcrypt::hash_with_result(password, 4)
                .unwrap()
                .format_for_version(bcrypt::Version::TwoA);
            let htpasswd = dir.path().join("htpasswd");
            std::fs::write(&htpasswd, format!("{username}:{hash}\n")).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: basic-realm\n    path: {}\n",
                htpasswd.display()
            ));
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new(BINARY)
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut registry = Distribution {
            child,
            host,
            _dir: dir,
        };
        registry.wait_ready().await;
        registry
    }

    /// Polls `GET /v2/` until the registry answers (any status), within a bound.
    async fn wait_ready(&mut self) {
        let http = reqwest::Client::new();
        let url = format!("http://{}/v2/", self.host);
        for _ in 0..READY_POLLS {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("docker-registry exited early with {status}");
            }
            if http.get(&url).send().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("docker-registry did not answer on {url}");
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        self.host.clone()
    }

    /// A repository on this registry.
    pub fn repo(&self, name: &str) -> Repository {
        Repository::new(&self.host, name).unwrap()
    }
}

impl Drop for Distribution {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
