//! `GET /v2/<name>/tags/list[?n=]` (end-8), every page, as a stream of tags.

use futures_util::stream::BoxStream;
use oci_spec_types::TagList;

use crate::client::{Client, pull_scopes};
use crate::endpoints::pages::{items, pages};
use crate::error::Error;
use crate::repository::Repository;

impl Client {
    /// The repository's tags in the registry's (lexical) order, asking for `page_size` per
    /// page when given and following `Link` headers to the end.
    pub fn list_tags(
        &self,
        repository: &Repository,
        page_size: Option<usize>,
    ) -> BoxStream<'static, Result<String, Error>> {
        let repository = match self.route(repository) {
            Ok(routed) => routed,
            Err(error) => return Box::pin(futures_util::stream::once(async { Err(error) })),
        };
        let repository = &*repository;
        let first = self.repository_url(repository, "tags/list").map(|mut url| {
            if let Some(n) = page_size {
                url.query_pairs_mut().append_pair("n", &n.to_string());
            }
            url
        });
        let scopes = pull_scopes(repository);
        match (first, scopes) {
            (Ok(first), Ok(scopes)) => {
                let pages = pages(self, repository.registry(), scopes, first);
                items(pages, |page| Ok(page.json::<TagList>()?.tags))
            }
            (Err(error), _) | (_, Err(error)) => {
                Box::pin(futures_util::stream::once(async { Err(error) }))
            }
        }
    }
}
