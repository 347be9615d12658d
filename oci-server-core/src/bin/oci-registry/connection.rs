//! The flags of the connection layer (TLS, timeouts, caps) and of the upload-session caps,
//! and SIGHUP reloading the certificate.

use std::{num::NonZeroUsize, path::PathBuf};

use clap::Args;
use oci_server_core::{
    ServeOptions, UploadLimits,
    server::{
        DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
        DEFAULT_MAX_CONNECTIONS, DEFAULT_TLS_RELOAD_INTERVAL, ServerError, Tls, TlsConfig,
    },
    upload_limits::{DEFAULT_MAX_UPLOAD_SESSIONS, DEFAULT_MAX_UPLOAD_SESSIONS_PER_REPOSITORY},
};

use crate::FlagDuration;

/// How connections are served.
#[derive(Debug, Args)]
pub(crate) struct ConnectionArgs {
    /// Serve HTTPS with this PEM certificate chain (leaf first); needs --tls-key.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert (RSA, ECDSA or Ed25519).
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Require client certificates issued by a CA of this PEM file (mutual TLS).
    #[arg(long, requires = "tls_cert")]
    tls_client_ca: Option<PathBuf>,
    /// Check the certificate, key and client CA files for changes this often and reload them
    /// (`0s`: only on SIGHUP).
    #[arg(long, default_value_t = FlagDuration(DEFAULT_TLS_RELOAD_INTERVAL))]
    tls_reload_interval: FlagDuration,
    /// Close a connection that sends no complete request head within this time (of its
    /// start, or of the end of its previous answer).
    #[arg(long, default_value_t = FlagDuration(DEFAULT_HEADER_READ_TIMEOUT))]
    header_read_timeout: FlagDuration,
    /// Close a connection that has had no request in flight for this long.
    #[arg(long, default_value_t = FlagDuration(DEFAULT_IDLE_TIMEOUT))]
    idle_timeout: FlagDuration,
    /// Drop a request whose body sends nothing for this long (an upload resumes from its last
    /// saved offset).
    #[arg(long, default_value_t = FlagDuration(DEFAULT_BODY_TIMEOUT))]
    body_timeout: FlagDuration,
    /// Serve at most this many connections at once; more wait in the listen backlog.
    #[arg(long, default_value_t = DEFAULT_MAX_CONNECTIONS)]
    max_connections: NonZeroUsize,
    /// Keep at most this many upload sessions open; more are answered 429.
    #[arg(long, default_value_t = DEFAULT_MAX_UPLOAD_SESSIONS)]
    max_upload_sessions: NonZeroUsize,
    /// Keep at most this many upload sessions open in one repository.
    #[arg(long, default_value_t = DEFAULT_MAX_UPLOAD_SESSIONS_PER_REPOSITORY)]
    max_upload_sessions_per_repository: NonZeroUsize,
}

impl ConnectionArgs {
    /// The TLS setup, loaded (so a bad file fails at start), when HTTPS is asked for.
    pub(crate) fn tls(&self) -> Result<Option<Tls>, ServerError> {
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else {
            return Ok(None);
        };
        let mut config = TlsConfig::new(cert, key).with_reload_interval(self.tls_reload_interval.0);
        if let Some(ca) = &self.tls_client_ca {
            config = config.with_client_ca(ca);
        }
        config.load().map(Some)
    }

    /// The connection layer's settings, serving `tls` when given.
    pub(crate) fn serve_options(&self, tls: Option<Tls>) -> Result<ServeOptions, ServerError> {
        let options = ServeOptions::default()
            .with_header_read_timeout(self.header_read_timeout.0)?
            .with_idle_timeout(self.idle_timeout.0)?
            .with_body_timeout(self.body_timeout.0)?
            .with_max_connections(self.max_connections);
        Ok(match tls {
            Some(tls) => options.with_tls(tls),
            None => options,
        })
    }

    /// The caps on open upload sessions.
    pub(crate) fn upload_limits(&self) -> UploadLimits {
        UploadLimits::default()
            .with_total(self.max_upload_sessions)
            .with_per_repository(self.max_upload_sessions_per_repository)
    }
}

/// Reloads `tls` on every SIGHUP, for as long as the server runs.
#[cfg(unix)]
pub(crate) fn reload_on_sighup(tls: Tls) -> std::io::Result<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = signal(SignalKind::hangup())?;
    Ok(tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            match tls.reload() {
                Ok(()) => tracing::info!("TLS certificate reloaded on SIGHUP"),
                Err(e) => tracing::error!(
                    error = %e,
                    "SIGHUP: cannot load the TLS files; still serving the previous certificate"
                ),
            }
        }
    }))
}
