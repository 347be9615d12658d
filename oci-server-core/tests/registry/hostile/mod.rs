//! Hostile input. Every crafted request gets the distribution spec's status and error code,
//! never a 5xx; after each group, [`guarded::GuardedStore::assert_intact`] checks that no file
//! appeared outside the store, every stored blob still hashes to its digest, and what was
//! pushed before still fetches byte for byte.

mod concurrency;
mod content_range;
mod digests;
mod expect;
mod guarded;
mod lying_bodies;
mod manifests;
mod names;
mod pagination;
