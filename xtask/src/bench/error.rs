//! Why a benchmark could not run to the end.

use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

use reqwest::StatusCode;

use crate::error::XtaskError;

/// A failure that stops `cargo xtask bench`. A slow result is never an error: it is reported in
/// the table, with its target marked as missed.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Building or starting a binary failed (see [`XtaskError`]).
    #[error(transparent)]
    Xtask(#[from] XtaskError),
    /// A request could not be sent or its answer not read.
    #[error("{step}: request to {url} failed: {source}")]
    Http {
        /// What the benchmark was doing.
        step: &'static str,
        /// The URL asked.
        url: String,
        /// What reqwest said.
        source: reqwest::Error,
    },
    /// A request was answered with an unexpected status.
    #[error("{step}: {url} answered {status}, expected {expected}")]
    Status {
        /// What the benchmark was doing.
        step: &'static str,
        /// The URL asked.
        url: String,
        /// The status received.
        status: StatusCode,
        /// The status the protocol requires.
        expected: StatusCode,
    },
    /// An upload answer without a `Location` we can follow.
    #[error("{step}: the answer from {url} has no usable Location header")]
    NoLocation {
        /// What the benchmark was doing.
        step: &'static str,
        /// The URL asked.
        url: String,
    },
    /// A pulled blob differs from the one pushed (size or digest).
    #[error("the pulled blob does not match the pushed one: {0}")]
    Verify(#[source] oci_digest::DigestError),
    /// An answer the counting pull could not read as a `200` with a body.
    #[error("{url}: {reason}")]
    BadAnswer {
        /// The URL asked.
        url: String,
        /// What was wrong with the answer.
        reason: String,
    },
    /// A pulled blob ended before (or ran past) the size pushed.
    #[error("{url} sent {received} bytes of a {expected}-byte blob")]
    ShortPull {
        /// The URL asked.
        url: String,
        /// The size pushed.
        expected: u64,
        /// The bytes that arrived.
        received: u64,
    },
    /// A peer did not answer `GET /v2/` within the start-up allowance.
    #[error("{peer} did not become ready within {waited:?}; see {log}")]
    NotReady {
        /// The peer's name.
        peer: &'static str,
        /// How long we waited.
        waited: Duration,
        /// Where its output went.
        log: PathBuf,
    },
    /// A peer exited while starting.
    #[error("{peer} exited while starting ({status}); see {log}")]
    Exited {
        /// The peer's name.
        peer: &'static str,
        /// How it exited.
        status: ExitStatus,
        /// Where its output went.
        log: PathBuf,
    },
    /// `/proc/<pid>/status` has no `VmHWM` line (not Linux, or the process is gone).
    #[error("/proc/{pid}/status has no VmHWM line")]
    NoPeakRss {
        /// The server's process id.
        pid: u32,
    },
    /// `/proc/<pid>/stat` has no readable CPU times (not Linux, or the process is gone).
    #[error("/proc/{pid}/stat has no readable utime and stime")]
    NoCpuTime {
        /// The server's process id.
        pid: u32,
    },
    /// A load-generator task panicked or was cancelled.
    #[error("a load-generator task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// Any other I/O failure (temporary directories, logs, `/proc`).
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}
