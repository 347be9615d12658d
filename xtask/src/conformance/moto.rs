//! `moto_server`, a real S3-compatible server from PyPI, for `--storage s3`: started on a free
//! port with one empty bucket, killed when dropped. `bash .ci/install-s3-peers` installs it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::error::XtaskError;

/// The bucket the registry stores into.
pub const BUCKET: &str = "conformance";
/// How long moto may take to accept connections (it needs about a second).
const READY_ATTEMPTS: u32 = 600;
const READY_POLL: Duration = Duration::from_millis(50);

/// A running `moto_server` holding [`BUCKET`].
#[derive(Debug)]
pub struct Moto {
    child: Child,
    address: String,
}

impl Moto {
    /// Starts moto and creates the bucket (moto accepts unsigned requests).
    pub fn start() -> Result<Moto, XtaskError> {
        let port = oci_test_support::free_port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| XtaskError::Spawn {
                command: "moto_server (run `bash .ci/install-s3-peers`)".into(),
                source,
            })?;
        let mut moto = Moto {
            child,
            address: format!("127.0.0.1:{port}"),
        };
        moto.wait_until_ready()?;
        moto.create_bucket()?;
        Ok(moto)
    }

    /// The environment that points an `oci-registry --storage s3://...` at this server.
    pub fn env(&self) -> [(&'static str, String); 5] {
        [
            ("AWS_ENDPOINT_URL", format!("http://{}", self.address)),
            ("AWS_ACCESS_KEY_ID", "conformance".into()),
            ("AWS_SECRET_ACCESS_KEY", "conformance-secret".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ALLOW_HTTP", "true".into()),
        ]
    }

    /// Polls for a TCP connection, a bounded number of times, failing early if moto exits.
    fn wait_until_ready(&mut self) -> Result<(), XtaskError> {
        for _ in 0..READY_ATTEMPTS {
            if TcpStream::connect(&self.address).is_ok() {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                return Err(self.failure(format!("exited with {status}")));
            }
            std::thread::sleep(READY_POLL);
        }
        Err(self.failure("did not accept connections".into()))
    }

    /// `PUT /<bucket>`: one plain HTTP/1.1 request, so xtask needs no S3 client.
    fn create_bucket(&self) -> Result<(), XtaskError> {
        let mut stream = TcpStream::connect(&self.address)?;
        write!(
            stream,
            "PUT /{BUCKET} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.address
        )?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        let status_line = answer.lines().next().unwrap_or_default();
        if status_line.split_whitespace().nth(1) == Some("200") {
            Ok(())
        } else {
            Err(self.failure(format!("answered {status_line:?} to creating the bucket")))
        }
    }

    fn failure(&self, reason: String) -> XtaskError {
        XtaskError::Peer {
            peer: format!("moto_server on {}", self.address),
            reason,
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        // Errors mean the process is already gone, which is what we want.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
