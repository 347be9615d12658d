//! This workspace's `oci-registry` binary as a child process, as users and real clients meet
//! it: over a fresh store with deletes on (what the other crates' tests need), or launched
//! with the arguments, environment and launcher the server's own tests choose.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use oci_digest::Digest;
use tempfile::TempDir;

use super::{KillOnDrop, fanned_out};

/// The `oci-registry` binary: `OCI_REGISTRY_BIN`, else the one in the test executable's
/// profile folder, built on first use when missing (build it first with
/// `cargo build -p oci-server-core --bin oci-registry` to pick up server changes). The
/// server's own tests use `CARGO_BIN_EXE_oci-registry` instead.
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
    child: KillOnDrop,
    base: String,
    /// Lines of standard error, when launched `logged`.
    logs: Option<Receiver<String>>,
    /// The store, when the registry was given a fresh one.
    root: Option<TempDir>,
}

impl OciRegistry {
    /// [`oci_registry_binary`] over a fresh store with deletes on.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// Like [`OciRegistry::start`], with `extra` arguments (say, `--htpasswd FILE`).
    pub fn start_with(extra: &[&str]) -> Self {
        let root = tempfile::tempdir().unwrap();
        let mut command = Command::new(oci_registry_binary());
        command.env("RUST_LOG", "warn");
        let mut args = vec![
            "--delete".as_ref(),
            "--root".as_ref(),
            root.path().as_os_str(),
        ];
        args.extend(extra.iter().map(OsStr::new));
        let mut registry = Self::launch(command, &args, false);
        registry.root = Some(root);
        registry
    }

    /// Runs `command` (the binary, or a launcher handed it) with `--listen 127.0.0.1:0` and
    /// `args`, and returns once it has printed the address it listens on (reading that line
    /// is the readiness signal). With `logged` its standard error is echoed and kept for
    /// [`wait_for_log`](Self::wait_for_log); otherwise it goes where the test's goes.
    pub fn launch(mut command: Command, args: &[&OsStr], logged: bool) -> Self {
        let child = command
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(if logged {
                Stdio::piped()
            } else {
                Stdio::inherit()
            })
            .spawn()
            .unwrap();
        // Owned before anything can fail, so that a failed start still kills the child.
        let mut registry = Self {
            child: KillOnDrop(child),
            base: String::new(),
            logs: None,
            root: None,
        };
        if let Some(stderr) = registry.child.0.stderr.take() {
            let (lines, logs) = channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    eprintln!("{line}");
                    if lines.send(line).is_err() {
                        break;
                    }
                }
            });
            registry.logs = Some(logs);
        }
        let mut line = String::new();
        BufReader::new(registry.child.0.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        registry.base = line
            .trim_end()
            .strip_prefix("oci-registry listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_owned();
        registry
    }

    /// Reads log lines until one contains `needle`, and returns it. Only for registries
    /// launched `logged`.
    pub fn wait_for_log(&self, needle: &str) -> String {
        let logs = self.logs.as_ref().expect("launched logged");
        loop {
            // A safety net against a line that never comes, not a timing assertion.
            match logs.recv_timeout(Duration::from_secs(120)) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(e) => panic!("no log line with {needle:?}: {e}"),
            }
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.0.id()
    }

    /// Sends a signal by name (`HUP`, `TERM`).
    pub fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .args([format!("-{name}"), self.pid().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// `http://127.0.0.1:<port>` (`https://` when serving TLS).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `127.0.0.1:<port>`, the registry host as references spell it.
    pub fn host(&self) -> &str {
        let base = self.base.trim_start_matches("https://");
        base.trim_start_matches("http://")
    }

    /// Kills the process with SIGKILL, as a crash would (no shutdown, no cleanup), and
    /// returns how it exited.
    pub fn kill(mut self) -> ExitStatus {
        self.child.kill()
    }

    /// Sends SIGTERM and returns how the process exited.
    pub fn terminate(mut self) -> ExitStatus {
        self.signal("TERM");
        self.child.0.wait().unwrap()
    }

    /// Where a blob's file is in the fresh store it was given (for tests that damage it).
    pub fn blob_file(&self, digest: &Digest) -> PathBuf {
        let root = self.root.as_ref().expect("started over a fresh store");
        fanned_out(&root.path().join("blobs"), digest)
    }
}
