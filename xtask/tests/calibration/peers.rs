//! The registries the judge is calibrated on, each started on a free port of 127.0.0.1 with a
//! temporary store and killed when dropped: Debian's `docker-registry` (installed by
//! `bash .ci/install-peers`) and olareg (a static build in `../shared/peers/`, which is there
//! on developers' machines and in CI but not in a user's fresh clone).

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};

/// A registry process on a free port with a temporary store.
pub struct Peer {
    child: Child,
    /// Its base URL.
    pub url: String,
    _store: tempfile::TempDir,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Reads the log until a line contains `marker`, then keeps draining it in the background.
fn wait_for_log(log: ChildStderr, marker: &str, peer: &str) {
    let mut log = BufReader::new(log);
    let mut line = String::new();
    loop {
        line.clear();
        let read = log.read_line(&mut line).unwrap();
        assert_ne!(read, 0, "{peer} exited before logging {marker:?}");
        if line.contains(marker) {
            break;
        }
    }
    std::thread::spawn(move || std::io::copy(&mut log, &mut std::io::sink()));
}

impl Peer {
    /// Debian's CNCF distribution 2.8.2, deletes enabled.
    pub fn distribution() -> Peer {
        Peer::distribution_with(None)
    }

    /// The same over TLS, with this PEM certificate and key.
    pub fn distribution_tls(certificate: &Path, key: &Path) -> Peer {
        Peer::distribution_with(Some((certificate, key)))
    }

    fn distribution_with(tls: Option<(&Path, &Path)>) -> Peer {
        let store = tempfile::tempdir().unwrap();
        let port = free_port();
        let config = store.path().join("config.yml");
        let root = store.path().join("root");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{}",
                root.display(),
                tls.map(|(certificate, key)| format!(
                    "  tls:\n    certificate: {}\n    key: {}\n",
                    certificate.display(),
                    key.display()
                ))
                .unwrap_or_default()
            ),
        )
        .unwrap();
        let mut child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("docker-registry must be installed: run `bash .ci/install-peers`");
        wait_for_log(
            child.stderr.take().unwrap(),
            "listening on",
            "docker-registry",
        );
        let scheme = if tls.is_some() { "https" } else { "http" };
        Peer {
            child,
            url: format!("{scheme}://127.0.0.1:{port}"),
            _store: store,
        }
    }

    /// olareg, as its official results were measured: `--api-delete --api-blob-delete`, and
    /// garbage collection off so nothing changes under the checks. `None` when the binary is
    /// not there.
    pub fn olareg() -> Option<Peer> {
        let binary = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/peers/olareg");
        if !binary.is_file() {
            return None;
        }
        let store = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut child = Command::new(&binary)
            .args(["serve", "--addr", "127.0.0.1", "--port", &port.to_string()])
            .arg("--dir")
            .arg(store.path())
            .args(["--api-delete", "--api-blob-delete", "--gc-frequency=-1s"])
            .args(["-v", "info"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        wait_for_log(child.stderr.take().unwrap(), "launching server", "olareg");
        // olareg logs just before it binds: connect until it answers (bounded).
        let accepted = (0..2000).any(|_| match TcpStream::connect(("127.0.0.1", port)) {
            Ok(mut stream) => {
                drop(stream.read(&mut [0u8; 0]));
                true
            }
            Err(_) => {
                std::thread::sleep(std::time::Duration::from_millis(5));
                false
            }
        });
        assert!(accepted, "olareg never accepted a connection on {port}");
        Some(Peer {
            child,
            url: format!("http://127.0.0.1:{port}"),
            _store: store,
        })
    }
}
