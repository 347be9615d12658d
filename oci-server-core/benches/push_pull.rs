//! Push and pull one big blob through the `oci-registry` binary and report throughput and the
//! server's peak memory (`VmHWM`).
//!
//! ```sh
//! cargo bench -p oci-server-core --bench push_pull            # 1 GiB
//! OCI_BENCH_MIB=256 OCI_BENCH_DIR=/dev/shm cargo bench -p oci-server-core --bench push_pull
//! ```
//!
//! The content comes from a deterministic generator, produced chunk by chunk as it is sent and
//! compared chunk by chunk as it comes back: the client never holds the blob either.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::Instant,
};

use bytes::Bytes;
use futures_util::StreamExt;
use oci_digest::{Digest, Digester};

const CHUNK: usize = 1 << 20;

/// Kills the server when the bench ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Chunk `index` of the test content: xorshift output seeded by the index.
fn chunk(index: usize) -> Bytes {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ (index as u64 + 1);
    let mut data = Vec::with_capacity(CHUNK);
    while data.len() < CHUNK {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        data.extend_from_slice(&state.to_le_bytes());
    }
    Bytes::from(data)
}

/// A line of `/proc/<pid>/status`, in kB.
fn proc_status_kb(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status.lines().find_map(|line| {
                line.strip_prefix(field)
                    .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            })
        })
        .unwrap_or(0)
}

fn mib_per_s(bytes: u64, seconds: f64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / seconds
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mib: usize = std::env::var("OCI_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let size = (mib * CHUNK) as u64;
    // OCI_BENCH_DIR picks the filesystem of the store (default: the system temp folder).
    let root = match std::env::var_os("OCI_BENCH_DIR") {
        Some(dir) => tempfile::tempdir_in(dir)?,
        None => tempfile::tempdir()?,
    };
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_oci-registry"))
            .args(["--listen", "127.0.0.1:0", "--root"])
            .arg(root.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()?,
    );
    let pid = server.0.id();
    let mut line = String::new();
    BufReader::new(server.0.stdout.take().ok_or("no stdout")?).read_line(&mut line)?;
    let base = line
        .trim()
        .strip_prefix("oci-registry listening on ")
        .ok_or("unexpected first line")?
        .to_owned();
    let idle_kb = proc_status_kb(pid, "VmRSS:");

    // The digest is needed up front for a monolithic push: hash the generator once, untimed.
    let mut digester = Digester::sha256();
    for index in 0..mib {
        digester.update(&chunk(index));
    }
    let digest: Digest = digester.finish();

    let http = reqwest::Client::new();
    let started = Instant::now();
    let body = reqwest::Body::wrap_stream(futures_util::stream::iter(
        (0..mib).map(|index| Ok::<_, std::io::Error>(chunk(index))),
    ));
    let pushed = http
        .post(format!("{base}/v2/bench/blobs/uploads/?digest={digest}"))
        .body(body)
        .send()
        .await?;
    let push_seconds = started.elapsed().as_secs_f64();
    if pushed.status() != reqwest::StatusCode::CREATED {
        return Err(format!("push failed: {} {}", pushed.status(), pushed.text().await?).into());
    }

    let started = Instant::now();
    let pulled = http
        .get(format!("{base}/v2/bench/blobs/{digest}"))
        .send()
        .await?;
    let mut stream = pulled.bytes_stream();
    let (mut received, mut expected, mut index) = (0u64, Bytes::new(), 0usize);
    while let Some(part) = stream.next().await {
        let mut part = part?;
        received += part.len() as u64;
        while !part.is_empty() {
            if expected.is_empty() {
                expected = chunk(index);
                index += 1;
            }
            let n = part.len().min(expected.len());
            if part.split_to(n) != expected.split_to(n) {
                return Err("pulled content differs from what was pushed".into());
            }
        }
    }
    let pull_seconds = started.elapsed().as_secs_f64();
    if received != size {
        return Err(format!("pulled {received} bytes, expected {size}").into());
    }

    let peak_kb = proc_status_kb(pid, "VmHWM:");
    println!("push_pull: {mib} MiB blob through oci-registry (release, filesystem store)");
    println!(
        "  push (monolithic POST, streamed): {:>8.1} MiB/s  ({push_seconds:.2} s)",
        mib_per_s(size, push_seconds)
    );
    println!(
        "  pull (GET, streamed):             {:>8.1} MiB/s  ({pull_seconds:.2} s)",
        mib_per_s(size, pull_seconds)
    );
    println!(
        "  server RSS idle: {:.1} MiB, peak (VmHWM): {:.1} MiB",
        idle_kb as f64 / 1024.0,
        peak_kb as f64 / 1024.0
    );
    Ok(())
}
