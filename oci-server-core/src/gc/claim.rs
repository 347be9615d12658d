//! The sweep's half of the liveness protocol (the registry's half, and the protocol itself,
//! are in `store::liveness`): claim, look again, remove only what is still old, release.

use std::time::{Instant, SystemTime};

use super::GcOptions;
use crate::{
    error::Error,
    storage::Storage,
    store::liveness::{CLAIM_LIMIT, Subject},
};

/// A claim written on something the sweep found old, until [`release`](Claim::release).
pub(super) struct Claim<'a> {
    storage: &'a dyn Storage,
    subject: Subject<'a>,
    taken: Instant,
}

impl<'a> Claim<'a> {
    /// Writes the claim. Requests that acknowledge `subject` from now on wait for it.
    pub(super) async fn take(
        storage: &'a dyn Storage,
        subject: Subject<'a>,
    ) -> Result<Claim<'a>, Error> {
        storage.marker_put(&subject.claim()).await?;
        Ok(Self {
            storage,
            subject,
            taken: Instant::now(),
        })
    }

    /// Whether the subject's liveness mark is still past the grace period (or absent). Read
    /// after the claim was written, so a request that marked it before seeing the claim is
    /// seen here.
    pub(super) async fn mark_is_old(&self, options: &GcOptions) -> Result<bool, Error> {
        Ok(self
            .storage
            .meta_modified(&self.subject.mark())
            .await?
            .is_none_or(|marked| options.expired(marked)))
    }

    /// Whether the claim is still young enough to act on: requests give up waiting for a
    /// claim (as left by a dead collector) long after this limit.
    pub(super) fn in_time(&self) -> bool {
        self.taken.elapsed() < CLAIM_LIMIT
    }

    /// Removes the subject's liveness mark (it is being removed itself).
    pub(super) async fn remove_mark(&self) -> Result<(), Error> {
        self.storage.marker_delete(&self.subject.mark()).await?;
        Ok(())
    }

    /// Ends the claim; waiting requests go on.
    pub(super) async fn release(self) -> Result<(), Error> {
        self.storage.marker_delete(&self.subject.claim()).await?;
        Ok(())
    }
}

/// Whether `modified` is past the grace period; a missing time counts as past.
pub(super) fn old(options: &GcOptions, modified: Option<SystemTime>) -> bool {
    modified.is_none_or(|m| options.expired(m))
}
