//! The reverse index of tags: for each manifest, one empty object per tag that names it
//! (`_tagged/<alg>/<encoded>/<tag>`), so deleting a manifest costs in proportion to its own
//! tags rather than to the repository's.
//!
//! `set_tag` keeps it: every tag has the entry of the digest it names. An entry outlives a
//! tag moved elsewhere or deleted, and goes with its manifest once that tag is checked; only
//! then, so no instance sharing the store can remove the entry of a tag another has just
//! written (tag locks are per process).
//! Stores written before the index existed get it built once per repository, the first time
//! a tag is written or a manifest deleted there; a mark outside the repository records that.

use std::{
    collections::HashSet,
    sync::{Mutex, MutexGuard, PoisonError},
};

use bytes::Bytes;

use super::Store;
use crate::{
    error::Error,
    names::{RepoName, Tag},
    storage::Key,
};

impl Store {
    /// Makes sure every tag of `name` has its index entry (see the module docs).
    pub(super) async fn ensure_tag_index(&self, name: &RepoName) -> Result<(), Error> {
        if self.indexed_repositories.contains(name) {
            return Ok(());
        }
        let mark = Key::tag_index_complete(name);
        if self.storage.meta_get(&mark).await?.is_none() {
            for text in self.tags(name).await? {
                let Ok(tag) = Tag::new(&text) else {
                    continue;
                };
                let key = Key::tag(name, &tag);
                let _writing = self.tag_locks.lock(&key).await;
                if let Some(digest) = self.tag(name, &tag).await.ok().flatten() {
                    self.storage
                        .meta_put(&Key::tagged_entry(name, &digest, &tag), Bytes::new())
                        .await?;
                }
            }
            self.storage.meta_put(&mark, Bytes::new()).await?;
        }
        self.indexed_repositories.insert(name.clone());
        Ok(())
    }
}

/// The repositories this process has seen with a complete index, so the mark is read once.
#[derive(Debug, Default)]
pub(super) struct IndexedRepositories(Mutex<HashSet<RepoName>>);

impl IndexedRepositories {
    fn contains(&self, name: &RepoName) -> bool {
        self.names().contains(name)
    }

    fn insert(&self, name: RepoName) {
        self.names().insert(name);
    }

    fn names(&self) -> MutexGuard<'_, HashSet<RepoName>> {
        // One insert per update: a panic elsewhere cannot leave the set half-changed.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use oci_digest::Digest;

    use super::*;
    use crate::{
        storage::{MemoryStorage, Storage},
        store::{backends, manifests::StoredManifest},
    };

    fn tag(text: &str) -> Tag {
        Tag::new(text).expect("tag")
    }

    /// A repository holding manifests `a` and `b`; `a` named by `a00..a29`, `b` by `b0..b4`.
    async fn two_tagged_manifests(store: &Store, name: &RepoName) -> (Digest, Digest) {
        let (a, b) = (Digest::compute(b"a"), Digest::compute(b"b"));
        for digest in [&a, &b] {
            let record = StoredManifest {
                media_type: "application/vnd.oci.image.manifest.v1+json".to_owned(),
                size: 1,
            };
            store
                .write_json(&Key::manifest(name, digest), &record)
                .await
                .expect("record");
        }
        for i in 0..30 {
            store
                .set_tag(name, &tag(&format!("a{i:02}")), &a)
                .await
                .expect("tag a");
        }
        for i in 0..5 {
            store
                .set_tag(name, &tag(&format!("b{i}")), &b)
                .await
                .expect("tag b");
        }
        (a, b)
    }

    #[tokio::test]
    async fn deleting_a_manifest_removes_its_tags_and_leaves_the_others() {
        for (storage, _dir) in backends().await {
            let store = Store::new(storage);
            let name = RepoName::parse("app").expect("name");
            let (a, b) = two_tagged_manifests(&store, &name).await;
            // A tag moved from `a` to `b` belongs to `b` now.
            store.set_tag(&name, &tag("a07"), &b).await.expect("move");
            store.delete_tag(&name, &tag("a08")).await.expect("untag");
            assert!(store.delete_manifest(&name, &a).await.expect("delete"));
            assert_eq!(
                store.tags(&name).await.expect("tags"),
                ["a07", "b0", "b1", "b2", "b3", "b4"]
            );
            assert!(
                store
                    .storage
                    .meta_list(&Key::tagged(&name, &a))
                    .await
                    .expect("list")
                    .is_empty()
            );
            assert_eq!(
                store.tag(&name, &tag("a07")).await.expect("read"),
                Some(b.clone())
            );
            assert!(store.delete_manifest(&name, &b).await.expect("delete b"));
            assert!(store.tags(&name).await.expect("tags").is_empty());
        }
    }

    #[tokio::test]
    async fn tag_pages_past_the_first_are_right_after_deletes() {
        for (storage, _dir) in backends().await {
            let store = Store::new(storage);
            let name = RepoName::parse("app").expect("name");
            let (a, _) = two_tagged_manifests(&store, &name).await;
            for gone in ["a03", "a11", "a12", "b2"] {
                assert!(store.delete_tag(&name, &tag(gone)).await.expect("untag"));
            }
            let (first, more) = store.tags_page(&name, None, 10).await.expect("page");
            assert!(more);
            let (second, _) = store
                .tags_page(&name, first.last().map(String::as_str), 10)
                .await
                .expect("page");
            assert_eq!(
                second,
                [
                    "a13", "a14", "a15", "a16", "a17", "a18", "a19", "a20", "a21", "a22"
                ]
            );
            assert!(store.delete_manifest(&name, &a).await.expect("delete"));
            let (after, more) = store.tags_page(&name, Some("a20"), 10).await.expect("page");
            assert_eq!(
                (after, more),
                (
                    vec!["b0".to_owned(), "b1".into(), "b3".into(), "b4".into()],
                    false
                )
            );
        }
    }

    /// Deleting a manifest reads only its own tags: the others could be unreadable (here
    /// they are) without the delete noticing, as a scan of every tag would.
    #[tokio::test]
    async fn deleting_a_manifest_never_reads_the_other_tags() {
        for (storage, _dir) in backends().await {
            let store = Store::new(Arc::clone(&storage));
            let name = RepoName::parse("app").expect("name");
            let (a, _) = two_tagged_manifests(&store, &name).await;
            for i in 0..5 {
                let key = Key::tag(&name, &tag(&format!("b{i}")));
                storage
                    .meta_put(&key, Bytes::from_static(b"not a digest"))
                    .await
                    .expect("spoil");
            }
            assert!(store.delete_manifest(&name, &a).await.expect("delete"));
            assert_eq!(
                store.tags(&name).await.expect("tags"),
                ["b0", "b1", "b2", "b3", "b4"]
            );
        }
    }

    /// Two instances on one store (each with its own tag locks) moving one tag back and
    /// forth: whichever value wins, its entry exists, so removing that manifest's tags
    /// removes the tag.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_tag_raced_by_two_instances_keeps_its_entry() {
        let storage: Arc<dyn Storage> = Arc::new(MemoryStorage::new());
        let (one, two) = (Store::new(Arc::clone(&storage)), Store::new(storage));
        let name = RepoName::parse("app").expect("name");
        let t = tag("t");
        for round in 0..200u32 {
            let digests = [
                Digest::compute(format!("one {round}").as_bytes()),
                Digest::compute(format!("two {round}").as_bytes()),
            ];
            let writers: Vec<_> = [&one, &two, &one, &two]
                .into_iter()
                .enumerate()
                .map(|(i, store)| {
                    let (store, name, t, digest) = (
                        store.clone(),
                        name.clone(),
                        t.clone(),
                        digests[i % 2].clone(),
                    );
                    tokio::spawn(async move { store.set_tag(&name, &t, &digest).await })
                })
                .collect();
            for writer in writers {
                writer.await.expect("join").expect("tag");
            }
            let last = one.tag(&name, &t).await.expect("read").expect("tagged");
            two.untag_digest(&name, &last).await.expect("untag");
            assert_eq!(
                one.tag(&name, &t).await.expect("read"),
                None,
                "round {round}"
            );
        }
    }

    /// Tags written before the index existed (no entries, no mark) still go with their
    /// manifest: the index is built first.
    #[tokio::test]
    async fn tags_from_before_the_index_go_with_their_manifest() {
        for (storage, _dir) in backends().await {
            let name = RepoName::parse("old/app").expect("name");
            let (a, b) = two_tagged_manifests(&Store::new(Arc::clone(&storage)), &name).await;
            // Back to the old layout: tag objects only.
            storage
                .meta_delete(&Key::tag_index_complete(&name))
                .await
                .expect("unmark");
            for digest in [&a, &b] {
                for entry in storage
                    .meta_list(&Key::tagged(&name, digest))
                    .await
                    .expect("list")
                {
                    storage
                        .meta_delete(&Key::tagged(&name, digest).child(&entry))
                        .await
                        .expect("drop");
                }
            }
            let store = Store::new(storage);
            assert!(store.delete_manifest(&name, &a).await.expect("delete"));
            assert_eq!(
                store.tags(&name).await.expect("tags"),
                ["b0", "b1", "b2", "b3", "b4"]
            );
            assert!(store.delete_manifest(&name, &b).await.expect("delete b"));
            assert!(store.tags(&name).await.expect("tags").is_empty());
        }
    }
}
