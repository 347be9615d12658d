//! Manifests through the cache: fetched when the store lacks them (by digest) or when the
//! cached tag is older than the time to live, stored byte for byte, and left as they are
//! when the upstream cannot be reached.

use std::time::SystemTime;

use oci_distribution_client::ManifestReference;

use super::{PullThrough, lookups::unavailable};
use crate::{
    error::Error,
    names::{RepoName, Tag},
    routes::ManifestRef,
    storage::Key,
    store::Store,
};

impl PullThrough {
    /// Brings the manifest `reference` names in `name` into the store when it is missing or
    /// its tag is stale. Upstream failures are logged, not returned: the caller serves what
    /// the store holds. Returns whether the cache answered without upstream (`None` when
    /// `name` is not mirrored).
    pub(crate) async fn refresh_manifest(
        &self,
        store: &Store,
        name: &RepoName,
        reference: &ManifestRef,
    ) -> Result<Option<bool>, Error> {
        let Some((upstream, repository)) = self.route(name) else {
            return Ok(None);
        };
        let wanted = match reference {
            ManifestRef::Digest(digest) => {
                if store.manifest(name, digest).await?.is_some() {
                    return Ok(Some(true));
                }
                ManifestReference::Digest(digest.clone())
            }
            ManifestRef::Tag(tag) => {
                if self.tag_is_fresh(store, name, tag).await? {
                    return Ok(Some(true));
                }
                ManifestReference::Tag(tag.clone())
            }
        };
        let pulled = match upstream.client.get_manifest(&repository, &wanted).await {
            Ok(pulled) => pulled,
            Err(e) if unavailable(&e) => {
                tracing::warn!(repository = %name, reference = %reference, error = %e, "upstream manifest unavailable; serving the cache");
                return Ok(Some(false));
            }
            Err(e) => {
                // Withdrawn (or refused) upstream: so it is here, or a deleted or
                // compromised image would be served for ever.
                if let ManifestRef::Tag(tag) = reference
                    && store.delete_tag(name, tag).await?
                {
                    tracing::info!(repository = %name, %tag, error = %e, "tag gone upstream; dropped from the cache");
                }
                return Ok(Some(false));
            }
        };
        let manifest = match pulled.parse() {
            Ok(manifest) => manifest,
            Err(e) => {
                tracing::warn!(repository = %name, digest = %pulled.digest, error = %e, "upstream manifest does not parse; not cached");
                return Ok(Some(false));
            }
        };
        let tags: Vec<Tag> = match reference {
            ManifestRef::Tag(tag) => vec![tag.clone()],
            ManifestRef::Digest(_) => Vec::new(),
        };
        store
            .put_manifest(name, &pulled.digest, &manifest, &tags)
            .await?;
        Ok(Some(false))
    }

    /// Whether the cached tag was written within the time to live.
    async fn tag_is_fresh(&self, store: &Store, name: &RepoName, tag: &Tag) -> Result<bool, Error> {
        let written = store.storage().meta_modified(&Key::tag(name, tag)).await?;
        Ok(written.is_some_and(|written| {
            SystemTime::now()
                .duration_since(written)
                .is_ok_and(|age| age < self.tag_ttl)
        }))
    }
}
