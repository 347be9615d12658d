//! Garbage collection: an online mark-and-sweep over any [`Storage`].
//!
//! **Mark** walks every repository: its manifests (with `untagged`, only the tagged ones,
//! those younger than the grace period, the children of kept indexes and the referrers of
//! kept manifests) and everything they reference (config, layers, index children, the
//! manifests' own content).
//!
//! **Sweep** then removes, each only when older than the grace period:
//! - with `untagged`, the manifests mark did not keep (record, tags, referrers entry);
//! - blobs no kept manifest references, and the repository links that pointed at them;
//! - upload sessions nobody has written to.
//!
//! The grace period is what makes this safe to run while the registry serves: a push
//! uploads its blobs before the manifest that references them, so young blobs are always
//! kept. One window remains: a manifest pushed during the sweep that references an *old*,
//! so far unreferenced blob can lose it; run collection while pushes are paused when that
//! matters.

mod grace;
mod mark;
mod sweep;

use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use oci_digest::Digest;

pub use self::grace::parse_duration;
use crate::{error::Error, storage::Storage, store::Store};

/// How a collection runs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GcOptions {
    /// Nothing younger than this is removed. Default: one hour.
    pub grace: Duration,
    /// Also remove manifests that no tag reaches (directly, as an index child, or as a
    /// referrer of a kept manifest). Default: off.
    pub untagged: bool,
    /// Report what would be removed without removing anything. Default: off.
    pub dry_run: bool,
    /// The time ages are measured against. Default: now.
    pub now: SystemTime,
}

impl Default for GcOptions {
    fn default() -> Self {
        Self {
            grace: Duration::from_secs(3600),
            untagged: false,
            dry_run: false,
            now: SystemTime::now(),
        }
    }
}

impl GcOptions {
    /// Sets the grace period.
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Turns removal of untagged manifests on or off.
    pub fn with_untagged(mut self, untagged: bool) -> Self {
        self.untagged = untagged;
        self
    }

    /// Turns the dry run on or off.
    pub fn with_dry_run(mut self, dry_run: bool) -> Self {
        self.dry_run = dry_run;
        self
    }

    /// Measures ages against `now` instead of the current time.
    pub fn with_now(mut self, now: SystemTime) -> Self {
        self.now = now;
        self
    }

    /// Whether something written at `modified` is past the grace period.
    fn expired(&self, modified: SystemTime) -> bool {
        self.now
            .duration_since(modified)
            .is_ok_and(|age| age >= self.grace)
    }
}

/// A manifest removed from a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovedManifest {
    /// The repository.
    pub repository: String,
    /// The manifest.
    pub digest: Digest,
}

/// A blob removed from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovedBlob {
    /// The blob.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
}

/// What a collection removed (or, in a dry run, would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Untagged manifests.
    pub manifests: Vec<RemovedManifest>,
    /// Unreferenced blobs.
    pub blobs: Vec<RemovedBlob>,
    /// Repository links to removed or missing blobs, as `(repository, digest)`.
    pub links: Vec<(String, Digest)>,
    /// Abandoned upload sessions, by id.
    pub uploads: Vec<String>,
    /// Unreferenced blobs kept because they are younger than the grace period.
    pub young_blobs: usize,
    /// Whether this was a dry run.
    pub dry_run: bool,
}

impl GcReport {
    /// The bytes the removed blobs held.
    pub fn bytes_freed(&self) -> u64 {
        self.blobs.iter().map(|b| b.size).sum()
    }
}

/// Collects garbage in `storage`. See the [module docs](self).
pub async fn collect_garbage(
    storage: Arc<dyn Storage>,
    options: &GcOptions,
) -> Result<GcReport, Error> {
    let store = Store::new(storage);
    let marked = mark::mark(&store, options).await?;
    let mut report = GcReport {
        dry_run: options.dry_run,
        ..GcReport::default()
    };
    sweep::sweep(&store, &marked, options, &mut report).await?;
    Ok(report)
}
