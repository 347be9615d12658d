//! The catalog: a flat index of repository names, one empty object per repository under
//! `catalog/`, named by an encoding of the name that sorts as the name does (see
//! `storage::key::catalog_segment`). A page of the catalog is then one page of that folder:
//! on an object store one `start-after` listing of the page's size (see
//! `storage::object::paged`), on the filesystem a page of one folder (which `FsStorage` keeps
//! sorted in memory, revalidated against the disk). Without it, a page meant walking every
//! repository's folder.
//!
//! **What keeps it complete.** A repository's entry is written, durably, before anything that
//! makes the repository exist (a blob link, a manifest record, a tag), so no acknowledged
//! repository can be missing from it, whichever process sharing the store wrote it. Each
//! process remembers the names it has seen with an entry, so the cost is one read (and at
//! most one write) per repository and process. Entries are never removed: a repository
//! emptied by deletes stays listed, as it does on distribution's filesystem driver.
//!
//! **Stores written before the index.** A new store gets the mark `catalog-index/_complete`
//! with its first repository (a process looks, once, whether `repositories/` is still empty
//! before its first new entry). The first catalog read of a process finds the mark or, when
//! it is absent (a store written before the index), walks the repository folders once,
//! writes every entry and then the mark. Garbage collection reads the catalog the same way,
//! so it never misses a repository; its dry run walks such a store instead, writing nothing.
//!
//! **Names too long for an entry.** A name whose encoding exceeds one path segment (255
//! bytes; only names near the 255-character limit with many `/` or `.`) gets no entry; a mark
//! `catalog-index/_walk` is written instead, and from then on the catalog is found by the
//! walk, as before the index existed: slower, never incomplete.

use std::{
    collections::HashSet,
    sync::{Mutex, MutexGuard, PoisonError},
};

use bytes::Bytes;

use super::Store;
use crate::{
    error::Error,
    names::RepoName,
    storage::{Key, catalog_name, catalog_segment},
};

impl Store {
    /// All repository names, in lexical order.
    pub async fn repositories(&self) -> Result<Vec<String>, Error> {
        Ok(self.repositories_page(None, usize::MAX).await?.0)
    }

    /// All repository names, in lexical order, read without writing anything: a store written
    /// before the index is walked instead of indexed (for a garbage collector's dry run,
    /// which promises to change nothing).
    pub(crate) async fn repositories_unchanged(&self) -> Result<Vec<String>, Error> {
        Ok(self
            .page_of_repositories(None, usize::MAX, MissingIndex::Walk)
            .await?
            .0)
    }

    /// Up to `n` repository names after `last`, in lexical order, and whether more follow.
    /// Costs in proportion to the page (see the module docs).
    pub async fn repositories_page(
        &self,
        last: Option<&str>,
        n: usize,
    ) -> Result<(Vec<String>, bool), Error> {
        self.page_of_repositories(last, n, MissingIndex::Build)
            .await
    }

    async fn page_of_repositories(
        &self,
        last: Option<&str>,
        n: usize,
        missing: MissingIndex,
    ) -> Result<(Vec<String>, bool), Error> {
        let mut page = if self.catalog_is_indexed(missing).await? {
            let after = last.map(catalog_segment);
            let listed = self
                .storage
                .meta_list_after(&Key::catalog(), after.as_deref(), n.saturating_add(1))
                .await?;
            listed
                .iter()
                .filter_map(|segment| catalog_name(segment))
                .filter(|name| RepoName::parse(name).is_ok())
                .collect()
        } else {
            let mut names = self.walk_repositories().await?;
            names.retain(|name| last.is_none_or(|last| name.as_str() > last));
            names.truncate(n.saturating_add(1));
            names
        };
        let more = page.len() > n;
        page.truncate(n);
        Ok((page, more))
    }

    /// Makes sure `name` has its catalog entry, before anything is written in it.
    pub(super) async fn register_repository(&self, name: &RepoName) -> Result<(), Error> {
        if self.catalog_names.contains(name) {
            return Ok(());
        }
        match Key::catalog_entry(name) {
            Some(entry) => {
                if self.storage.meta_get(&entry).await?.is_none() {
                    self.mark_catalog_complete_if_new().await?;
                    self.storage.meta_put(&entry, Bytes::new()).await?;
                }
            }
            None => {
                tracing::warn!(repository = %name, "name too long for a catalog entry; the catalog walks the repositories from now on");
                self.storage
                    .meta_put(&Key::catalog_walk(), Bytes::new())
                    .await?;
            }
        }
        self.catalog_names.insert(name.clone());
        Ok(())
    }

    /// Marks the index complete when the store holds no repository yet (a new store: every
    /// repository it will hold registers itself), so it is never walked. Looked at once per
    /// process, before its first new entry.
    async fn mark_catalog_complete_if_new(&self) -> Result<(), Error> {
        if !self.catalog_names.first_new_entry() {
            return Ok(());
        }
        if self
            .storage
            .meta_list(&Key::repositories())
            .await?
            .is_empty()
        {
            self.storage
                .meta_put(&Key::catalog_complete(), Bytes::new())
                .await?;
            self.catalog_names.set_complete();
        }
        Ok(())
    }

    /// Whether the catalog can be read from its index (building the index on the first read
    /// of a store written before it, unless `missing` says to walk); `false` when it must be
    /// walked.
    async fn catalog_is_indexed(&self, missing: MissingIndex) -> Result<bool, Error> {
        if self.storage.meta_get(&Key::catalog_walk()).await?.is_some() {
            return Ok(false);
        }
        if self.catalog_names.is_complete()
            || self
                .storage
                .meta_get(&Key::catalog_complete())
                .await?
                .is_some()
        {
            self.catalog_names.set_complete();
            return Ok(true);
        }
        if missing == MissingIndex::Walk {
            return Ok(false);
        }
        for name in self.walk_repositories().await? {
            if let Ok(name) = RepoName::parse(&name) {
                self.register_repository(&name).await?;
            }
        }
        self.storage
            .meta_put(&Key::catalog_complete(), Bytes::new())
            .await?;
        self.catalog_names.set_complete();
        // A name registered during the walk may have asked for the walk.
        Ok(self.storage.meta_get(&Key::catalog_walk()).await?.is_none())
    }

    /// Every repository name, found by walking the `repositories` folder. A folder is a
    /// repository when it holds one of the `_`-prefixed model folders; names are nested
    /// (`a/b/c`), so the walk goes on into the other children.
    async fn walk_repositories(&self) -> Result<Vec<String>, Error> {
        let mut found = Vec::new();
        // Depth-first over (key, name so far); names are validated before they are kept.
        let mut pending = vec![(Key::repositories(), String::new())];
        while let Some((folder, prefix)) = pending.pop() {
            for child in self.storage.meta_list(&folder).await? {
                if child.starts_with('_') {
                    if !prefix.is_empty() && found.last() != Some(&prefix) {
                        found.push(prefix.clone());
                    }
                    continue;
                }
                let name = if prefix.is_empty() {
                    child.clone()
                } else {
                    format!("{prefix}/{child}")
                };
                if RepoName::parse(&name).is_ok() {
                    pending.push((folder.child(&child), name));
                }
            }
        }
        found.sort_unstable();
        Ok(found)
    }
}

/// What a catalog read does on a store written before the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MissingIndex {
    /// Build the index (once), then read it.
    Build,
    /// Walk the repository folders and write nothing.
    Walk,
}

/// The repositories this process has seen with a catalog entry, whether it has seen the
/// index complete, and whether it has written an entry yet, so each is read from the store
/// once.
#[derive(Debug, Default)]
pub(super) struct CatalogNames(Mutex<Seen>);

#[derive(Debug, Default)]
struct Seen {
    names: HashSet<RepoName>,
    complete: bool,
    wrote_entry: bool,
}

impl CatalogNames {
    fn contains(&self, name: &RepoName) -> bool {
        self.seen().names.contains(name)
    }

    fn insert(&self, name: RepoName) {
        self.seen().names.insert(name);
    }

    fn is_complete(&self) -> bool {
        self.seen().complete
    }

    fn set_complete(&self) {
        self.seen().complete = true;
    }

    /// `true` the first time only, and never once the index is known complete.
    fn first_new_entry(&self) -> bool {
        let mut seen = self.seen();
        let first = !seen.wrote_entry && !seen.complete;
        seen.wrote_entry = true;
        first
    }

    fn seen(&self) -> MutexGuard<'_, Seen> {
        // Every update is a single insert or store: a panic elsewhere cannot leave the
        // state half-changed.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use oci_digest::Digest;

    use super::*;
    use crate::{names::Tag, storage::Storage, store::backends};

    const NAMES: [&str; 8] = ["a", "a-b", "a.b", "a/b", "a/b-c", "a0", "ab/c", "z/y/x"];

    async fn create(store: &Store, name: &str) {
        let name = RepoName::parse(name).expect("name");
        let tag = Tag::new("v1").expect("tag");
        store
            .set_tag(&name, &tag, &Digest::compute(b"m"))
            .await
            .expect("tag");
    }

    /// Fills the store with [`NAMES`] as a store written before the index: no entries, no mark.
    async fn written_before_the_index(storage: &Arc<dyn Storage>) {
        let old = Store::new(Arc::clone(storage));
        for name in NAMES {
            create(&old, name).await;
        }
        for entry in storage.meta_list(&Key::catalog()).await.expect("list") {
            storage
                .meta_delete(&Key::catalog().child(&entry))
                .await
                .expect("drop entry");
        }
        storage
            .meta_delete(&Key::catalog_complete())
            .await
            .expect("unmark");
    }

    /// How many catalog entries the store holds, and whether it is marked complete.
    async fn index_state(storage: &dyn Storage) -> (usize, bool) {
        let entries = storage.meta_list(&Key::catalog()).await.expect("list");
        let mark = storage
            .meta_get(&Key::catalog_complete())
            .await
            .expect("mark");
        (entries.len(), mark.is_some())
    }

    /// Every page, `n` at a time, following `last` as a client does.
    async fn all_pages(store: &Store, n: usize) -> Vec<String> {
        let (mut all, mut last) = (Vec::new(), None::<String>);
        loop {
            let (page, more) = store
                .repositories_page(last.as_deref(), n)
                .await
                .expect("page");
            last = page.last().cloned();
            all.extend(page);
            if !more {
                return all;
            }
        }
    }

    #[tokio::test]
    async fn pages_follow_name_order_across_separators() {
        for (storage, _dir) in backends().await {
            let store = Store::new(storage);
            for name in NAMES.iter().rev() {
                create(&store, name).await;
            }
            assert_eq!(all_pages(&store, 3).await, NAMES);
            assert_eq!(store.repositories().await.expect("all"), NAMES);
            let (page, more) = store.repositories_page(Some("a.b"), 2).await.expect("page");
            assert_eq!((page, more), (vec!["a/b".to_owned(), "a/b-c".into()], true));
        }
    }

    /// A repository another instance creates is on the next page any instance reads.
    #[tokio::test]
    async fn another_instances_repository_is_listed_at_once() {
        for (storage, _dir) in backends().await {
            let (one, two) = (Store::new(Arc::clone(&storage)), Store::new(storage));
            create(&one, "a").await;
            assert_eq!(all_pages(&one, 1).await, ["a"]);
            create(&two, "b").await;
            assert_eq!(all_pages(&one, 1).await, ["a", "b"]);
        }
    }

    /// A store written before the index (repositories, no entries, no mark) gets its index
    /// on the first catalog read.
    #[tokio::test]
    async fn repositories_from_before_the_index_are_listed() {
        for (storage, _dir) in backends().await {
            written_before_the_index(&storage).await;
            let store = Store::new(Arc::clone(&storage));
            assert_eq!(all_pages(&store, 3).await, NAMES);
            assert_eq!(index_state(storage.as_ref()).await, (NAMES.len(), true));
        }
    }

    /// A read that must change nothing lists a store written before the index by walking it,
    /// and leaves it without an index.
    #[tokio::test]
    async fn an_unchanging_read_walks_a_store_from_before_the_index() {
        for (storage, _dir) in backends().await {
            written_before_the_index(&storage).await;
            let store = Store::new(Arc::clone(&storage));
            assert_eq!(store.repositories_unchanged().await.expect("walk"), NAMES);
            assert_eq!(index_state(storage.as_ref()).await, (0, false));
        }
    }

    /// A name whose encoding is too long for an entry is still listed (by the walk).
    #[tokio::test]
    async fn a_name_too_long_for_an_entry_is_listed() {
        let long = ["ab"; 80].join("/");
        assert!(Key::catalog_entry(&RepoName::parse(&long).expect("name")).is_none());
        for (storage, _dir) in backends().await {
            let store = Store::new(storage);
            create(&store, "a").await;
            create(&store, &long).await;
            create(&store, "b").await;
            assert_eq!(all_pages(&store, 1).await, ["a", long.as_str(), "b"]);
        }
    }
}
