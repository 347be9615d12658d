//! `moto_server`, the S3 stand-in from PyPI (`bash .ci/install-s3-peers` installs it), started
//! on a free port with one empty bucket: the one starter behind the tests' [`super::S3Server`],
//! `cargo xtask conformance` and `chaos` on S3, and the benchmarks' request counts.

use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{KillOnDrop, free_port};

/// Connection attempts before giving up (50 ms apart: moto needs about a second).
const READY_ATTEMPTS: u32 = 600;
const READY_POLL: Duration = Duration::from_millis(50);

/// A running `moto_server` holding [`Moto::BUCKET`]; dropping it stops the process.
#[derive(Debug)]
pub struct Moto {
    pub(super) child: KillOnDrop,
    address: String,
}

impl Moto {
    /// The one bucket, created empty at start.
    pub const BUCKET: &'static str = "registry";
    /// The access key to sign with (moto checks no signature).
    pub const ACCESS_KEY: &'static str = "moto";
    /// The secret key to sign with.
    pub const SECRET_KEY: &'static str = "moto-secret";

    /// Starts moto on a free port, its access log (one line per request, on its standard
    /// error) written to `log` when given, and creates [`Self::BUCKET`]. Blocks until moto
    /// answers, about a second; the error says what went wrong, with the install hint when
    /// moto is missing.
    pub fn start(log: Option<File>) -> Result<Moto, String> {
        let port = free_port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log.map_or_else(Stdio::null, Stdio::from))
            .spawn()
            .map_err(|error| {
                format!("cannot start moto_server ({error}): run `bash .ci/install-s3-peers`")
            })?;
        let mut moto = Moto {
            child: KillOnDrop(child),
            address: format!("127.0.0.1:{port}"),
        };
        moto.wait_until_ready()?;
        moto.create_bucket()?;
        Ok(moto)
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The environment that points an `oci-registry --storage s3://...` at this server.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", Self::ACCESS_KEY.to_owned()),
            ("AWS_SECRET_ACCESS_KEY", Self::SECRET_KEY.to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_ALLOW_HTTP", "true".to_owned()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect()
    }

    /// Polls for a TCP connection, a bounded number of times, failing early if moto exits:
    /// it logs no line that says it is ready.
    fn wait_until_ready(&mut self) -> Result<(), String> {
        for _ in 0..READY_ATTEMPTS {
            if TcpStream::connect(&self.address).is_ok() {
                return Ok(());
            }
            match self.child.0.try_wait() {
                Ok(Some(status)) => return Err(self.failure(&format!("exited with {status}"))),
                Ok(None) => {}
                Err(error) => return Err(self.failure(&error.to_string())),
            }
            std::thread::sleep(READY_POLL);
        }
        Err(self.failure("did not accept connections"))
    }

    /// `PUT /<bucket>`: one plain HTTP/1.1 request (moto accepts it unsigned).
    fn create_bucket(&self) -> Result<(), String> {
        let answer = (|| {
            let mut stream = TcpStream::connect(&self.address)?;
            write!(
                stream,
                "PUT /{} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                Self::BUCKET,
                self.address
            )?;
            let mut answer = String::new();
            stream.read_to_string(&mut answer)?;
            Ok::<_, std::io::Error>(answer)
        })()
        .map_err(|error| self.failure(&format!("creating the bucket: {error}")))?;
        let status_line = answer.lines().next().unwrap_or_default();
        match status_line.split_whitespace().nth(1) {
            Some("200") => Ok(()),
            _ => Err(self.failure(&format!("answered {status_line:?} to creating the bucket"))),
        }
    }

    fn failure(&self, reason: &str) -> String {
        format!("moto_server on {}: {reason}", self.address)
    }
}
