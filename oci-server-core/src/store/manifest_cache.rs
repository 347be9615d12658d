//! Manifest content kept in memory by digest, up to a byte budget.
//!
//! A manifest GET used to read three small files (the tag, the record, the content), each a
//! hop to the blocking thread pool, and the thread switches cost more than the reads
//! (on S3, three GETs). Content named by its digest never changes, so it can be kept once
//! read; the tag and the record still come from the store on every request, because another
//! process sharing the store may move the tag or delete the manifest. Only content whose
//! digest was checked is kept, so a torn or corrupt file is never served from memory.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard, PoisonError},
};

use bytes::Bytes;
use oci_digest::Digest;

/// Bytes of manifest content kept at most: thousands of typical manifests (1-10 KiB each).
const BUDGET: usize = 16 << 20;

/// The largest manifest kept, so that a few large ones cannot push out everything else.
const LARGEST_KEPT: usize = BUDGET / 16;

/// Verified manifest content by digest. When the budget is reached, arbitrary entries leave
/// to make room: a hot manifest evicted is read and kept again on its next request.
#[derive(Debug, Default)]
pub(super) struct ManifestCache(Mutex<Kept>);

#[derive(Debug, Default)]
struct Kept {
    bytes: usize,
    content: HashMap<Digest, Bytes>,
}

impl ManifestCache {
    /// The content of `digest`, when kept.
    pub(super) fn get(&self, digest: &Digest) -> Option<Bytes> {
        self.kept().content.get(digest).cloned()
    }

    /// Keeps `content`, which the caller has checked against `digest`.
    pub(super) fn insert(&self, digest: &Digest, content: Bytes) {
        if content.len() > LARGEST_KEPT {
            return;
        }
        let mut kept = self.kept();
        while kept.bytes + content.len() > BUDGET {
            let Some(victim) = kept.content.keys().next().cloned() else {
                break;
            };
            if let Some(evicted) = kept.content.remove(&victim) {
                kept.bytes -= evicted.len();
            }
        }
        kept.bytes += content.len();
        if let Some(replaced) = kept.content.insert(digest.clone(), content) {
            kept.bytes -= replaced.len();
        }
    }

    fn kept(&self) -> MutexGuard<'_, Kept> {
        // Every update keeps `bytes` equal to the sum of the entries before it returns, and
        // nothing in it can panic half-way.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(len: usize, fill: u8) -> (Digest, Bytes) {
        let bytes = Bytes::from(vec![fill; len]);
        (Digest::compute(&bytes), bytes)
    }

    #[test]
    fn kept_content_is_returned_and_the_budget_holds() {
        let cache = ManifestCache::default();
        let (digest, bytes) = content(1024, 0);
        cache.insert(&digest, bytes.clone());
        assert_eq!(cache.get(&digest), Some(bytes));
        for fill in 1..=40 {
            let (digest, bytes) = content(LARGEST_KEPT, fill);
            cache.insert(&digest, bytes);
        }
        let kept = cache.kept();
        assert!(kept.bytes <= BUDGET, "{} bytes kept", kept.bytes);
        assert_eq!(
            kept.bytes,
            kept.content.values().map(Bytes::len).sum::<usize>()
        );
    }

    /// Threads inserting and reading at once, past the budget: a read answers the exact
    /// content of its digest or nothing, and the byte count stays the entries' sum.
    #[test]
    fn concurrent_inserts_and_reads_never_mix_contents_or_break_the_budget() {
        let cache = ManifestCache::default();
        std::thread::scope(|scope| {
            for thread in 0..8usize {
                let cache = &cache;
                scope.spawn(move || {
                    for round in 0..64usize {
                        // Distinct lengths, so distinct contents and digests.
                        let index = thread * 64 + round;
                        let (digest, bytes) = content(BUDGET / 64 - index, index as u8);
                        cache.insert(&digest, bytes.clone());
                        let read = cache.get(&digest);
                        assert!(read.is_none() || read == Some(bytes));
                    }
                });
            }
        });
        let kept = cache.kept();
        assert!(kept.bytes <= BUDGET, "{} bytes kept", kept.bytes);
        assert_eq!(
            kept.bytes,
            kept.content.values().map(Bytes::len).sum::<usize>()
        );
        for (digest, bytes) in &kept.content {
            assert_eq!(&Digest::compute(bytes), digest);
        }
    }

    #[test]
    fn content_over_the_largest_kept_is_not_kept() {
        let cache = ManifestCache::default();
        let (digest, bytes) = content(LARGEST_KEPT + 1, 7);
        cache.insert(&digest, bytes);
        assert_eq!(cache.get(&digest), None);
    }
}
