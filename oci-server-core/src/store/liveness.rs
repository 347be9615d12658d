//! The registry's half of the garbage collector's liveness protocol.
//!
//! Whatever the registry acknowledges must outlive a sweep that runs at the same time, in this
//! process or another one sharing the store. "Acknowledged" is: every 201 of an upload (also
//! when the blob already existed), every mount, every blob `HEAD`/`GET` 200 in a repository
//! (clients skip uploads on it), every blob a manifest `PUT` names, and every upload session
//! while a request holds it. The protocol:
//!
//! - **Marks.** Acknowledging a blob writes its mark (`gc/live/blobs/...`); a request on an
//!   upload writes the session's mark and rewrites it every [`heartbeat`](Liveness::heartbeat)
//!   while the request lasts. A sweep removes nothing whose content, state or mark is younger
//!   than its cutoff (its start minus the grace period).
//! - **Claims.** Before removing anything, a sweep writes a claim (`gc/claims/...`), then reads
//!   the marks and times again, and removes only when they are still old. A request writes
//!   its mark (or its link), then looks for a claim. Both write before they read, so with a
//!   store that reads its own writes (a filesystem, S3) at least one sees the other: either
//!   the sweep sees the fresh mark and keeps the thing, or the request sees the claim, waits
//!   for the sweep to finish with it, and looks at the store again (where the blob is gone
//!   and is then treated as absent, or is still there and now safe).
//! - **Cost.** A blob mark is written at most once per `refresh` interval per process (a
//!   small in-memory table remembers the rest), so a hot blob's reads cost no extra store
//!   request most of the time. The price: a read answered from the table keeps the blob for
//!   the grace period minus `refresh`, which is why the grace must exceed the refresh.
//! - **Abandoned claims.** A sweep gives a claim up after [`CLAIM_LIMIT`]; a request treats a
//!   claim older than [`ABANDONED_CLAIM`] as left by a crashed collector and removes it.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
    time::{Duration, Instant, SystemTime},
};

use bytes::Bytes;
use oci_digest::Digest;

use super::Store;
use crate::{
    error::Error,
    names::{RepoName, UploadId},
    storage::Key,
};

/// How long a sweep may take between writing a claim and removing what it claimed; past it,
/// the sweep leaves the thing alone.
pub(crate) const CLAIM_LIMIT: Duration = Duration::from_secs(30);

/// A claim older than this was left by a collector that died: requests remove it.
pub(crate) const ABANDONED_CLAIM: Duration = Duration::from_secs(300);

/// How often a waiting request looks whether a sweep has released its claim.
const CLAIM_POLL: Duration = Duration::from_millis(20);

/// The shortest interval between two heartbeats of an upload in progress.
const MIN_HEARTBEAT: Duration = Duration::from_millis(250);

/// The remembered marks hold at most this many blobs before the stale ones are dropped.
const REMEMBERED_MARKS: usize = 100_000;

/// What the registry may remove after a sweep's claim: a blob, or an upload session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Subject<'a> {
    Blob(&'a Digest),
    Upload(&'a UploadId),
}

impl Subject<'_> {
    pub(crate) fn mark(&self) -> Key {
        match self {
            Subject::Blob(digest) => Key::live_blob(digest),
            Subject::Upload(id) => Key::live_upload(id),
        }
    }

    pub(crate) fn claim(&self) -> Key {
        match self {
            Subject::Blob(digest) => Key::claimed_blob(digest),
            Subject::Upload(id) => Key::claimed_upload(id),
        }
    }
}

/// Per-process state of the protocol: the refresh interval and the marks written recently.
#[derive(Debug)]
pub(crate) struct Liveness {
    refresh: Duration,
    marked: Mutex<HashMap<Digest, Instant>>,
}

impl Liveness {
    pub(crate) fn new(refresh: Duration) -> Self {
        Self {
            refresh,
            marked: Mutex::default(),
        }
    }

    /// How often an upload in progress rewrites its mark.
    pub(crate) fn heartbeat(&self) -> Duration {
        self.refresh.max(MIN_HEARTBEAT)
    }

    fn recently_marked(&self, digest: &Digest) -> bool {
        let marked = self.marked.lock().unwrap_or_else(PoisonError::into_inner);
        marked
            .get(digest)
            .is_some_and(|at| at.elapsed() < self.refresh)
    }

    fn remember(&self, digest: &Digest) {
        if self.refresh.is_zero() {
            return;
        }
        let mut marked = self.marked.lock().unwrap_or_else(PoisonError::into_inner);
        if marked.len() >= REMEMBERED_MARKS {
            marked.retain(|_, at| at.elapsed() < self.refresh);
        }
        marked.insert(digest.clone(), Instant::now());
    }
}

/// Whether acknowledging a blob went through, or met a sweep's claim (now released) so the
/// store must be looked at again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kept {
    Yes,
    AfterClaim,
}

/// Acknowledging rounds before a blob that sweeps keep claiming is treated as absent; a
/// fresh mark stops every later sweep, so a second round is already rare.
const KEEP_ROUNDS: usize = 8;

impl Store {
    /// The size of a blob when it is linked into `name` and present, acknowledged so that a
    /// sweep cannot remove it (see the [module docs](self)).
    pub async fn blob_size(&self, name: &RepoName, digest: &Digest) -> Result<Option<u64>, Error> {
        for _ in 0..KEEP_ROUNDS {
            let Some(size) = self.linked_blob_size(name, digest).await? else {
                return Ok(None);
            };
            if self.keep(digest).await? == Kept::Yes {
                return Ok(Some(size));
            }
        }
        Ok(None)
    }

    /// Acknowledges a blob when the store holds it (in any repository); `false` when it does
    /// not, and the caller must write it.
    pub(crate) async fn keep_if_present(&self, digest: &Digest) -> Result<bool, Error> {
        for _ in 0..KEEP_ROUNDS {
            if self.storage.blob_size(digest).await?.is_none() {
                return Ok(false);
            }
            if self.keep(digest).await? == Kept::Yes {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Makes a stored blob visible in `name`. A sweep removing links of missing blobs may
    /// hold a claim on it: the link is written again once the claim is released.
    pub async fn link_blob(&self, name: &RepoName, digest: &Digest) -> Result<(), Error> {
        self.register_repository(name).await?;
        let key = Key::layer_link(name, digest);
        let link = Bytes::from(digest.as_str().to_owned());
        loop {
            self.storage.meta_put(&key, link.clone()).await?;
            if !self.wait_for_claim(&Subject::Blob(digest)).await? {
                return Ok(());
            }
        }
    }

    /// Writes the mark of a blob the caller found, then looks for a claim.
    async fn keep(&self, digest: &Digest) -> Result<Kept, Error> {
        if self.liveness.recently_marked(digest) {
            return Ok(Kept::Yes);
        }
        let subject = Subject::Blob(digest);
        self.storage.meta_put(&subject.mark(), Bytes::new()).await?;
        if self.wait_for_claim(&subject).await? {
            return Ok(Kept::AfterClaim);
        }
        self.liveness.remember(digest);
        Ok(Kept::Yes)
    }

    /// Marks an upload session as held by a request, waiting out a sweep's claim on it (the
    /// session may be gone afterwards). Returns the heartbeat that keeps the mark fresh while
    /// the request lasts.
    pub(super) async fn hold_upload(&self, id: &UploadId) -> Result<Heartbeat, Error> {
        let subject = Subject::Upload(id);
        let mark = subject.mark();
        // Not durable: the mark matters only while this request runs, and a crash ends it.
        self.storage.marker_put(&mark).await?;
        self.wait_for_claim(&subject).await?;
        let storage = self.storage_arc();
        let period = self.liveness.heartbeat();
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            loop {
                ticks.tick().await;
                if let Err(e) = storage.marker_put(&mark).await {
                    tracing::warn!(error = %e, "cannot refresh an upload's liveness mark");
                }
            }
        });
        Ok(Heartbeat(task))
    }

    /// Removes the mark of an upload session that has ended (and gives its place under the
    /// upload caps back).
    pub(super) async fn forget_upload(&self, id: &UploadId) -> Result<(), Error> {
        self.upload_slots.release(id);
        // A removal lost in a crash leaves a stale mark, which the next sweep removes.
        self.storage
            .marker_delete(&Subject::Upload(id).mark())
            .await?;
        Ok(())
    }

    /// Waits while a sweep holds a claim on `subject`; `true` when there was one.
    async fn wait_for_claim(&self, subject: &Subject<'_>) -> Result<bool, Error> {
        let claim = subject.claim();
        let mut waited = false;
        while let Some(claimed) = self.storage.meta_modified(&claim).await? {
            let age = SystemTime::now()
                .duration_since(claimed)
                .unwrap_or_default();
            if age > ABANDONED_CLAIM {
                tracing::warn!(claim = %claim.to_path_string(), "removing a claim left by a collector that stopped");
                self.storage.marker_delete(&claim).await?;
                break;
            }
            waited = true;
            tokio::time::sleep(CLAIM_POLL).await;
        }
        Ok(waited)
    }
}

/// Rewrites an upload's mark until dropped.
#[derive(Debug)]
pub(super) struct Heartbeat(tokio::task::JoinHandle<()>);

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}
