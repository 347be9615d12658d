//! `oci-registry`: an OCI distribution registry on a local folder or an object store.
//!
//! `oci-registry [OPTIONS]` serves. It prints exactly one line,
//! `oci-registry listening on http://<addr>` (`https://` with `--tls-cert`), to standard
//! output once the socket is bound (so `--listen 127.0.0.1:0` tells the port it got); logs go
//! to standard error (`RUST_LOG`, default `info`). SIGINT or SIGTERM stop it gracefully;
//! SIGHUP reloads the TLS certificate and key.
//!
//! `oci-registry gc [OPTIONS]` collects garbage in a store and lists what it removed (or, with
//! `--dry-run`, would remove).

mod auth_args;
mod config_check;
mod config_file;
mod connection;
mod gc;
mod serve;

use std::{io::IsTerminal, path::PathBuf, process::ExitCode, sync::Arc};

use clap::{Args, CommandFactory, Parser, Subcommand};
use oci_server_core::{
    Storage, StorageError,
    storage::{Key, attach_location, open_location},
};
use tracing_subscriber::EnvFilter;

/// An OCI distribution-spec registry on a local folder or an object store.
#[derive(Debug, Parser)]
#[command(
    name = "oci-registry",
    version,
    args_conflicts_with_subcommands = true,
    args_override_self = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Read every serving setting from this TOML file (keys name flags: `listen`,
    /// `[tls] cert`, ...); flags and `OCI_REGISTRY_*` variables override it.
    #[arg(long, env = "OCI_REGISTRY_CONFIG")]
    config: Option<PathBuf>,
    /// Log lines as text, or as one JSON object per line (`json`).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "OCI_REGISTRY_LOG_FORMAT")]
    log_format: LogFormat,
    #[command(flatten)]
    serve: serve::ServeArgs,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// Human-readable text.
    Text,
    /// One JSON object per line, with every field (the access log's request id, user,
    /// repository, route, status, bytes and duration among them).
    Json,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Remove unreferenced blobs (and, with --untagged, untagged manifests) from a store.
    Gc(gc::GcArgs),
    /// Work with config files.
    #[command(subcommand)]
    Config(config_check::ConfigCommand),
}

/// Where the content lives.
#[derive(Debug, Clone, Args)]
struct StoreArgs {
    /// Folder of a filesystem store (created when missing); the same as `--storage DIR`.
    #[arg(long, conflicts_with = "storage")]
    root: Option<PathBuf>,
    /// Where content lives: a folder, or an object store URL such as `s3://bucket/prefix`
    /// (configured from `AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_REGION`, `AWS_ALLOW_HTTP`). Default: `./data`.
    #[arg(long)]
    storage: Option<String>,
}

impl StoreArgs {
    fn location(&self) -> String {
        match (&self.storage, &self.root) {
            (Some(location), _) => location.clone(),
            (None, Some(root)) => root.display().to_string(),
            (None, None) => "./data".to_owned(),
        }
    }

    /// Opens the store (as its owner, or as a guest beside a running server), failing now
    /// rather than at the first request when it cannot be reached.
    async fn open(&self, owner: bool) -> Result<Arc<dyn Storage>, StorageError> {
        let location = self.location();
        let storage = if owner {
            open_location(&location).await?
        } else {
            attach_location(&location).await?
        };
        storage.meta_list(&Key::repositories()).await?;
        Ok(storage)
    }
}

/// Parses a duration flag: `90s`, `30m`, `1h`, `2d`, `1h30m`, or bare seconds.
fn duration(text: &str) -> Result<std::time::Duration, String> {
    oci_server_core::gc::parse_duration(text)
        .ok_or_else(|| format!("{text:?} is not a duration like 30s, 30m, 1h or 2d"))
}

/// The command line, with the settings of `--config FILE` in front when serving.
fn arguments() -> Result<Vec<std::ffi::OsString>, config_file::ConfigFileError> {
    let arguments: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let subcommand = arguments
        .get(1)
        .is_some_and(|first| first == "gc" || first == "config");
    match config_file::config_path(arguments.get(1..).unwrap_or_default()) {
        Some(path) if !subcommand => {
            let command = Cli::command();
            let settings = config_file::read(&path, &command)?;
            Ok(config_file::with_settings(arguments, &settings, &command))
        }
        _ => Ok(arguments),
    }
}

/// A duration flag whose default is a library constant: shown in `--help` as the flags spell
/// durations (`2m`, `30s`) and parsed like [`duration`].
#[derive(Debug, Clone, Copy)]
struct FlagDuration(std::time::Duration);

impl std::str::FromStr for FlagDuration {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        duration(text).map(FlagDuration)
    }
}

impl std::fmt::Display for FlagDuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let seconds = self.0.as_secs();
        match seconds {
            0 => write!(f, "0s"),
            _ if seconds.is_multiple_of(3600) => write!(f, "{}h", seconds / 3600),
            _ if seconds.is_multiple_of(60) => write!(f, "{}m", seconds / 60),
            _ => write!(f, "{seconds}s"),
        }
    }
}

fn main() -> ExitCode {
    let cli = match arguments() {
        Ok(arguments) => Cli::parse_from(arguments),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let cli = match cli.command {
        Some(Command::Config(command)) => {
            return match config_check::run(command) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            };
        }
        _ => cli,
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match cli.command {
        Some(Command::Gc(args)) => runtime.block_on(gc::run(args)),
        Some(Command::Config(_)) => Ok(()),
        None => runtime.block_on(serve::run(cli.serve)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "oci-registry stopped");
            ExitCode::FAILURE
        }
    }
}
