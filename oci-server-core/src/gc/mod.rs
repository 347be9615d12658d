//! Garbage collection: an online mark-and-sweep over any [`Storage`], safe to run while
//! registries (in this process or others sharing the store) serve.
//!
//! **Mark** walks every repository: its manifests (with `untagged`, only the tagged ones,
//! those younger than the grace period, the children of kept indexes and the referrers of
//! kept manifests), everything they reference (config, layers, index children, the
//! manifests' own content), and which repositories link each blob.
//!
//! **Sweep** then removes, each only when older than the grace period:
//! - with `untagged`, the manifests mark did not keep (record, tags, referrers entry);
//! - blobs no kept manifest references, with their repository links;
//! - links to blobs the store does not hold;
//! - upload sessions nobody has held.
//!
//! "Older than the grace period" counts the liveness marks the registry writes whenever it
//! acknowledges something (a 201, a mount, a blob read, a manifest naming the blob, a request
//! on an upload), not only when content was written. Before each removal the sweep writes a
//! claim and reads those times again; a request that acknowledged the thing in between
//! either is seen then, or sees the claim and waits for it to end (the protocol is described
//! in `store::liveness`). So nothing the registry acknowledged within the grace period, minus
//! its liveness refresh interval, is ever removed, however requests and sweeps interleave.

mod claim;
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
