//! Per-registry concurrency limits, shared by every copy of a run (a sync runs many).

use std::num::NonZeroUsize;

use oci_digest::{KeyedGuard, KeyedLocks};

/// The key of the limit local ends (folders, archives) share.
pub(crate) const LOCAL: &str = "(local)";

/// How many transfers may run at once against each registry (and, together, against
/// local files). Cheap to clone; clones share the counters.
#[derive(Debug, Clone)]
pub struct Limits {
    slots: KeyedLocks<String>,
}

impl Limits {
    /// At most `per_registry` transfers at once per registry.
    pub fn new(per_registry: NonZeroUsize) -> Self {
        Limits {
            slots: KeyedLocks::with_slots(per_registry),
        }
    }

    /// The limit per registry.
    pub fn per_registry(&self) -> NonZeroUsize {
        self.slots.slots()
    }

    /// Waits for a slot on every registry in `keys` (each once, in a fixed order, so two
    /// transfers in opposite directions cannot wait on each other forever).
    pub(crate) async fn acquire(&self, keys: &[&str]) -> Vec<KeyedGuard<String>> {
        self.slots
            .lock_all(keys.iter().map(|key| (*key).to_owned()))
            .await
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
        let mut waiting = std::pin::pin!(clone.acquire(&["a"]));
        assert!(
            futures_util::poll!(waiting.as_mut()).is_pending(),
            "a is full"
        );
        let other = clone.acquire(&["b"]);
        assert_eq!(other.await.len(), 1, "b is free");
        drop(held);
        assert!(futures_util::poll!(waiting.as_mut()).is_ready());
    }
}
