//! A map of async locks by key whose entries live only while someone holds or awaits them.
//!
//! A map that keeps an entry per key ever seen grows with every key a client can invent (an
//! unknown upload id costs an entry otherwise), so the last guard of a key removes it.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use tokio::sync::OwnedMutexGuard;

/// Async mutual exclusion per key.
#[derive(Debug)]
pub(crate) struct KeyedLocks<K> {
    locks: Arc<Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>>,
}

impl<K> Default for KeyedLocks<K> {
    fn default() -> Self {
        Self {
            locks: Arc::default(),
        }
    }
}

impl<K: Eq + Hash + Clone> KeyedLocks<K> {
    /// Waits for the lock of `key`; it is held until the guard drops.
    pub(crate) async fn lock(&self, key: &K) -> KeyedGuard<K> {
        let lock = Arc::clone(entries(&self.locks).entry(key.clone()).or_default());
        KeyedGuard {
            guard: Some(lock.lock_owned().await),
            key: key.clone(),
            locks: Arc::clone(&self.locks),
        }
    }

    /// How many keys have an entry (held or awaited).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        entries(&self.locks).len()
    }
}

fn entries<K>(
    locks: &Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
) -> MutexGuard<'_, HashMap<K, Arc<tokio::sync::Mutex<()>>>> {
    // Every update of the map is a single insert or remove, so a panic cannot leave it
    // half-updated.
    locks.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Holds the lock of one key; removes the key's entry when nobody else wants it.
#[derive(Debug)]
pub(crate) struct KeyedGuard<K: Eq + Hash> {
    guard: Option<OwnedMutexGuard<()>>,
    key: K,
    locks: Arc<Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>>,
}

impl<K: Eq + Hash> Drop for KeyedGuard<K> {
    fn drop(&mut self) {
        let mut locks = entries(&self.locks);
        // Release first, so the count below sees only the map's own reference and those of
        // tasks that cloned the lock (under this same map lock) to wait for it.
        self.guard = None;
        if locks
            .get(&self.key)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            locks.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn entries_go_with_their_last_guard() {
        let locks = KeyedLocks::default();
        let first = locks.lock(&"a").await;
        let other = locks.lock(&"b").await;
        assert_eq!(locks.len(), 2);
        drop(other);
        assert_eq!(locks.len(), 1);
        drop(first);
        assert_eq!(locks.len(), 0);
    }

    #[tokio::test]
    async fn a_waiter_keeps_the_entry_and_gets_the_lock() {
        let locks = Arc::new(KeyedLocks::default());
        let held = locks.lock(&7).await;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let waiter = {
            let locks = Arc::clone(&locks);
            tokio::spawn(async move {
                let guard = locks.lock(&7).await;
                let _ = tx.send(());
                drop(guard);
            })
        };
        // The waiter holds a clone of the entry's lock once it is queued; the entry must
        // survive the first guard's drop for it.
        while Arc::strong_count(entries(&locks.locks).get(&7).expect("entry")) < 3 {
            tokio::task::yield_now().await;
        }
        drop(held);
        rx.await.expect("the waiter got the lock");
        waiter.await.expect("waiter task");
        assert_eq!(locks.len(), 0);
    }
}
