//! The watch that reloads a [`Tls`] when its files change.

use std::{path::Path, time::SystemTime};

use super::Tls;

/// What identifies a version of a file: its modification time and length (`None` while it
/// cannot be read, for example between a delete and a rename).
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// Reloads `tls` whenever its certificate, key or client CA file changes, checking every
/// reload interval; runs until dropped. A failed reload (say the certificate was replaced but
/// not yet its key) keeps the old configuration and is tried again at the next change.
pub(super) async fn watch_files(tls: Tls) {
    let interval = tls.files().reload_interval();
    if interval.is_zero() {
        return;
    }
    let files = tls.files();
    let stamps = || {
        let client_ca = files.client_ca().map(stamp);
        (stamp(files.cert()), stamp(files.key()), client_ca)
    };
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
