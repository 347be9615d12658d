//! Real S3-compatible servers: `moto_server` (does not check signatures, see [`Moto`]) and
//! `s3s-fs` (checks SigV4), each with one empty bucket. `bash .ci/install-s3-peers` installs
//! both.

use std::process::{Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use super::{KillOnDrop, Moto, free_port};

/// Connection attempts before giving up (50 ms apart).
const READY_ATTEMPTS: u32 = 600;
const READY_POLL: Duration = Duration::from_millis(50);

/// A running S3-compatible server holding one empty bucket.
pub struct S3Server {
    _child: KillOnDrop,
    /// `http://127.0.0.1:<port>`.
    pub endpoint: String,
    /// The bucket's name.
    pub bucket: String,
    /// The access key to sign with.
    pub access_key: String,
    /// The secret key to sign with.
    pub secret_key: String,
    _dir: Option<TempDir>,
}

impl S3Server {
    /// `moto_server` ([`Moto`]) with its bucket.
    pub async fn moto() -> Self {
        let moto = tokio::task::spawn_blocking(|| Moto::start(None))
            .await
            .unwrap()
            .unwrap_or_else(|error| panic!("{error}"));
        Self {
            endpoint: moto.endpoint(),
            bucket: Moto::BUCKET.to_owned(),
            access_key: Moto::ACCESS_KEY.to_owned(),
            secret_key: Moto::SECRET_KEY.to_owned(),
            _child: moto.child,
            _dir: None,
        }
    }

    /// `s3s-fs` over a temporary folder; the bucket is a sub-folder created before start.
    pub async fn s3s_fs() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("registry")).unwrap();
        let port = free_port();
        let (access_key, secret_key) = ("s3s-access", "s3s-secret-key");
        let child = spawn(
            Command::new("s3s-fs")
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--access-key", access_key, "--secret-key", secret_key])
                .arg(dir.path()),
            "s3s-fs",
        );
        Self::ready(child, port, dir, access_key, secret_key).await
    }

    /// Returns once the server accepts connections: it logs no line that says so, so
    /// connecting is the only sign, tried a bounded number of times.
    async fn ready(
        mut child: KillOnDrop,
        port: u16,
        dir: TempDir,
        access_key: &str,
        secret_key: &str,
    ) -> Self {
        let address = format!("127.0.0.1:{port}");
        let mut attempts = 0;
        while tokio::net::TcpStream::connect(&address).await.is_err() {
            if let Some(status) = child.0.try_wait().unwrap() {
                panic!("S3 server exited before accepting connections: {status}");
            }
            attempts += 1;
            assert!(
                attempts < READY_ATTEMPTS,
                "S3 server on {address} did not accept connections"
            );
            tokio::time::sleep(READY_POLL).await;
        }
        Self {
            _child: child,
            endpoint: format!("http://{address}"),
            bucket: "registry".to_owned(),
            access_key: access_key.to_owned(),
            secret_key: secret_key.to_owned(),
            _dir: Some(dir),
        }
    }

    /// The `--storage` location for a registry keeping everything under `prefix`.
    pub fn location(&self, prefix: &str) -> String {
        format!("s3://{}/{prefix}", self.bucket)
    }

    /// The environment an `oci-registry` process needs to reach this server.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_ACCESS_KEY_ID", &self.access_key),
            ("AWS_SECRET_ACCESS_KEY", &self.secret_key),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ALLOW_HTTP", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }
}

fn spawn(command: &mut Command, name: &str) -> KillOnDrop {
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name} ({e}): run `bash .ci/install-s3-peers`"));
    KillOnDrop(child)
}
