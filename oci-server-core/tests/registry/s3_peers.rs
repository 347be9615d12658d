//! Real S3-compatible servers on 127.0.0.1 for the object-storage tests: `moto_server`
//! (does not check signatures) and `s3s-fs` (checks SigV4). Each runs on a free port with a
//! fresh bucket and is killed when dropped. `bash .ci/install-s3-peers` installs both.

use std::{
    process::{Child, Command, Stdio},
    sync::Arc,
    time::Duration,
};

use object_store::aws::AmazonS3Builder;
use oci_server_core::storage::ObjectStorage;
use tempfile::TempDir;

/// How long a server may take to accept connections (moto needs about a second).
const READY_ATTEMPTS: u32 = 600;
const READY_POLL: Duration = Duration::from_millis(50);

/// A running S3-compatible server holding one empty bucket.
pub struct S3Server {
    child: Child,
    pub endpoint: String,
    pub bucket: String,
    access_key: String,
    secret_key: String,
    _dir: Option<TempDir>,
}

impl S3Server {
    /// `moto_server` with a bucket created over plain HTTP (moto accepts unsigned requests).
    pub async fn moto() -> Self {
        let port = free_port();
        let child = spawn(
            Command::new("moto_server").args(["-H", "127.0.0.1", "-p", &port.to_string()]),
            "moto_server",
        );
        let server = Self::ready(child, port, None, "moto", "moto-secret").await;
        let created = reqwest::Client::new()
            .put(format!("{}/{}", server.endpoint, server.bucket))
            .send()
            .await
            .unwrap();
        assert!(created.status().is_success(), "{}", created.status());
        server
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
        Self::ready(child, port, Some(dir), access_key, secret_key).await
    }

    async fn ready(
        mut child: Child,
        port: u16,
        dir: Option<TempDir>,
        access_key: &str,
        secret_key: &str,
    ) -> Self {
        let address = format!("127.0.0.1:{port}");
        let mut attempts = 0;
        while tokio::net::TcpStream::connect(&address).await.is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("S3 server exited before accepting connections: {status}");
            }
            attempts += 1;
            if attempts == READY_ATTEMPTS {
                let _ = child.kill();
                panic!("S3 server on {address} did not accept connections");
            }
            tokio::time::sleep(READY_POLL).await;
        }
        Self {
            child,
            endpoint: format!("http://{address}"),
            bucket: "registry".to_owned(),
            access_key: access_key.to_owned(),
            secret_key: secret_key.to_owned(),
            _dir: dir,
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

    /// An in-process backend on this server under `prefix`.
    pub fn storage(&self, prefix: &str) -> ObjectStorage {
        let store = AmazonS3Builder::new()
            .with_endpoint(&self.endpoint)
            .with_bucket_name(&self.bucket)
            .with_access_key_id(&self.access_key)
            .with_secret_access_key(&self.secret_key)
            .with_region("us-east-1")
            .with_allow_http(true)
            .build()
            .unwrap();
        ObjectStorage::new(Arc::new(store), prefix).unwrap()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(command: &mut Command, name: &str) -> Child {
    command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name} ({e}): run `bash .ci/install-s3-peers`"))
}

/// A port nobody listens on right now (the OS picks it; the listener closes at once).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
