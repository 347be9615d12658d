//! The floor under a blob push: what this machine's CPU pays to receive a blob over loopback
//! TCP, hash it with SHA-256 and write it durably, with no HTTP, no server and no runtime.
//!
//! A sending thread writes the bytes into a socket; the receiving thread reads them into one
//! buffer and, depending on the [`Step`], hashes them (the workspace's own [`Digester`], as the
//! server does), writes them to a new file in the store folder and `fdatasync`s it once at the
//! end. Only the receiving thread's CPU time is counted (from `/proc/thread-self/stat`), which is
//! the part a server pays: on loopback the kernel's receive path runs in the sender's context,
//! as it runs in the benchmark client's. A server's push CPU per GiB can be read against the
//! last row: what is above it is the server's own cost.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;

use oci_digest::Digester;

use super::cpu::{seconds_per_gib, thread_cpu_seconds};
use super::error::BenchError;
use super::table::median;

/// Bytes per `read`: the size of the reads hyper makes on a fast upload.
const RECEIVE_BUFFER: usize = 256 * 1024;
/// Bytes per `write` of the sending thread.
const SEND_BUFFER: usize = 1024 * 1024;

/// What the receiving thread does with the bytes, cheapest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    hash: bool,
    write: bool,
}

impl Step {
    /// Every step, in the order of the table.
    pub const ALL: [Step; 4] = [
        Step {
            hash: false,
            write: false,
        },
        Step {
            hash: true,
            write: false,
        },
        Step {
            hash: false,
            write: true,
        },
        Step {
            hash: true,
            write: true,
        },
    ];

    /// The table's name for the step.
    pub fn label(self) -> &'static str {
        match (self.hash, self.write) {
            (false, false) => "receive",
            (true, false) => "receive, SHA-256",
            (false, true) => "receive, write, fdatasync",
            (true, true) => "receive, SHA-256, write, fdatasync (the push floor)",
        }
    }
}

/// The median receiving CPU seconds per GiB of each of [`Step::ALL`], `runs` runs of `bytes`.
pub fn measure(store_dir: &Path, bytes: u64, runs: usize) -> Result<Vec<f64>, BenchError> {
    Step::ALL
        .iter()
        .map(|&step| {
            let seconds = (0..runs)
                .map(|_| receive_once(store_dir, bytes, step))
                .collect::<Result<Vec<f64>, BenchError>>()?;
            Ok(median(&seconds).unwrap_or(f64::NAN))
        })
        .collect()
}

/// One transfer of `bytes` through `step`; the receiving thread's CPU seconds per GiB.
fn receive_once(store_dir: &Path, bytes: u64, step: Step) -> Result<f64, BenchError> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    let address = listener.local_addr()?;
    let sender = std::thread::spawn(move || send(address, bytes));
    let (mut socket, _) = listener.accept()?;
    let mut file = step
        .write
        .then(|| tempfile::tempfile_in(store_dir))
        .transpose()?;
    let mut digester = step.hash.then(Digester::sha256);
    let mut buffer = vec![0; RECEIVE_BUFFER];
    let mut received = 0u64;
    let start = thread_cpu_seconds()?;
    loop {
        let count = socket.read(&mut buffer)?;
        if count == 0 {
            break;
        }
        let chunk = &buffer[..count];
        if let Some(digester) = &mut digester {
            digester.update(chunk);
        }
        if let Some(file) = &mut file {
            file.write_all(chunk)?;
        }
        received += count as u64;
    }
    if let Some(file) = &file {
        file.sync_data()?;
    }
    let spent = thread_cpu_seconds()? - start;
    if let Some(digester) = digester {
        // Finishing is part of the hashing a server does; the digest itself is not needed.
        let _ = digester.finish();
    }
    let sent = sender
        .join()
        .map_err(|_| std::io::Error::other("the sending thread panicked"))??;
    if received != sent {
        return Err(BenchError::ShortPull {
            url: format!("tcp://{address}"),
            expected: sent,
            received,
        });
    }
    Ok(seconds_per_gib(spent, bytes))
}

/// Writes `bytes` bytes to `address` and closes the connection; returns how many went out.
fn send(address: SocketAddr, bytes: u64) -> std::io::Result<u64> {
    let mut socket = TcpStream::connect(address)?;
    let buffer = vec![0x5a; SEND_BUFFER];
    let mut sent = 0u64;
    while sent < bytes {
        let count = (bytes - sent).min(SEND_BUFFER as u64) as usize;
        socket.write_all(&buffer[..count])?;
        sent += count as u64;
    }
    Ok(sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_receives_every_byte_sent() {
        // `receive_once` fails when the counts differ.
        let folder = tempfile::tempdir().unwrap();
        let seconds = measure(folder.path(), 8 * 1024 * 1024 + 1, 1).unwrap();
        assert_eq!(seconds.len(), Step::ALL.len());
        assert!(seconds.iter().all(|s| s.is_finite()), "{seconds:?}");
    }

    #[test]
    fn labels_name_each_step_once() {
        let labels: std::collections::HashSet<_> = Step::ALL.iter().map(|s| s.label()).collect();
        assert_eq!(labels.len(), Step::ALL.len());
    }
}
