//! Per-registry concurrency limits, shared by every copy of a run (a sync runs many).

use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The key of the limit local ends (folders, archives) share.
pub(crate) const LOCAL: &str = "(local)";

/// How many transfers may run at once against each registry (and, together, against
/// local files). Cheap to clone; clones share the counters.
#[derive(Debug, Clone)]
pub struct Limits {
    per_registry: NonZeroUsize,
    semaphores: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
}

impl Limits {
    /// At most `per_registry` transfers at once per registry.
    pub fn new(per_registry: NonZeroUsize) -> Self {
        Limits {
            per_registry,
            semaphores: Arc::default(),
        }
    }

    /// The limit per registry.
    pub fn per_registry(&self) -> NonZeroUsize {
        self.per_registry
    }

    fn semaphore(&self, key: &str) -> Arc<Semaphore> {
        let mut semaphores = self
            .semaphores
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        semaphores
            .entry(key.to_owned())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_registry.get())))
            .clone()
    }

    /// Waits for a slot on every registry in `keys` (each once, in a fixed order, so two
    /// transfers in opposite directions cannot wait on each other forever).
    pub(crate) async fn acquire(&self, keys: &[&str]) -> Vec<OwnedSemaphorePermit> {
        let mut keys: Vec<&str> = keys.to_vec();
        keys.sort_unstable();
        keys.dedup();
        let mut permits = Vec::with_capacity(keys.len());
        for key in keys {
            // The semaphores are never closed, so acquiring cannot fail.
            if let Ok(permit) = self.semaphore(key).acquire_owned().await {
                permits.push(permit);
            }
        }
        permits
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::new(super::DEFAULT_CONCURRENCY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn slots_are_per_registry_and_shared_by_clones() {
        let limits = Limits::new(NonZeroUsize::MIN);
        let held = limits.acquire(&["a", "a", LOCAL]).await;
        assert_eq!(held.len(), 2, "a key named twice takes one slot");
        let clone = limits.clone();
        assert_eq!(clone.semaphore("a").available_permits(), 0);
        assert_eq!(clone.semaphore("b").available_permits(), 1);
        drop(held);
        assert_eq!(clone.semaphore("a").available_permits(), 1);
    }
}
