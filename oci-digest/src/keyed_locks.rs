//! [`KeyedLocks`]: async locks by key (or a few slots per key), each entry kept only while used.
//!
//! Every crate above this one needs "one lock per thing named at run time": the server per
//! upload session and per tag, the client per referrers subject, the copy executor a few slots
//! per registry, the token flow one fetch per scope. The map lives here, behind the
//! `keyed-locks` feature, because oci-digest is the one crate all of them depend on; a user of
//! digests alone does not compile it.
//!
//! Entries count their users (holders and waiters) under the map's mutex instead of relying
//! on `Arc::strong_count`: a waiter whose future is dropped mid-wait gives its place back
//! through the same `Drop` as a holder, so no entry outlives its last user. A map that kept an
//! entry per key ever seen would grow with every key a client can invent (an unknown upload
//! id, a new scope).

use std::{
    collections::HashMap,
    fmt,
    hash::Hash,
    num::NonZeroUsize,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A map of async locks by key. Each key admits [`slots`](Self::slots) holders at once (one
/// by default: mutual exclusion); an entry exists only while someone holds or awaits it.
///
/// Cheap to clone: clones share the map, so one value can be handed to every task.
///
/// ```
/// # tokio_test_block_on(async {
/// use oci_digest::KeyedLocks;
///
/// let locks = KeyedLocks::new();
/// let held = locks.lock(&"subject").await;
/// assert_eq!(locks.len(), 1);
/// let other = locks.lock(&"another subject").await; // a different key does not wait
/// drop((held, other));
/// assert!(locks.is_empty(), "entries go with their last user");
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(future: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(future)
/// # }
/// ```
pub struct KeyedLocks<K> {
    shared: Arc<Shared<K>>,
}

struct Shared<K> {
    slots: NonZeroUsize,
    entries: Mutex<HashMap<K, Entry>>,
}

struct Entry {
    semaphore: Arc<Semaphore>,
    users: usize,
}

impl<K> KeyedLocks<K> {
    /// Mutual exclusion per key.
    pub fn new() -> Self {
        Self::with_slots(NonZeroUsize::MIN)
    }

    /// At most `slots` holders per key at once.
    pub fn with_slots(slots: NonZeroUsize) -> Self {
        KeyedLocks {
            shared: Arc::new(Shared {
                slots,
                entries: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// How many holders each key admits at once.
    pub fn slots(&self) -> NonZeroUsize {
        self.shared.slots
    }

    /// How many keys are held or awaited now.
    pub fn len(&self) -> usize {
        self.shared.entries().len()
    }

    /// Whether no key is held or awaited.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<K> Shared<K> {
    /// The map; every change to it is a single statement, so a poisoned map is still whole.
    fn entries(&self) -> MutexGuard<'_, HashMap<K, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<K: Eq + Hash + Clone> KeyedLocks<K> {
    /// Waits for a slot of `key`; it is held until the guard drops.
    pub async fn lock(&self, key: &K) -> KeyedGuard<K> {
        let user = User::enter(&self.shared, key);
        let permit = Arc::clone(&user.semaphore)
            .acquire_owned()
            .await
            .expect("the semaphores of a KeyedLocks are never closed");
        KeyedGuard {
            _permit: permit,
            _user: user,
        }
    }

    /// Waits for a slot of every key in `keys`, each key once, taken in sorted order so that
    /// two callers naming the same keys in different orders cannot wait on each other forever.
    pub async fn lock_all(&self, keys: impl IntoIterator<Item = K>) -> Vec<KeyedGuard<K>>
    where
        K: Ord,
    {
        let mut keys: Vec<K> = keys.into_iter().collect();
        keys.sort_unstable();
        keys.dedup();
        let mut guards = Vec::with_capacity(keys.len());
        for key in keys {
            guards.push(self.lock(&key).await);
        }
        guards
    }
}

impl<K> Clone for KeyedLocks<K> {
    fn clone(&self) -> Self {
        KeyedLocks {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<K> Default for KeyedLocks<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K> fmt::Debug for KeyedLocks<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedLocks")
            .field("slots", &self.shared.slots)
            .field("keys", &self.len())
            .finish()
    }
}

/// Holds one slot of one key; dropping it lets the next waiter in.
#[must_use = "the slot is released as soon as the guard is dropped"]
pub struct KeyedGuard<K: Eq + Hash + Clone> {
    // Fields drop in order: the slot is released before the entry may be removed.
    _permit: OwnedSemaphorePermit,
    _user: User<K>,
}

impl<K: Eq + Hash + Clone> fmt::Debug for KeyedGuard<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedGuard").finish_non_exhaustive()
    }
}

/// One holder or waiter of a key, counted in its entry while it lives.
struct User<K: Eq + Hash + Clone> {
    shared: Arc<Shared<K>>,
    key: K,
    semaphore: Arc<Semaphore>,
}

impl<K: Eq + Hash + Clone> User<K> {
    fn enter(shared: &Arc<Shared<K>>, key: &K) -> Self {
        let mut entries = shared.entries();
        // A key already in the map (the contended case) is not cloned for the map's sake.
        let semaphore = match entries.get_mut(key) {
            Some(entry) => {
                entry.users += 1;
                Arc::clone(&entry.semaphore)
            }
            None => {
                let semaphore = Arc::new(Semaphore::new(shared.slots.get()));
                let entry = Entry {
                    semaphore: Arc::clone(&semaphore),
                    users: 1,
                };
                entries.insert(key.clone(), entry);
                semaphore
            }
        };
        drop(entries);
        User {
            shared: Arc::clone(shared),
            key: key.clone(),
            semaphore,
        }
    }
}

impl<K: Eq + Hash + Clone> Drop for User<K> {
    fn drop(&mut self) {
        let mut entries = self.shared.entries();
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

    /// Runs `tasks` tasks that each hold `key`'s slot across a yield, and returns the most
    /// that were ever inside at once.
    async fn most_inside_at_once(locks: &KeyedLocks<&'static str>, tasks: usize) -> usize {
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut running = tokio::task::JoinSet::new();
        for _ in 0..tasks {
            let (locks, inside, most) = (locks.clone(), Arc::clone(&inside), Arc::clone(&most));
            running.spawn(async move {
                let _held = locks.lock(&"key").await;
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                // Gives every other task the chance to barge in while this one holds a slot.
                for _ in 0..4 {
                    tokio::task::yield_now().await;
                }
                inside.fetch_sub(1, Ordering::SeqCst);
            });
        }
        while let Some(done) = running.join_next().await {
            done.expect("task");
        }
        most.load(Ordering::SeqCst)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn holders_of_one_key_never_overlap_and_the_map_empties() {
        let locks = KeyedLocks::new();
        assert_eq!(most_inside_at_once(&locks, 32).await, 1);
        assert!(locks.is_empty(), "no entry outlives its users");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_key_admits_as_many_holders_as_it_has_slots() {
        let slots = NonZeroUsize::new(3).expect("non-zero");
        let locks = KeyedLocks::with_slots(slots);
        let most = most_inside_at_once(&locks, 32).await;
        assert!(most <= 3, "{most} holders at once");
        assert!(locks.is_empty());
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_leaves_no_entry_behind() {
        let locks = KeyedLocks::new();
        let held = locks.lock(&"subject").await;
        {
            let mut waiting = std::pin::pin!(locks.lock(&"subject"));
            // Polled once: it is now a registered waiter, then dropped before its turn.
            let polled = futures_util::poll!(waiting.as_mut());
            assert!(polled.is_pending());
            assert_eq!(locks.len(), 1);
        }
        drop(held);
        assert!(locks.is_empty());
        let again = locks.lock(&"subject").await;
        assert_eq!(locks.len(), 1);
        drop(again);
        assert!(locks.is_empty());
    }

    #[tokio::test]
    async fn a_queued_waiter_gets_the_lock_when_the_holder_leaves() {
        let locks = KeyedLocks::new();
        let held = locks.lock(&7).await;
        let mut waiting = std::pin::pin!(locks.lock(&7));
        assert!(futures_util::poll!(waiting.as_mut()).is_pending());
        drop(held);
        assert_eq!(locks.len(), 1, "the waiter keeps the entry");
        let turn = waiting.await;
        drop(turn);
        assert!(locks.is_empty());
    }

    #[tokio::test]
    async fn different_keys_do_not_wait_for_each_other() {
        let locks = KeyedLocks::new();
        let _one = locks.lock(&1).await;
        let mut other = std::pin::pin!(locks.lock(&2));
        let polled = futures_util::poll!(other.as_mut());
        assert!(polled.is_ready(), "key 2 is free while key 1 is held");
        assert_eq!(locks.len(), 2);
    }

    #[tokio::test]
    async fn lock_all_takes_each_key_once() {
        let locks = KeyedLocks::new();
        let held = locks.lock_all(["b", "a", "b"]).await;
        assert_eq!(held.len(), 2, "a key named twice takes one slot");
        let mut a = std::pin::pin!(locks.lock(&"a"));
        assert!(futures_util::poll!(a.as_mut()).is_pending());
        drop(held);
        assert!(futures_util::poll!(a.as_mut()).is_ready());
    }
}
