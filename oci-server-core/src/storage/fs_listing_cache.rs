//! Sorted listings of large folders (a repository's tags, the catalog), kept in memory so
//! that a page costs a `stat` of the folder and a binary search instead of reading every
//! entry of the folder: a directory has no order to start a listing from.
//!
//! **Validated against the disk on every read.** Several processes may share one store, so a
//! listing is used only while the folder's identity and times (device, inode, modification
//! and change times) are those it was read at: creating, renaming or removing an entry
//! changes the folder's modification time, whoever does it.
//!
//! **The coarse clock.** File times come from the kernel's coarse clock (a tick of 1 to 10
//! ms, or a second or two on some filesystems), so an entry added within the same tick as
//! the read leaves the folder's time unchanged. A listing is therefore kept only when the
//! folder's modification time was at least [`SETTLED`] older than the clock just before the
//! folder was `stat`ed: any later change then stamps a newer time. A folder written within
//! the last [`SETTLED`] is read whole each time, as it was before this cache (a page then
//! costs the folder, not the page). This assumes the processes share the machine's clock
//! (one host; a network filesystem's server clock is not covered).
//!
//! **What it costs.** Memory for the names of at most [`FOLDERS`] folders of at least
//! [`LARGE`] bytes of directory (a few hundred entries); the first page after a change reads
//! and sorts the folder (about 100 ms for 100,000 names), the following ones do not.

use std::{
    collections::HashMap,
    io,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, SystemTime},
};

use super::{fs_list::list_page, is_safe_segment};
use crate::error::StorageError;

/// How much older than the clock a folder's modification time must be for its listing to
/// be kept: at least the coarsest time granularity of a filesystem (FAT's 2 s).
const SETTLED: Duration = Duration::from_secs(2);

/// The most folders whose listing is kept; the least recently used goes first.
const FOLDERS: usize = 64;

/// Folders smaller than this (the size `stat` reports for a directory, in bytes) are read
/// whole each time: cheap, and not worth the memory.
const LARGE: u64 = 16 * 1024;

/// What identifies one state of a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    device: u64,
    inode: u64,
    modified: (i64, i64),
    changed: (i64, i64),
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Self {
        Self {
            device: meta.dev(),
            inode: meta.ino(),
            modified: (meta.mtime(), meta.mtime_nsec()),
            changed: (meta.ctime(), meta.ctime_nsec()),
        }
    }
}

#[derive(Debug)]
struct Listing {
    stamp: Stamp,
    names: Arc<Vec<String>>,
    used: u64,
}

/// The kept listings, by folder. Cheap to share.
#[derive(Debug, Default)]
pub(super) struct ListingCache {
    state: Mutex<(HashMap<PathBuf, Listing>, u64)>,
}

impl ListingCache {
    /// Up to `limit` names in `dir` sorting after `after`, sorted; empty when `dir` is
    /// missing. Blocking.
    pub(super) fn page(
        &self,
        dir: &Path,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StorageError> {
        // The clock is read before the folder, so a change after the `stat` happens after it.
        let now = SystemTime::now();
        let meta = match std::fs::metadata(dir) {
            Ok(meta) if meta.is_dir() => meta,
            Ok(_) => return Ok(Vec::new()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(StorageError::io("stat", dir, e)),
        };
        let stamp = Stamp::of(&meta);
        if let Some(names) = self.kept(dir, stamp) {
            return Ok(page_of_sorted(&names, after, limit));
        }
        let settled = meta
            .modified()
            .ok()
            .and_then(|modified| modified.checked_add(SETTLED))
            .is_some_and(|settled| settled <= now);
        if meta.len() < LARGE || !settled {
            self.forget(dir);
            return list_page(dir, after, limit);
        }
        let names = Arc::new(read_sorted(dir)?);
        let page = page_of_sorted(&names, after, limit);
        self.keep(dir, stamp, names);
        Ok(page)
    }

    fn kept(&self, dir: &Path, stamp: Stamp) -> Option<Arc<Vec<String>>> {
        let mut state = self.state();
        let (listings, clock) = &mut *state;
        *clock += 1;
        let listing = listings.get_mut(dir).filter(|l| l.stamp == stamp)?;
        listing.used = *clock;
        Some(Arc::clone(&listing.names))
    }

    fn keep(&self, dir: &Path, stamp: Stamp, names: Arc<Vec<String>>) {
        let mut state = self.state();
        let (listings, clock) = &mut *state;
        if listings.len() >= FOLDERS && !listings.contains_key(dir) {
            let oldest = listings
                .iter()
                .min_by_key(|(_, listing)| listing.used)
                .map(|(path, _)| path.clone());
            if let Some(oldest) = oldest {
                listings.remove(&oldest);
            }
        }
        let used = *clock;
        listings.insert(dir.to_owned(), Listing { stamp, names, used });
    }

    fn forget(&self, dir: &Path) {
        self.state().0.remove(dir);
    }

    fn state(&self) -> MutexGuard<'_, (HashMap<PathBuf, Listing>, u64)> {
        // Every update is a single insert, remove or counter step: a panic elsewhere cannot
        // leave the map half-changed.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Every safe name in `dir`, sorted.
fn read_sorted(dir: &Path) -> Result<Vec<String>, StorageError> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| StorageError::io("list", dir, e))? {
        let entry = entry.map_err(|e| StorageError::io("list", dir, e))?;
        if let Some(name) = entry.file_name().to_str().filter(|n| is_safe_segment(n)) {
            names.push(name.to_owned());
        }
    }
    names.sort_unstable();
    Ok(names)
}

/// The page of sorted `names` after `after`, at most `limit` long: a binary search.
fn page_of_sorted(names: &[String], after: Option<&str>, limit: usize) -> Vec<String> {
    let start = after.map_or(0, |after| names.partition_point(|n| n.as_str() <= after));
    names[start..].iter().take(limit).cloned().collect()
}

#[cfg(test)]
mod tests {
    use std::fs::{File, FileTimes};

    use super::*;

    /// A folder of `count` entries whose times say it was last written `age` ago.
    fn folder(count: usize, age: Duration) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for i in 0..count {
            File::create(
                dir.path()
                    .join(format!("tag-{i:06}-padding-to-grow-the-folder")),
            )
            .expect("entry");
        }
        let past = SystemTime::now() - age;
        File::open(dir.path())
            .and_then(|f| f.set_times(FileTimes::new().set_modified(past)))
            .expect("age the folder");
        dir
    }

    impl ListingCache {
        fn is_kept(&self, dir: &Path) -> bool {
            self.state().0.contains_key(dir)
        }
    }

    #[test]
    fn a_kept_listing_is_revalidated_against_another_writer() {
        let dir = folder(2000, Duration::from_secs(60));
        let (one, other) = (ListingCache::default(), ListingCache::default());
        let first = one.page(dir.path(), None, 3).expect("page");
        assert_eq!(
            first,
            [0, 1, 2].map(|i| format!("tag-{i:06}-padding-to-grow-the-folder"))
        );
        assert!(one.is_kept(dir.path()), "a settled large folder is kept");
        // Another process (here: another cache, sharing nothing) adds and removes entries.
        File::create(dir.path().join("tag-000000-a")).expect("add");
        std::fs::remove_file(dir.path().join("tag-000001-padding-to-grow-the-folder"))
            .expect("remove");
        assert!(other.page(dir.path(), None, 1).expect("page").len() == 1);
        assert_eq!(
            one.page(dir.path(), Some("tag-000000-padding"), 2)
                .expect("page"),
            [
                "tag-000000-padding-to-grow-the-folder",
                "tag-000002-padding-to-grow-the-folder"
            ]
        );
        assert_eq!(
            one.page(dir.path(), None, 2).expect("page"),
            ["tag-000000-a", "tag-000000-padding-to-grow-the-folder"]
        );
    }

    /// A folder written within the coarse clock's reach may change again without its time
    /// changing: it is read from the disk, never kept.
    #[test]
    fn a_folder_written_just_now_is_not_kept() {
        let dir = folder(2000, Duration::ZERO);
        let cache = ListingCache::default();
        assert_eq!(
            cache.page(dir.path(), None, 2000).expect("page").len(),
            2000
        );
        assert!(!cache.is_kept(dir.path()));
        let small = folder(3, Duration::from_secs(60));
        assert_eq!(
            cache
                .page(small.path(), Some("tag-000000"), 9)
                .expect("page")
                .len(),
            3
        );
        assert!(!cache.is_kept(small.path()), "small folders are read whole");
    }

    #[test]
    fn pages_of_a_sorted_listing() {
        let names: Vec<String> = ["a", "b", "c", "d"].map(String::from).into();
        assert_eq!(page_of_sorted(&names, None, 2), ["a", "b"]);
        assert_eq!(page_of_sorted(&names, Some("b"), 9), ["c", "d"]);
        assert_eq!(page_of_sorted(&names, Some("bb"), 1), ["c"]);
        assert!(page_of_sorted(&names, Some("d"), 9).is_empty());
    }
}
