//! Serving: the flags of the registry itself, its authorizer, and graceful shutdown.

use std::{io::Write, net::SocketAddr, time::Duration};

use clap::Args;
use oci_server_core::{
    DEFAULT_MAX_MANIFEST_SIZE, Registry, RegistryConfig,
    gc::{GcOptions, collect_garbage},
    serve_probes_with, serve_with,
    server::raise_open_file_limit,
};

use crate::{StoreArgs, auth_args::AuthArgs, connection::ConnectionArgs, duration};

/// How the registry serves.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:5000")]
    listen: SocketAddr,
    #[command(flatten)]
    store: StoreArgs,
    #[command(flatten)]
    connection: ConnectionArgs,
    /// Allow deleting tags, manifests and blobs.
    #[arg(long)]
    delete: bool,
    /// Largest manifest accepted, in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_MANIFEST_SIZE)]
    max_manifest_size: u64,
    /// Announce this minimum chunk length (`OCI-Chunk-Min-Length`) to chunked uploads.
    #[arg(long)]
    chunk_min_length: Option<u64>,
    /// Rewrite a blob's garbage-collection liveness mark at most this often when it is read
    /// (`0s`: on every read). What the registry acknowledged survives `oci-registry gc` for
    /// its grace period minus this interval, so keep it well below the grace.
    #[arg(long, env = "OCI_REGISTRY_LIVENESS_REFRESH", default_value = "1m", value_parser = duration)]
    liveness_refresh: Duration,
    /// Serve `/metrics`, `/healthz` and `/readyz` on this address instead of beside the API.
    #[arg(long, env = "OCI_REGISTRY_METRICS_LISTEN")]
    metrics_listen: Option<SocketAddr>,
    /// Collect garbage inside the server this often (`6h`, `1d`); off when not given.
    #[arg(long, env = "OCI_REGISTRY_GC_INTERVAL", value_parser = duration)]
    gc_interval: Option<Duration>,
    /// The grace period of the scheduled collections (see `oci-registry gc --grace`).
    #[arg(long, env = "OCI_REGISTRY_GC_GRACE", default_value = "1h", value_parser = duration)]
    gc_grace: Duration,
    /// Accept image manifests whose config or layers were never pushed (sparse images); by
    /// default they are refused with MANIFEST_BLOB_UNKNOWN.
    #[arg(long)]
    sparse_image: bool,
    /// Refuse a mount without `from` (a push that names a digest and no source repository
    /// then uploads); by default it mounts from any repository the caller's account may pull.
    #[arg(long)]
    no_automatic_mount: bool,
    #[command(flatten)]
    auth: AuthArgs,
    /// Mirror upstream registries as this TOML file configures (a pull-through cache).
    #[cfg(feature = "pull-through")]
    #[arg(long)]
    pull_through: Option<std::path::PathBuf>,
}

pub(crate) async fn run(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    let config = RegistryConfig::default()
        .with_delete(args.delete)
        .with_max_manifest_size(args.max_manifest_size)
        .with_chunk_min_length(args.chunk_min_length)
        .with_liveness_refresh(args.liveness_refresh)
        .with_probes(args.metrics_listen.is_none())
        .with_upload_limits(args.connection.upload_limits())
        .with_sparse_images(args.sparse_image)
        .with_automatic_cross_mount(!args.no_automatic_mount);
    let storage = args.store.open(true).await?;
    let registry = Registry::new(storage, config).with_authorizer(args.auth.authorizer()?);
    #[cfg(feature = "pull-through")]
    let registry = match &args.pull_through {
        Some(file) => {
            use oci_server_core::pull_through::{PullThrough, PullThroughConfig};
            let cache = PullThrough::new(PullThroughConfig::load(file)?)?;
            registry.with_pull_through(std::sync::Arc::new(cache))
        }
        None => registry,
    };
    match raise_open_file_limit() {
        Ok(limit) => tracing::debug!(limit, "open-file limit"),
        Err(e) => tracing::warn!(error = %e, "cannot raise the open-file limit"),
    }
    let tls = args.connection.tls()?;
    #[cfg(unix)]
    let _reloader = match &tls {
        Some(tls) => Some(AbortOnDrop(crate::connection::reload_on_sighup(
            tls.clone(),
        )?)),
        None => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let options = args.connection.serve_options(tls)?;
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let addr = listener.local_addr()?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "oci-registry listening on {scheme}://{addr}")?;
        stdout.flush()?;
    }
    if let Some(metrics_addr) = args.metrics_listen {
        let probes = tokio::net::TcpListener::bind(metrics_addr).await?;
        tracing::info!(addr = %probes.local_addr()?, scheme, "serving /metrics, /healthz and /readyz");
        // Ends with the process, after the API's graceful stop.
        let probes = serve_probes_with(
            probes,
            registry.clone(),
            options.clone(),
            std::future::pending(),
        );
        tokio::spawn(async move {
            if let Err(e) = probes.await {
                tracing::error!(error = %e, "the probe listener stopped");
            }
        });
    }
    if let Some(interval) = args.gc_interval {
        tokio::spawn(scheduled_gc(registry.clone(), interval, args.gc_grace));
    }
    let location = args.store.location();
    tracing::info!(%addr, scheme, storage = %location, delete = args.delete, "serving");
    serve_with(listener, registry, options, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Stops a background task when dropped.
#[cfg(unix)]
struct AbortOnDrop(tokio::task::JoinHandle<()>);

#[cfg(unix)]
impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Collects garbage every `interval`, counting each run in the registry's metrics.
async fn scheduled_gc(registry: Registry, interval: Duration, grace: Duration) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    loop {
        ticks.tick().await;
        let options = GcOptions::default().with_grace(grace);
        match collect_garbage(registry.storage(), &options).await {
            Ok(report) => {
                registry
                    .metrics()
                    .gc_finished(report.blobs.len() as u64, report.bytes_freed());
                tracing::info!(
                    blobs = report.blobs.len(),
                    bytes = report.bytes_freed(),
                    uploads = report.uploads.len(),
                    "scheduled garbage collection"
                );
            }
            Err(e) => tracing::error!(error = %e, "scheduled garbage collection failed"),
        }
    }
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
