//! Other servers as child processes on free ports of 127.0.0.1, each killed and reaped when
//! dropped (also when a test fails half-way): Debian's `docker-registry`, olareg, the S3
//! servers `moto_server` and `s3s-fs`, and this workspace's `oci-registry` binary; and the
//! command-line peers (skopeo, umoci, podman) run to completion.

mod distribution;
mod oci_registry;
mod olareg;
mod s3;
mod tools;

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};

use oci_digest::Digest;

pub use distribution::{Distribution, DistributionAuth, DistributionOptions, write_htpasswd};
pub use oci_registry::{OciRegistry, oci_registry_binary};
pub use olareg::Olareg;
pub use s3::S3Server;
pub use tools::{podman, podman_output, skopeo, skopeo_fails, umoci};

/// A port nothing listens on right now (the OS picks it; the listener closes at once).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `<dir>/<algorithm>/<first two hex digits>/<hex>`: where both registries' filesystem
/// stores keep a blob.
fn fanned_out(dir: &Path, digest: &Digest) -> PathBuf {
    let hex = digest.encoded();
    dir.join(digest.algorithm().as_str())
        .join(&hex[..2])
        .join(hex)
}

/// A child process that is killed and reaped when dropped, so a failing test leaves none
/// behind.
#[derive(Debug)]
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

/// Reads `log` until a line holds `marker` (the process's own word that it is ready), then
/// keeps draining it in the background so the process never blocks on a full pipe. Panics
/// with what it logged when it ends first.
pub fn wait_for_log(log: impl Read + Send + 'static, marker: &str, peer: &str) {
    let mut log = BufReader::new(log);
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let read = log.read_line(&mut line).unwrap();
        assert_ne!(read, 0, "{peer} exited before logging {marker:?}: {seen}");
        if line.contains(marker) {
            break;
        }
        seen.push_str(&line);
    }
    std::thread::spawn(move || std::io::copy(&mut log, &mut std::io::sink()));
}
