//! Tags: one small object per tag holding the tagged manifest's digest, and a reverse index
//! (see `tag_index`) so that deleting a manifest visits only its own tags.
//!
//! Writes of one tag are serialised within a process (a keyed lock), so removing the tags of
//! a deleted manifest (read the tag, then delete it if it names that manifest) cannot wipe a
//! tag that a concurrent push has just moved elsewhere, and a tag's index entries change
//! together with the tag.

use bytes::Bytes;
use futures_util::future::try_join_all;
use oci_digest::Digest;

use super::{Store, corrupt};
use crate::{
    error::Error,
    names::{RepoName, Tag},
    storage::Key,
};

impl Store {
    /// The digest a tag points at.
    pub async fn tag(&self, name: &RepoName, tag: &Tag) -> Result<Option<Digest>, Error> {
        let key = Key::tag(name, tag);
        let Some(bytes) = self.storage.meta_get(&key).await? else {
            return Ok(None);
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| corrupt(&key, "not UTF-8"))?;
        Digest::parse(text.trim())
            .map(Some)
            .map_err(|_| corrupt(&key, "not a digest"))
    }

    /// Points `tag` at `digest` (replacing what it pointed at).
    ///
    /// The index entry is written before the tag, so every tag always has the entry of the
    /// digest it names, whatever other instances on the same store do meanwhile. Entries are
    /// removed only with their manifest, after checking the tag (see `untag_digest`): an entry
    /// left by a tag since moved or deleted costs that manifest's deletion one check.
    pub async fn set_tag(&self, name: &RepoName, tag: &Tag, digest: &Digest) -> Result<(), Error> {
        self.register_repository(name).await?;
        self.ensure_tag_index(name).await?;
        let key = Key::tag(name, tag);
        let _writing = self.tag_locks.lock(&key).await;
        self.storage
            .meta_put(&Key::tagged_entry(name, digest, tag), Bytes::new())
            .await?;
        let value = Bytes::from(digest.as_str().to_owned());
        Ok(self.storage.meta_put(&key, value).await?)
    }

    /// Removes a tag; `false` when there was none.
    pub async fn delete_tag(&self, name: &RepoName, tag: &Tag) -> Result<bool, Error> {
        let key = Key::tag(name, tag);
        let _writing = self.tag_locks.lock(&key).await;
        Ok(self.storage.meta_delete(&key).await?)
    }

    /// Every tag of the repository, in byte-wise lexical order.
    pub async fn tags(&self, name: &RepoName) -> Result<Vec<String>, Error> {
        let mut tags = self.storage.meta_list(&Key::tags(name)).await?;
        tags.sort_unstable();
        Ok(tags)
    }

    /// One page of the repository's tags: up to `n` tags after `last` in byte-wise lexical
    /// order, and whether more follow. On an object store it costs one listing request
    /// whatever the number of tags.
    pub async fn tags_page(
        &self,
        name: &RepoName,
        last: Option<&str>,
        n: usize,
    ) -> Result<(Vec<String>, bool), Error> {
        let mut page = self
            .storage
            .meta_list_after(&Key::tags(name), last, n.saturating_add(1))
            .await?;
        let more = page.len() > n;
        page.truncate(n);
        Ok((page, more))
    }

    /// Removes every tag that points at `digest`, visiting only the tags its index entries
    /// name, and those entries, a batch at a time.
    pub(super) async fn untag_digest(&self, name: &RepoName, digest: &Digest) -> Result<(), Error> {
        self.ensure_tag_index(name).await?;
        // Listed sorted, so every batch takes its locks in one order: two deletions sharing
        // (stale) entries cannot deadlock.
        let tags: Vec<Tag> = self
            .storage
            .meta_list(&Key::tagged(name, digest))
            .await?
            .iter()
            .filter_map(|text| Tag::new(text).ok())
            .collect();
        for batch in tags.chunks(UNTAG_BATCH) {
            self.untag_batch(name, digest, batch).await?;
        }
        Ok(())
    }

    /// Under the locks of `tags`: removes those naming `digest` (durable together), then the
    /// index entries of all of them. An entry removal lost in a crash leaves a stale entry,
    /// which costs the next deletion of the manifest one check (every reader of entries
    /// checks the tag), so entries go without a sync; the tags' removals are durable first,
    /// so no crash leaves a tag without its entry.
    async fn untag_batch(
        &self,
        name: &RepoName,
        digest: &Digest,
        tags: &[Tag],
    ) -> Result<(), Error> {
        let mut held = Vec::with_capacity(tags.len());
        for tag in tags {
            held.push(self.tag_locks.lock(&Key::tag(name, tag)).await);
        }
        let mut named = Vec::with_capacity(tags.len());
        for reads in tags.chunks(READS_IN_FLIGHT) {
            named.extend(try_join_all(reads.iter().map(|tag| self.tag(name, tag))).await?);
        }
        let doomed: Vec<Key> = tags
            .iter()
            .zip(named)
            .filter(|(_, named)| named.as_ref() == Some(digest))
            .map(|(tag, _)| Key::tag(name, tag))
            .collect();
        self.storage.meta_delete_all(&doomed).await?;
        let entries: Vec<Key> = tags
            .iter()
            .map(|tag| Key::tagged_entry(name, digest, tag))
            .collect();
        self.storage.marker_delete_all(&entries).await?;
        drop(held);
        Ok(())
    }
}

/// Tags a manifest deletion checks and removes at a time, holding their locks until the
/// batch is durable (one folder sync, or one bulk request, per batch).
const UNTAG_BATCH: usize = 1000;

/// Tags read at once while checking a batch (requests in flight on an object store).
const READS_IN_FLIGHT: usize = 16;

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::storage::FsStorage;

    /// A manifest deleted while its tag moves to another: the tag ends on the other one,
    /// whatever the interleaving.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn removing_a_deleted_manifests_tags_never_wipes_a_moved_tag() {
        let dir = tempfile::tempdir().expect("temp dir");
        let storage = FsStorage::open(dir.path()).await.expect("store");
        let store = Store::new(Arc::new(storage));
        let name = RepoName::parse("app").expect("name");
        let tag = Tag::new("t").expect("tag");
        for round in 0..300u32 {
            let old = Digest::compute(format!("old {round}").as_bytes());
            let new = Digest::compute(format!("new {round}").as_bytes());
            store.set_tag(&name, &tag, &old).await.expect("tag");
            let untag = {
                let (store, name, old) = (store.clone(), name.clone(), old.clone());
                tokio::spawn(async move { store.untag_digest(&name, &old).await })
            };
            let moved = {
                let (store, name, tag, new) =
                    (store.clone(), name.clone(), tag.clone(), new.clone());
                tokio::spawn(async move { store.set_tag(&name, &tag, &new).await })
            };
            untag.await.expect("join").expect("untag");
            moved.await.expect("join").expect("move");
            assert_eq!(
                store.tag(&name, &tag).await.expect("read"),
                Some(new),
                "round {round}"
            );
        }
    }
}
