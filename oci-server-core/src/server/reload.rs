//! The swappable certificate behind [`Tls`](super::Tls), and the watch that reloads it when
//! its files change.

use std::{
    fmt,
    path::Path,
    sync::{Arc, PoisonError, RwLock},
    time::SystemTime,
};

use tokio_rustls::rustls::{
    server::{ClientHello, ResolvesServerCert},
    sign::CertifiedKey,
};

use super::Tls;

/// Serves whatever certificate it holds at the moment of each handshake.
pub(super) struct ReloadingCert {
    current: RwLock<Arc<CertifiedKey>>,
}

impl ReloadingCert {
    pub(super) fn new(certified: CertifiedKey) -> Self {
        Self {
            current: RwLock::new(Arc::new(certified)),
        }
    }

    /// New handshakes get `certified`; connections already set up keep theirs.
    pub(super) fn replace(&self, certified: CertifiedKey) {
        // A panic cannot leave the slot half-written: it holds one `Arc`.
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(certified);
    }
}

impl ResolvesServerCert for ReloadingCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(
            &self.current.read().unwrap_or_else(PoisonError::into_inner),
        ))
    }
}

impl fmt::Debug for ReloadingCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReloadingCert").finish_non_exhaustive()
    }
}

/// What identifies a version of a file: its modification time and length (`None` while it
/// cannot be read, for example between a delete and a rename).
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Reloads `tls` whenever its certificate or key file changes, checking every reload
/// interval; runs until dropped. A failed reload (say the certificate was replaced but not
/// yet its key) keeps the old certificate and is tried again at the next change.
pub(super) async fn watch_files(tls: Tls) {
    let interval = tls.files().reload_interval();
    if interval.is_zero() {
        return;
    }
    let stamps = || (stamp(tls.files().cert()), stamp(tls.files().key()));
    let mut seen = stamps();
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let now = stamps();
        if now == seen {
            continue;
        }
        seen = now;
        match tls.reload() {
            Ok(()) => tracing::info!(
                cert = %tls.files().cert().display(),
                "TLS certificate reloaded: its files changed"
            ),
            Err(e) => tracing::error!(
                error = %e,
                "TLS files changed but cannot be loaded; still serving the previous certificate"
            ),
        }
    }
}
