//! Listing one page of a folder in as few requests as the page needs, on the stores that let a
//! request say how many keys it wants (S3's `max-keys`, and its peers in the other clouds).
//!
//! `ObjectStore::list` asks for the store's default (1,000 keys on S3, 100 on moto): a page of
//! 100 tags made S3 list and send ten times the page, and made moto answer twice. Here the
//! request names the page's size, lists only the folder's own objects (delimiter `/`), and
//! starts after the last name of the previous page.

use std::sync::Arc;

use object_store::{
    list::{PaginatedListOptions, PaginatedListStore},
    path::Path,
};

use super::stream::object_error;
use crate::{error::StorageError, storage::is_safe_segment};

/// The most keys one listing request may ask for: S3's cap (s3s-fs refuses more), so a page
/// larger than that (a whole folder, for the collector) takes a request per 1,000 names.
const MOST_KEYS_PER_REQUEST: usize = 1000;

/// A store's paginated listing, beside its [`object_store::ObjectStore`] face.
#[derive(Clone)]
pub(super) struct PagedLister(pub(super) Arc<dyn PaginatedListStore>);

impl std::fmt::Debug for PagedLister {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PagedLister")
    }
}

impl PagedLister {
    /// The names of the first `limit` objects directly in `folder` whose names sort after
    /// `after` (a segment the object path keeps as it is), in order.
    pub(super) async fn page(
        &self,
        folder: &Path,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StorageError> {
        let prefix = format!("{folder}/");
        let mut options = PaginatedListOptions {
            offset: after.map(|after| folder.clone().join(after).to_string()),
            delimiter: Some("/".into()),
            ..PaginatedListOptions::default()
        };
        let mut names = Vec::new();
        while names.len() < limit {
            options.max_keys = Some((limit - names.len()).min(MOST_KEYS_PER_REQUEST));
            let listed = self
                .0
                .list_paginated(Some(&prefix), options.clone())
                .await
                .map_err(object_error("list", folder))?;
            names.extend(
                listed
                    .result
                    .objects
                    .iter()
                    .filter_map(|meta| meta.location.filename())
                    .filter(|name| is_safe_segment(name))
                    .map(str::to_owned),
            );
            // Sub-folders count against `max-keys` without giving a name: a short answer
            // with a continuation token is not the folder's end.
            match listed.page_token {
                Some(token) => options.page_token = Some(token),
                None => break,
            }
        }
        names.truncate(limit);
        names.sort_unstable();
        Ok(names)
    }
}
