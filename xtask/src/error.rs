//! The error type shared by the tasks.

use std::path::PathBuf;
use std::process::ExitStatus;

/// Why a task could not run to the end. A task that ran but found failures (failed conformance
/// cases, a crate that does not package) is not an error: it reports and exits non-zero.
#[derive(Debug, thiserror::Error)]
pub enum XtaskError {
    /// The command line was not understood; carries the usage text to print.
    #[error("{0}")]
    Usage(String),
    /// A command could not be started at all.
    #[error("could not start `{command}`: {source}")]
    Spawn {
        /// The command line, for the reader.
        command: String,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A command ran and exited unsuccessfully.
    #[error("`{command}` failed ({status})")]
    CommandFailed {
        /// The command line, for the reader.
        command: String,
        /// How it exited.
        status: ExitStatus,
    },
    /// `cargo build` succeeded but did not name the binary we asked for.
    #[error("cargo did not report an executable for binary `{binary}`")]
    BinaryNotFound {
        /// The binary asked for.
        binary: String,
    },
    /// The registry process ended before printing its address.
    #[error("the registry exited before announcing its address ({status:?}); see {log}")]
    ServerExited {
        /// Its exit status, when known.
        status: Option<ExitStatus>,
        /// Where its standard error went.
        log: PathBuf,
    },
    /// The registry's first line of output was not `oci-registry listening on http://<addr>`.
    #[error("unexpected first line from the registry: {line:?}")]
    BadAnnouncement {
        /// The line it printed.
        line: String,
    },
    /// A peer server the task starts (such as moto) did not come up as expected.
    #[error("{peer}: {reason}")]
    Peer {
        /// Which peer, and where.
        peer: String,
        /// What went wrong.
        reason: String,
    },
    /// A registry URL that does not parse.
    #[error("invalid registry URL {url:?}: {reason}")]
    BadUrl {
        /// The URL given.
        url: String,
        /// The parser's reason.
        reason: String,
    },
    /// A CA certificate file (`--ca-file`) that cannot be used.
    #[error("cannot use the CA certificates in {path}: {reason}")]
    CaFile {
        /// The file given.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The official conformance binary left no report we can read.
    #[error("cannot read the conformance report {path}: {reason}")]
    Report {
        /// The report path.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The test certificate for `conformance --tls` could not be made.
    #[error("cannot make the test certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    /// Any other I/O failure (temporary directories, log files).
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}
