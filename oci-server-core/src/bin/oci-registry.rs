//! `oci-registry`: an OCI distribution registry on a local filesystem store.
//!
//! Prints exactly one line, `oci-registry listening on http://<addr>`, to standard output once
//! the socket is bound (so `--listen 127.0.0.1:0` tells the port it got); logs go to standard
//! error (`RUST_LOG`, default `info`). SIGINT or SIGTERM stop it gracefully.

use std::{
    io::{IsTerminal, Write},
    net::SocketAddr,
    path::PathBuf,
    process::ExitCode,
    sync::Arc,
};

use clap::Parser;
use oci_server_core::{
    Anonymous, Authorizer, BasicAuthorizer, DEFAULT_MAX_MANIFEST_SIZE, Registry, RegistryConfig,
    auth::{AuthConfig, AuthConfigError},
    serve,
    storage::{Key, open_location},
};
use tracing_subscriber::EnvFilter;

/// An OCI distribution-spec registry on a local filesystem store.
#[derive(Debug, Parser)]
#[command(name = "oci-registry", version)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:5000")]
    listen: SocketAddr,
    /// Folder of a filesystem store (created when missing); the same as `--storage DIR`.
    #[arg(long, conflicts_with = "storage")]
    root: Option<PathBuf>,
    /// Where content lives: a folder, or an object store URL such as `s3://bucket/prefix`
    /// (configured from `AWS_ENDPOINT_URL`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    /// `AWS_REGION`, `AWS_ALLOW_HTTP`). Default: `./data`.
    #[arg(long)]
    storage: Option<String>,
    /// Allow deleting tags, manifests and blobs.
    #[arg(long)]
    delete: bool,
    /// Largest manifest accepted, in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_MANIFEST_SIZE)]
    max_manifest_size: u64,
    /// Announce this minimum chunk length (`OCI-Chunk-Min-Length`) to chunked uploads.
    #[arg(long)]
    chunk_min_length: Option<u64>,
    /// Require HTTP Basic credentials of a user of this htpasswd file (bcrypt entries, as
    /// `htpasswd -B` writes them); every such user may do everything.
    #[arg(long, conflicts_with = "auth_config")]
    htpasswd: Option<PathBuf>,
    /// Token authentication with per-repository grants from this TOML (or `.json`) file; the
    /// registry serves the token endpoint itself at `/token`.
    #[arg(long)]
    auth_config: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
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
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "oci-registry stopped");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let config = RegistryConfig::default()
        .with_delete(args.delete)
        .with_max_manifest_size(args.max_manifest_size)
        .with_chunk_min_length(args.chunk_min_length);
    let location = match (&args.storage, &args.root) {
        (Some(location), _) => location.clone(),
        (None, Some(root)) => root.display().to_string(),
        (None, None) => "./data".to_owned(),
    };
    let storage = open_location(&location).await?;
    // Fail at start, not at the first request, when the store cannot be reached.
    storage.meta_list(&Key::repositories()).await?;
    let registry = Registry::new(storage, config).with_authorizer(authorizer(&args)?);
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "oci-registry listening on http://{addr}")?;
        stdout.flush()?;
    }
    tracing::info!(%addr, storage = %location, delete = args.delete, "serving");
    serve(listener, registry, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// The authorizer the flags ask for: htpasswd Basic, the token issuer, or none.
fn authorizer(args: &Args) -> Result<Arc<dyn Authorizer>, AuthConfigError> {
    Ok(match (&args.htpasswd, &args.auth_config) {
        (Some(file), _) => Arc::new(BasicAuthorizer::from_htpasswd_file(file)?),
        (None, Some(file)) => Arc::new(AuthConfig::load(file)?.into_authorizer()?),
        (None, None) => Arc::new(Anonymous),
    })
}

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT: shutting down"),
        () = terminate => tracing::info!("SIGTERM: shutting down"),
    }
}
