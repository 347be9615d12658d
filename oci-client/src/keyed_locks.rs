//! [`KeyedLocks`]: one async lock per key, for read-modify-write sequences that must not
//! interleave (a subject's referrers fallback index). An entry exists only while someone
//! holds or waits for its lock, so a long-lived client touching many keys does not grow.
//!
//! Entries count their users (holders and waiters) under the map's mutex rather than
//! relying on `Arc::strong_count`: a waiter whose future is dropped mid-wait gives its
//! place back through the same `Drop` as a holder, so no entry outlives its last user.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::OwnedMutexGuard;

/// A map of async locks by key, each removed when no one holds or waits for it.
#[derive(Debug)]
pub(crate) struct KeyedLocks<K> {
    entries: Mutex<HashMap<K, Entry>>,
}

#[derive(Debug)]
struct Entry {
    lock: Arc<tokio::sync::Mutex<()>>,
    users: usize,
}

impl<K> Default for KeyedLocks<K> {
    fn default() -> Self {
        KeyedLocks {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone> KeyedLocks<K> {
    /// Waits for the lock of `key`; it is held until the guard is dropped.
    pub(crate) async fn lock(&self, key: K) -> KeyedGuard<'_, K> {
        let user = User::enter(self, key);
        let lock = Arc::clone(&user.lock);
        KeyedGuard {
            _held: lock.lock_owned().await,
            _user: user,
        }
    }

    /// How many keys have an entry now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries().len()
    }

    /// The map; entries are changed by single statements, so a poisoned map is whole.
    fn entries(&self) -> MutexGuard<'_, HashMap<K, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Holds the lock of one key; dropping it lets the next waiter in.
#[derive(Debug)]
pub(crate) struct KeyedGuard<'a, K: Eq + Hash + Clone> {
    // Fields drop in order: the lock is released before the entry may be removed.
    _held: OwnedMutexGuard<()>,
    _user: User<'a, K>,
}

/// One holder or waiter of a key's lock, counted in its entry while it lives.
#[derive(Debug)]
struct User<'a, K: Eq + Hash + Clone> {
    locks: &'a KeyedLocks<K>,
    key: K,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl<'a, K: Eq + Hash + Clone> User<'a, K> {
    fn enter(locks: &'a KeyedLocks<K>, key: K) -> Self {
        let mut entries = locks.entries();
        let entry = entries.entry(key.clone()).or_insert_with(|| Entry {
            lock: Arc::default(),
            users: 0,
        });
        entry.users += 1;
        let lock = Arc::clone(&entry.lock);
        drop(entries);
        User { locks, key, lock }
    }
}

impl<K: Eq + Hash + Clone> Drop for User<'_, K> {
    fn drop(&mut self) {
        let mut entries = self.locks.entries();
        if let Some(entry) = entries.get_mut(&self.key) {
            entry.users -= 1;
            if entry.users == 0 {
                entries.remove(&self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn holders_of_one_key_never_overlap_and_the_map_empties() {
        let locks = Arc::new(KeyedLocks::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let most_inside = Arc::new(AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..32 {
            let (locks, inside, most_inside) = (
                Arc::clone(&locks),
                Arc::clone(&inside),
                Arc::clone(&most_inside),
            );
            tasks.spawn(async move {
                let _held = locks.lock("subject").await;
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most_inside.fetch_max(now, Ordering::SeqCst);
                // Gives the other tasks every chance to barge in while this one holds it.
                tokio::task::yield_now().await;
                inside.fetch_sub(1, Ordering::SeqCst);
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
        assert_eq!(most_inside.load(Ordering::SeqCst), 1);
        assert_eq!(locks.len(), 0, "no entry outlives its users");
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_leaves_no_entry_behind() {
        let locks = KeyedLocks::default();
        let held = locks.lock("subject").await;
        {
            let waiting = locks.lock("subject");
            let mut waiting = std::pin::pin!(waiting);
            // Polled once: it is now a registered waiter, then dropped before its turn.
            let polled = futures_util::poll!(waiting.as_mut());
            assert!(polled.is_pending());
            assert_eq!(locks.len(), 1);
        }
        drop(held);
        assert_eq!(locks.len(), 0);
        let again = locks.lock("subject").await;
        assert_eq!(locks.len(), 1);
        drop(again);
        assert_eq!(locks.len(), 0);
    }

    #[tokio::test]
    async fn different_keys_do_not_wait_for_each_other() {
        let locks = KeyedLocks::default();
        let _one = locks.lock(1).await;
        let other = locks.lock(2);
        let mut other = std::pin::pin!(other);
        let polled = futures_util::poll!(other.as_mut());
        assert!(polled.is_ready(), "key 2 is free while key 1 is held");
        assert_eq!(locks.len(), 2);
    }
}
