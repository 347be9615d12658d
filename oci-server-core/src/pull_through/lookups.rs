//! Questions the cache asks upstream without fetching content: a repository's tags, and a
//! blob's size (for a `HEAD`, and to confirm access before linking content the store
//! already holds for another repository).
//!
//! The cache serves what it holds only when upstream cannot answer (unreachable, 5xx, 429);
//! any other answer of upstream is the truth, so a tag or repository withdrawn upstream is
//! withdrawn here too.

use futures_util::TryStreamExt;
use oci_digest::Digest;

use super::PullThrough;
use crate::names::RepoName;

/// What upstream said.
#[derive(Debug)]
pub(crate) enum Upstream<T> {
    /// It answered.
    Answered(T),
    /// It does not have it (404).
    Unknown,
    /// It could not answer: serve the cache.
    Unavailable,
}

/// Whether an upstream error leaves the cache in charge: no answer, 5xx or 429.
pub(super) fn unavailable(error: &oci_distribution_client::Error) -> bool {
    error
        .status()
        .is_none_or(|status| status.is_server_error() || status.as_u16() == 429)
}

impl<T> Upstream<T> {
    fn from_error(error: &oci_distribution_client::Error) -> Self {
        if error.is_not_found() {
            Upstream::Unknown
        } else if unavailable(error) {
            Upstream::Unavailable
        } else {
            // Refused (401, 403, ...): upstream's word stands, as for a 404.
            Upstream::Unknown
        }
    }
}

impl PullThrough {
    /// The tags of a mirrored repository upstream, sorted; `None` when `name` is not
    /// mirrored.
    pub(crate) async fn upstream_tags(&self, name: &RepoName) -> Option<Upstream<Vec<String>>> {
        let (upstream, repository) = self.route(name)?;
        let listed: Result<Vec<String>, _> = upstream
            .client
            .list_tags(&repository, None)
            .try_collect()
            .await;
        Some(match listed {
            Ok(mut tags) => {
                tags.sort_unstable();
                Upstream::Answered(tags)
            }
            Err(e) => {
                tracing::warn!(repository = %name, error = %e, "upstream tags unavailable");
                Upstream::from_error(&e)
            }
        })
    }

    /// The size of a blob upstream (`Answered(None)` when upstream did not say); `None` when
    /// `name` is not mirrored.
    pub(crate) async fn upstream_blob_size(
        &self,
        name: &RepoName,
        digest: &Digest,
    ) -> Option<Upstream<Option<u64>>> {
        let (upstream, repository) = self.route(name)?;
        Some(match upstream.client.head_blob(&repository, digest).await {
            Ok(Some(info)) => Upstream::Answered(info.size),
            Ok(None) => Upstream::Unknown,
            Err(e) => {
                tracing::warn!(repository = %name, %digest, error = %e, "upstream blob unavailable");
                Upstream::from_error(&e)
            }
        })
    }
}
