//! One page of a folder on the filesystem backend, read from the disk: a single blocking pass
//! over the directory that keeps only the `limit` smallest names after the start, so it
//! neither sorts nor holds every name (the directory read itself still visits every entry: a
//! directory has no order to start from). Large folders' pages come from sorted listings
//! kept in memory instead, when the folder allows (see `fs_listing_cache`).

use std::{collections::BinaryHeap, path::Path};

use super::{fs_found::folder, is_safe_segment};
use crate::error::StorageError;

/// Up to `limit` names in `dir` sorting after `after`, sorted; empty when `dir` is missing.
pub(super) fn list_page(
    dir: &Path,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<String>, StorageError> {
    let Some(entries) = folder(dir)? else {
        return Ok(Vec::new());
    };
    // A max-heap of the smallest names seen: its top is the one to drop when it overflows.
    let mut smallest = BinaryHeap::with_capacity(limit.saturating_add(1).min(4096));
    for entry in entries {
        let entry = entry.map_err(|e| StorageError::io("list", dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str().filter(|n| is_safe_segment(n)) else {
            continue;
        };
        if after.is_some_and(|after| name <= after) {
            continue;
        }
        if smallest.len() < limit {
            smallest.push(name.to_owned());
        } else if smallest
            .peek()
            .is_some_and(|top: &String| name < top.as_str())
        {
            smallest.pop();
            smallest.push(name.to_owned());
        }
    }
    Ok(smallest.into_sorted_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_the_smallest_names_after_the_start() {
        let dir = tempfile::tempdir().expect("temp dir");
        for name in ["d", "a", "c", "e", "b", ".tmp-x"] {
            std::fs::write(dir.path().join(name), b"").expect("write");
        }
        assert_eq!(list_page(dir.path(), None, 2).expect("page"), ["a", "b"]);
        assert_eq!(
            list_page(dir.path(), Some("b"), 2).expect("page"),
            ["c", "d"]
        );
        assert_eq!(list_page(dir.path(), Some("d"), 9).expect("page"), ["e"]);
        assert!(
            list_page(dir.path(), Some("e"), 9)
                .expect("page")
                .is_empty()
        );
        assert!(list_page(dir.path(), None, 0).expect("page").is_empty());
        assert!(
            list_page(&dir.path().join("none"), None, 3)
                .expect("page")
                .is_empty()
        );
    }
}
