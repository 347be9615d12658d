//! Other servers as child processes on free ports of 127.0.0.1, each killed and reaped when
//! dropped (also when a test fails half-way): Debian's `docker-registry`, olareg, the S3
//! servers `moto_server` and `s3s-fs`, and this workspace's `oci-registry` binary; and the
//! command-line peers (skopeo, umoci, podman) run to completion.

mod distribution;
mod moto;
mod oci_registry;
mod olareg;
mod s3;
mod tools;

use std::hash::{BuildHasher, RandomState};
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus};

use oci_digest::Digest;

pub use distribution::{Distribution, DistributionAuth, DistributionOptions, write_htpasswd};
pub use moto::Moto;
pub use oci_registry::{OciRegistry, oci_registry_binary};
pub use olareg::Olareg;
pub use s3::S3Server;
pub use tools::{podman, podman_output, skopeo, skopeo_fails, umoci};

/// Ports [`free_port`] draws from: just below Linux's default ephemeral range (32768 up),
/// which the kernel hands to outgoing connections and to `bind(0)`. A port picked there can
/// be taken by any client socket before the peer binds it (CI saw docker-registry fail so);
/// below it, only another test picking the same port can, and [`start_on_free_port`] then
/// tries again.
const PORTS_BELOW_EPHEMERAL: std::ops::Range<u16> = 20000..32768;

/// A port nothing listens on right now, outside the range the kernel gives to outgoing
/// connections, starting from a random one so parallel tests rarely pick the same.
pub fn free_port() -> u16 {
    let span = PORTS_BELOW_EPHEMERAL.end - PORTS_BELOW_EPHEMERAL.start;
    let start = (RandomState::new().hash_one(std::process::id()) % u64::from(span)) as u16;
    (0..span)
        .map(|step| PORTS_BELOW_EPHEMERAL.start + (start + step) % span)
        .find(|&port| TcpListener::bind(("127.0.0.1", port)).is_ok())
        .unwrap_or_else(|| {
            TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        })
}

/// How often [`start_on_free_port`] picks another port after the last was taken.
const PORT_ATTEMPTS: usize = 4;

/// Runs `start` on a [`free_port`], again on another one when the peer failed because the
/// port was taken between the pick and its bind; `start` returns what the peer logged when
/// it failed. Panics with that log on any other failure.
pub fn start_on_free_port<T>(peer: &str, mut start: impl FnMut(u16) -> Result<T, String>) -> T {
    let mut logged = String::new();
    for _ in 0..PORT_ATTEMPTS {
        match start(free_port()) {
            Ok(started) => return started,
            Err(log) if log.to_lowercase().contains("address already in use") => logged = log,
            Err(log) => panic!("{peer} failed to start: {log}"),
        }
    }
    panic!("{peer} found its port taken {PORT_ATTEMPTS} times; last: {logged}")
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
/// keeps draining it in the background so the process never blocks on a full pipe. When the
/// log ends first, returns what it held.
pub fn wait_for_log(log: impl Read + Send + 'static, marker: &str) -> Result<(), String> {
    let mut log = BufReader::new(log);
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        if log.read_line(&mut line).unwrap() == 0 {
            return Err(format!("exited before logging {marker:?}: {seen}"));
        }
        if line.contains(marker) {
            break;
        }
        seen.push_str(&line);
    }
    std::thread::spawn(move || std::io::copy(&mut log, &mut std::io::sink()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_taken_port_is_tried_again_on_another() {
        let mut ports = Vec::new();
        let started = start_on_free_port("peer", |port| {
            ports.push(port);
            match ports.len() {
                1 => Err("listen tcp: bind: address already in use".to_owned()),
                _ => Ok(port),
            }
        });
        assert_eq!(ports.len(), 2);
        assert_eq!(started, ports[1]);
    }

    #[test]
    #[should_panic(expected = "peer failed to start: bad config")]
    fn another_failure_is_not_tried_again() {
        start_on_free_port("peer", |_| Err::<(), _>("bad config".to_owned()));
    }

    #[test]
    fn free_ports_lie_below_the_ephemeral_range_and_are_free() {
        let port = free_port();
        assert!(PORTS_BELOW_EPHEMERAL.contains(&port), "{port}");
        assert!(TcpListener::bind(("127.0.0.1", port)).is_ok());
    }
}
