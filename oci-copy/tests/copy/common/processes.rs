//! Registries run as child processes on free loopback ports, killed on drop: our
//! `oci-registry` and Debian's `docker-registry` (CNCF distribution); and runs of our
//! `oci-copy` binary.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;

/// The `oci-registry` binary of this workspace: `OCI_REGISTRY_BIN`, else the one in the
/// test executable's profile folder, built on first use when missing (build it first with
/// `cargo build -p oci-server-core --bin oci-registry` to pick up server changes).
pub fn oci_registry_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            if let Some(path) = std::env::var_os("OCI_REGISTRY_BIN") {
                return PathBuf::from(path);
            }
            // target/<profile>/deps/<test> -> target/<profile>/oci-registry
            let exe = std::env::current_exe().unwrap();
            let profile_dir = exe.parent().unwrap().parent().unwrap().to_owned();
            let binary = profile_dir.join("oci-registry");
            if binary.exists() {
                return binary;
            }
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let status = Command::new(cargo)
                .args(["build", "-p", "oci-server-core", "--bin", "oci-registry"])
                .stdout(Stdio::null())
                .status()
                .unwrap();
            assert!(status.success(), "building oci-registry failed");
            assert!(
                binary.exists(),
                "{} missing after the build",
                binary.display()
            );
            binary
        })
        .clone()
}

/// A running `oci-registry`.
pub struct OciRegistry {
    child: Child,
    host: String,
    _root: tempfile::TempDir,
}

impl OciRegistry {
    /// Starts one over a fresh store; returns once it printed its address.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Like [`OciRegistry::start`], with `extra` arguments (say, `--htpasswd FILE`).
    pub fn start_with(extra: &[&str]) -> Self {
        let root = tempfile::tempdir().unwrap();
        let child = Command::new(oci_registry_binary())
            .args(["--listen", "127.0.0.1:0", "--delete", "--root"])
            .arg(root.path())
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut registry = OciRegistry {
            child,
            host: String::new(),
            _root: root,
        };
        let mut line = String::new();
        BufReader::new(registry.child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        registry.host = line
            .trim()
            .strip_prefix("oci-registry listening on http://")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        registry
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Where a blob's file is in its store (for tests that damage it).
    pub fn blob_file(&self, digest: &oci_spec_types::Digest) -> PathBuf {
        let encoded = digest.encoded();
        self._root
            .path()
            .join("blobs")
            .join(digest.algorithm().as_str())
            .join(&encoded[..2])
            .join(encoded)
    }
}

impl Drop for OciRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running Debian `docker-registry` (distribution 2.8).
pub struct Distribution {
    child: Child,
    host: String,
    root: tempfile::TempDir,
}

/// Where Debian installs distribution.
const DISTRIBUTION_BINARY: &str = "/usr/bin/docker-registry";

impl Distribution {
    /// Whether the binary is installed (tests needing it are skipped, loudly, when not).
    pub fn available() -> bool {
        Path::new(DISTRIBUTION_BINARY).exists()
    }

    /// Starts one on a free port; returns once `GET /v2/` answers (bounded polling).
    pub fn start() -> Self {
        Self::start_with_config("")
    }

    /// Like [`Distribution::start`], asking for a password from the users of `htpasswd`
    /// (bcrypt hashes).
    pub fn start_with_htpasswd(htpasswd: &Path) -> Self {
        Self::start_with_config(&format!(
            "auth:\n  htpasswd:\n    realm: tests\n    path: {}\n",
            htpasswd.display()
        ))
    }

    /// Starts one whose configuration has `extra` (top-level YAML sections) at its end.
    fn start_with_config(extra: &str) -> Self {
        let root = tempfile::tempdir().unwrap();
        let host = format!("127.0.0.1:{}", free_port());
        let config = root.path().join("config.yml");
        let storage = root.path().join("storage");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n{extra}",
                storage.display()
            ),
        )
        .unwrap();
        let child = Command::new(DISTRIBUTION_BINARY)
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let registry = Distribution { child, host, root };
        wait_for_v2(&registry.host, "docker-registry");
        registry
    }

    /// The file holding the blob `digest` in the store (distribution's filesystem layout),
    /// for tests that damage stored content as a disk would.
    pub fn blob_file(&self, digest: &oci_spec_types::Digest) -> PathBuf {
        let hex = digest.encoded();
        self.root
            .path()
            .join("storage/docker/registry/v2/blobs")
            .join(digest.algorithm().as_str())
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> &str {
        &self.host
    }
}

impl Drop for Distribution {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running `olareg` (regclient's registry) from the project's shared peers folder.
pub struct Olareg {
    child: Child,
    host: String,
    _root: tempfile::TempDir,
}

impl Olareg {
    /// The static build in the project's `../shared/peers`; `None` when absent (tests
    /// needing it are skipped, loudly).
    pub fn binary() -> Option<PathBuf> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/peers/olareg");
        path.is_file().then_some(path)
    }

    /// Starts `binary` on a free port over a fresh directory, deletes (of manifests and
    /// blobs) allowed and garbage collection off; returns once `GET /v2/` answers.
    pub fn start(binary: &Path) -> Self {
        let root = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new(binary)
            .args(["serve", "--addr", "127.0.0.1", "--port", &port.to_string()])
            .args([
                "--api-delete",
                "--api-blob-delete",
                "--gc-frequency=-1s",
                "--dir",
            ])
            .arg(root.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let registry = Olareg {
            child,
            host: format!("127.0.0.1:{port}"),
            _root: root,
        };
        wait_for_v2(&registry.host, "olareg");
        registry
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> &str {
        &self.host
    }
}

impl Drop for Olareg {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port no one listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (bounded polling: the process gives no other sign) until `GET /v2/` on `host`
/// gets an answer; panics naming `what` when it never does.
fn wait_for_v2(host: &str, what: &str) {
    for _ in 0..200 {
        if answers_v2(host) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    panic!("{what} on {host} never answered GET /v2/");
}

/// Whether `GET /v2/` gets an HTTP answer.
fn answers_v2(host: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(host) else {
        return false;
    };
    let request = format!("GET /v2/ HTTP/1.0\r\nHost: {host}\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}

/// The `oci-copy` binary of this crate with `args`, logging warnings only.
pub fn oci_copy_command<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut command = Command::new(env!("CARGO_BIN_EXE_oci-copy"));
    command.args(args).env("RUST_LOG", "warn");
    command
}

/// Runs the `oci-copy` binary with `args`: its exit code, standard output and error.
pub fn run_oci_copy(args: &[&str]) -> (Option<i32>, String, String) {
    let output = oci_copy_command(args).output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Runs the `oci-copy` binary with `args`, `input` on its standard input and `env` set:
/// its exit code, standard output (bytes, as a blob may be written there) and error.
pub fn run_oci_copy_fed(
    args: &[&str],
    input: &[u8],
    env: &[(&str, &Path)],
) -> (Option<i32>, Vec<u8>, String) {
    let mut command = oci_copy_command(args);
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // Written from another thread: a child that answers before reading it all must not
    // block this one.
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    (
        output.status.code(),
        output.stdout,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A child process that is killed and reaped when dropped, so a failing test leaves none
/// behind.
pub struct KillOnDrop(pub Child);

impl KillOnDrop {
    /// Kills it (`SIGKILL`) and returns how it ended.
    pub fn kill(&mut self) -> ExitStatus {
        self.0.kill().unwrap();
        self.0.wait().unwrap()
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
