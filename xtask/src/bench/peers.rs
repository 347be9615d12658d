//! The servers under test, each started fresh on a free port with a temporary store.
//!
//! `oci-registry` announces its address on its first line of output (`oci-registry listening on
//! http://ADDR`), so we read that line. Distribution and olareg announce nothing once their logs
//! are quiet, so we hand them a free port and poll `GET /v2/` in a bounded loop. All run with
//! request logging off, so the benchmarks measure serving, not log writing. A [`RunningPeer`] kills its process
//! when dropped, including on errors and panics.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::error::BenchError;
use super::{cpu, rss};
use crate::cargo::build_binary;
use crate::conformance::server::parse_announcement;
use crate::error::XtaskError;

/// Debian's CNCF distribution binary.
pub const DISTRIBUTION_BIN: &str = "/usr/bin/docker-registry";
/// regclient's olareg, a static build beside the workspace (`../shared/peers/`), when present.
pub const OLAREG_BIN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/peers/olareg");
/// How often, and how many times, a peer's readiness is polled (10 s in all).
const READY_POLL: Duration = Duration::from_millis(50);
const READY_ATTEMPTS: u32 = 200;

/// Which server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerKind {
    /// This workspace's `oci-registry`, release build.
    Ours,
    /// Debian's `docker-registry` (CNCF distribution 2.8).
    Distribution,
    /// regclient's `olareg` (sends blobs with `sendfile`).
    Olareg,
}

impl PeerKind {
    /// The server's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            PeerKind::Ours => "oci-registry",
            PeerKind::Distribution => "docker-registry",
            PeerKind::Olareg => "olareg",
        }
    }

    /// Whether olareg's binary is there to be run.
    pub fn olareg_present() -> bool {
        Path::new(OLAREG_BIN).is_file()
    }
}

/// Where the servers' binaries are, and where their logs go.
#[derive(Debug, Clone)]
pub struct Executables {
    ours: PathBuf,
    log_dir: PathBuf,
}

impl Executables {
    /// Builds `oci-registry` in release mode (a no-op when it is up to date).
    pub fn build() -> Result<Executables, BenchError> {
        let ours = build_binary("oci-server-core", "oci-registry", true)?;
        let log_dir = ours
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(std::env::temp_dir);
        Ok(Executables { ours, log_dir })
    }

    fn log(&self, kind: PeerKind) -> PathBuf {
        self.log_dir.join(format!("{}-bench.log", kind.name()))
    }
}

/// A running server with its temporary store; dropping it stops the process, then removes the
/// store.
#[derive(Debug)]
pub struct RunningPeer {
    kind: PeerKind,
    child: Child,
    url: String,
    // Declared after `child`, so the process is gone before its store is removed.
    _store: tempfile::TempDir,
}

impl RunningPeer {
    /// Starts a fresh `kind` server, its store a new folder in `store_parent`, and waits until
    /// it serves.
    pub async fn start(
        kind: PeerKind,
        executables: &Executables,
        store_parent: &Path,
    ) -> Result<RunningPeer, BenchError> {
        let store = tempfile::Builder::new()
            .prefix("oci-bench-store-")
            .tempdir_in(store_parent)?;
        let log = executables.log(kind);
        match kind {
            PeerKind::Ours => start_ours(&executables.ours, store, log),
            PeerKind::Distribution => start_distribution(store, log).await,
            PeerKind::Olareg => start_olareg(store, log).await,
        }
    }

    /// Its base URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Resets the server's peak RSS to its current RSS, so the next reading covers what follows.
    pub fn reset_peak_rss(&self) -> Result<(), BenchError> {
        rss::reset_peak_rss(self.child.id())
    }

    /// The CPU seconds (user and system) the server has used since it started.
    pub fn cpu_seconds(&self) -> Result<f64, BenchError> {
        cpu::cpu_seconds(self.child.id())
    }

    /// Pins every thread of the server to `cpu` (see [`placement`](super::placement)).
    pub fn pin_to(&self, cpu: usize) -> Result<(), BenchError> {
        super::placement::pin_process(self.child.id(), cpu)
    }

    /// The server's peak RSS since start or the last reset, in MiB.
    pub fn peak_rss_mib(&self) -> Result<f64, BenchError> {
        rss::peak_rss_mib(self.child.id())
    }

    /// The error for a server that stopped while starting (its output ended, or it exited).
    fn exited(&mut self, log: PathBuf) -> BenchError {
        match self.child.wait() {
            Ok(status) => BenchError::Exited {
                peer: self.kind.name(),
                status,
                log,
            },
            Err(error) => BenchError::Io(error),
        }
    }
}

impl Drop for RunningPeer {
    fn drop(&mut self) {
        // Errors mean the process is already gone, which is what we want.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_ours(
    executable: &Path,
    store: tempfile::TempDir,
    log: PathBuf,
) -> Result<RunningPeer, BenchError> {
    let mut command = Command::new(executable);
    command
        .args(["--listen", "127.0.0.1:0", "--root"])
        .arg(store.path())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(File::create(&log)?);
    let mut child = spawn(&mut command, executable)?;
    let stdout = child.stdout.take();
    // From here on the guard owns the process, so every early return stops it.
    let mut peer = RunningPeer {
        kind: PeerKind::Ours,
        child,
        url: String::new(),
        _store: store,
    };
    let mut line = String::new();
    let mut reader = match stdout {
        Some(stdout) => BufReader::new(stdout),
        None => return Err(peer.exited(log)),
    };
    if reader.read_line(&mut line)? == 0 {
        return Err(peer.exited(log));
    }
    peer.url = parse_announcement(&line)?;
    // Keep reading so the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    Ok(peer)
}

async fn start_distribution(
    store: tempfile::TempDir,
    log: PathBuf,
) -> Result<RunningPeer, BenchError> {
    let port = oci_test_support::free_port();
    let config = store.path().join("config.yml");
    std::fs::write(
        &config,
        distribution_config(&store.path().join("root"), port),
    )?;
    let mut command = Command::new(DISTRIBUTION_BIN);
    command
        .arg("serve")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(&log)?);
    let child = spawn(&mut command, Path::new(DISTRIBUTION_BIN))?;
    let peer = RunningPeer {
        kind: PeerKind::Distribution,
        child,
        url: format!("http://127.0.0.1:{port}"),
        _store: store,
    };
    wait_ready(peer, log).await
}

/// olareg on a free port, its store in `store`, without its periodic garbage collection (which
/// would otherwise land in a measurement) and with deletes allowed, as the other servers.
async fn start_olareg(store: tempfile::TempDir, log: PathBuf) -> Result<RunningPeer, BenchError> {
    let port = oci_test_support::free_port();
    let mut command = Command::new(OLAREG_BIN);
    command
        .args(["serve", "--addr", "127.0.0.1", "--port", &port.to_string()])
        .args(["--api-delete", "--gc-frequency=-1s", "--verbosity", "warn"])
        .arg("--dir")
        .arg(store.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(&log)?);
    let child = spawn(&mut command, Path::new(OLAREG_BIN))?;
    let peer = RunningPeer {
        kind: PeerKind::Olareg,
        child,
        url: format!("http://127.0.0.1:{port}"),
        _store: store,
    };
    wait_ready(peer, log).await
}

/// Polls `GET /v2/` until `peer` answers it; fails when it exits or the allowance runs out.
async fn wait_ready(mut peer: RunningPeer, log: PathBuf) -> Result<RunningPeer, BenchError> {
    let probe = reqwest::Client::new();
    let base = format!("{}/v2/", peer.url);
    for _ in 0..READY_ATTEMPTS {
        if peer.child.try_wait()?.is_some() {
            return Err(peer.exited(log));
        }
        let answer = probe.get(&base).send().await;
        if answer.is_ok_and(|response| response.status().is_success()) {
            return Ok(peer);
        }
        tokio::time::sleep(READY_POLL).await;
    }
    Err(BenchError::NotReady {
        peer: peer.kind.name(),
        waited: READY_POLL * READY_ATTEMPTS,
        log,
    })
}

/// Distribution's configuration: the minimal one of PEERS.md, plus quiet logs.
fn distribution_config(root: &Path, port: u16) -> String {
    format!(
        "version: 0.1\n\
         log:\n  level: warn\n  accesslog:\n    disabled: true\n\
         storage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\n\
         http:\n  addr: 127.0.0.1:{port}\n",
        root.display()
    )
}

fn spawn(command: &mut Command, executable: &Path) -> Result<Child, BenchError> {
    command.spawn().map_err(|source| {
        BenchError::Xtask(XtaskError::Spawn {
            command: executable.display().to_string(),
            source,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distribution_config_is_quiet_and_bound_to_loopback() {
        let config = distribution_config(Path::new("/tmp/store/root"), 5123);
        assert!(config.contains("rootdirectory: /tmp/store/root\n"));
        assert!(config.contains("addr: 127.0.0.1:5123\n"));
        assert!(config.contains("accesslog:\n    disabled: true\n"));
    }

    /// A real distribution, started and probed as the bench does; skipped when not installed.
    #[tokio::test]
    async fn starts_distribution_and_reads_its_peak_rss() {
        if !Path::new(DISTRIBUTION_BIN).exists() {
            eprintln!("skipped: {DISTRIBUTION_BIN} missing (run .ci/install-peers)");
            return;
        }
        let executables = Executables {
            ours: PathBuf::from("unused"),
            log_dir: std::env::temp_dir(),
        };
        let peer = RunningPeer::start(PeerKind::Distribution, &executables, &std::env::temp_dir())
            .await
            .unwrap();
        let answer = reqwest::get(format!("{}/v2/", peer.url())).await.unwrap();
        assert!(answer.status().is_success());
        peer.reset_peak_rss().unwrap();
        assert!(peer.peak_rss_mib().unwrap() > 0.0);
    }

    /// olareg, started and probed as the bench does; skipped when its binary is absent.
    #[tokio::test]
    async fn starts_olareg_and_reads_its_cpu_time() {
        if !PeerKind::olareg_present() {
            eprintln!("skipped: {OLAREG_BIN} missing");
            return;
        }
        let executables = Executables {
            ours: PathBuf::from("unused"),
            log_dir: std::env::temp_dir(),
        };
        let peer = RunningPeer::start(PeerKind::Olareg, &executables, &std::env::temp_dir())
            .await
            .unwrap();
        let answer = reqwest::get(format!("{}/v2/", peer.url())).await.unwrap();
        assert!(answer.status().is_success());
        assert!(peer.cpu_seconds().unwrap() >= 0.0);
        assert!(peer.peak_rss_mib().unwrap() > 0.0);
    }
}
