//! olareg (regclient's registry), a static build in the project's shared peers folder, with
//! deletes of manifests and blobs on and garbage collection off, so nothing changes under a
//! test.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{KillOnDrop, free_port, wait_for_log};

/// Connection attempts after olareg said it is launching (5 ms apart: 10 s at most).
const CONNECT_ATTEMPTS: usize = 2000;

/// A running olareg.
pub struct Olareg {
    _child: KillOnDrop,
    host: String,
    _root: tempfile::TempDir,
}

impl Olareg {
    /// The static build in `../shared/peers` of the workspace's parent; `None` when absent
    /// (it is there on developers' machines and in CI, not in a fresh clone), and tests
    /// needing it are skipped, loudly.
    pub fn binary() -> Option<PathBuf> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/peers/olareg");
        path.is_file().then_some(path)
    }

    /// Starts `binary` on a free port over a fresh directory; returns once it accepts
    /// connections.
    pub fn start(binary: &Path) -> Self {
        let root = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut child = KillOnDrop(
            Command::new(binary)
                .args(["serve", "--addr", "127.0.0.1", "--port", &port.to_string()])
                .args(["--api-delete", "--api-blob-delete", "--gc-frequency=-1s"])
                .args(["-v", "info", "--dir"])
                .arg(root.path())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        if let Err(log) = wait_for_log(child.0.stderr.take().unwrap(), "launching server") {
            panic!("olareg {log}");
        }
        // olareg logs just before it binds and says nothing after: connecting is the only
        // sign left, tried a bounded number of times.
        let accepted = (0..CONNECT_ATTEMPTS).any(|_| {
            let connected = TcpStream::connect(("127.0.0.1", port)).is_ok();
            if !connected {
                std::thread::sleep(Duration::from_millis(5));
            }
            connected
        });
        assert!(accepted, "olareg never accepted a connection on {port}");
        Olareg {
            _child: child,
            host: format!("127.0.0.1:{port}"),
            _root: root,
        }
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> &str {
        &self.host
    }
}
