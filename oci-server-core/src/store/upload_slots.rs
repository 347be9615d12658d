//! The count of open upload sessions behind [`UploadLimits`]: a session takes a place when it
//! starts and gives it back when it ends (see [`upload_limits`](crate::upload_limits) for
//! what is counted and why).

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use futures_util::{StreamExt, stream};
use tokio::time::Instant;

use super::Store;
use crate::{
    error::Error,
    log_limit::LimitLog,
    names::{RepoName, UploadId},
    storage::Key,
    upload_limits::UploadLimits,
};

static CAP_REACHED: LimitLog = LimitLog::new();

/// How often, at most, a full cap checks which counted sessions the store still holds.
const RECOUNT_INTERVAL: Duration = Duration::from_secs(10);

/// Sessions younger than this are not recounted: they may not have reached the store yet,
/// and garbage collection never removes a session that young.
const RECOUNT_MIN_AGE: Duration = Duration::from_secs(60);

/// Stores checked at once while recounting.
const RECOUNT_CONCURRENCY: usize = 16;

/// The sessions this process opened and has not seen end.
#[derive(Debug)]
pub(crate) struct UploadSlots {
    limits: UploadLimits,
    state: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    sessions: HashMap<UploadId, (RepoName, Instant)>,
    per_repository: HashMap<RepoName, usize>,
    last_recount: Option<Instant>,
}

/// Which cap a new session would exceed.
#[derive(Debug, Clone, Copy)]
enum Cap {
    Registry,
    Repository,
}

impl Open {
    /// The cap that a new session of `name` would exceed, if any.
    fn reached(&self, name: &RepoName, limits: &UploadLimits) -> Option<Cap> {
        let in_repository = self.per_repository.get(name).copied().unwrap_or(0);
        if in_repository >= limits.per_repository().get() {
            Some(Cap::Repository)
        } else if self.sessions.len() >= limits.total().get() {
            Some(Cap::Registry)
        } else {
            None
        }
    }

    fn remove(&mut self, id: &UploadId) {
        let Some((name, _)) = self.sessions.remove(id) else {
            return;
        };
        if let Some(count) = self.per_repository.get_mut(&name) {
            *count -= 1;
            if *count == 0 {
                self.per_repository.remove(&name);
            }
        }
    }
}

impl UploadSlots {
    pub(crate) fn new(limits: UploadLimits) -> Self {
        Self {
            limits,
            state: Mutex::default(),
        }
    }

    fn state(&self) -> MutexGuard<'_, Open> {
        // Each update finishes without calling out, so a panic cannot leave it half-done.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a place for `id` in `name`, or says which cap is reached.
    fn try_claim(&self, name: &RepoName, id: &UploadId) -> Result<(), Cap> {
        let mut open = self.state();
        if let Some(reached) = open.reached(name, &self.limits) {
            return Err(reached);
        }
        open.sessions
            .insert(id.clone(), (name.clone(), Instant::now()));
        *open.per_repository.entry(name.clone()).or_default() += 1;
        Ok(())
    }

    /// Gives the place of a session that ended back (nothing for one not counted).
    pub(crate) fn release(&self, id: &UploadId) {
        self.state().remove(id);
    }

    /// The counted sessions old enough to recount, when a recount is due.
    fn due_for_recount(&self) -> Option<Vec<UploadId>> {
        let mut open = self.state();
        let now = Instant::now();
        if open
            .last_recount
            .is_some_and(|last| now.duration_since(last) < RECOUNT_INTERVAL)
        {
            return None;
        }
        open.last_recount = Some(now);
        Some(
            open.sessions
                .iter()
                .filter(|(_, (_, since))| now.duration_since(*since) >= RECOUNT_MIN_AGE)
                .map(|(id, _)| id.clone())
                .collect(),
        )
    }
}

impl Store {
    /// Takes a place under the upload caps for session `id` of `name`; when a cap is reached,
    /// first forgets counted sessions the store no longer holds, then refuses with
    /// [`Error::TooManyUploads`].
    pub(super) async fn claim_upload_slot(
        &self,
        name: &RepoName,
        id: &UploadId,
    ) -> Result<(), Error> {
        let slots = &self.upload_slots;
        let Err(mut reached) = slots.try_claim(name, id) else {
            return Ok(());
        };
        if let Some(counted) = slots.due_for_recount() {
            let gone: Vec<UploadId> = stream::iter(counted)
                .map(|id| async move {
                    let state = self.storage.meta_get(&Key::upload_state(&id)).await;
                    matches!(state, Ok(None)).then_some(id)
                })
                .buffer_unordered(RECOUNT_CONCURRENCY)
                .filter_map(std::future::ready)
                .collect()
                .await;
            gone.iter().for_each(|id| slots.release(id));
            match slots.try_claim(name, id) {
                Ok(()) => return Ok(()),
                Err(still) => reached = still,
            }
        }
        let limits = slots.limits;
        let (limit, repository) = match reached {
            Cap::Registry => (limits.total().get(), None),
            Cap::Repository => (
                limits.per_repository().get(),
                Some(name.as_str().to_owned()),
            ),
        };
        CAP_REACHED.hit(|refusals| {
            tracing::warn!(
                limit,
                repository = repository.as_deref().unwrap_or("(all)"),
                refusals,
                "upload session cap reached; answering 429"
            );
        });
        Err(Error::TooManyUploads {
            repository,
            limit,
            retry_after: limits.retry_after(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::{num::NonZeroUsize, sync::Arc};

    use oci_digest::Algorithm;

    use super::*;
    use crate::storage::MemoryStorage;

    #[tokio::test(start_paused = true)]
    async fn sessions_removed_behind_the_stores_back_are_noticed_at_the_cap() {
        let two = NonZeroUsize::new(2).expect("non-zero");
        let store = Store::new(Arc::new(MemoryStorage::new()))
            .with_upload_limits(UploadLimits::default().with_total(two));
        let name = RepoName::parse("r").expect("name");
        let first = store.upload_start(&name, &Algorithm::Sha256).await;
        let first = first.expect("a first session");
        store
            .upload_start(&name, &Algorithm::Sha256)
            .await
            .expect("a second session");
        // What `oci-registry gc` does to an abandoned session, from another process.
        store
            .storage()
            .upload_delete(&first.id)
            .await
            .expect("deleted");

        let refused = store.upload_start(&name, &Algorithm::Sha256).await;
        assert!(
            matches!(
                refused,
                Err(Error::TooManyUploads {
                    repository: None,
                    limit: 2,
                    ..
                })
            ),
            "sessions this young are not recounted: {refused:?}"
        );
        tokio::time::advance(RECOUNT_MIN_AGE).await;
        store
            .upload_start(&name, &Algorithm::Sha256)
            .await
            .expect("the removed session's place is free again");
        let refused = store.upload_start(&name, &Algorithm::Sha256).await;
        assert!(matches!(refused, Err(Error::TooManyUploads { .. })));
    }
}
