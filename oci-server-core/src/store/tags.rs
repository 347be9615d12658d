//! Tags: one small object per tag holding the tagged manifest's digest.

use bytes::Bytes;
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
    pub async fn set_tag(&self, name: &RepoName, tag: &Tag, digest: &Digest) -> Result<(), Error> {
        let value = Bytes::from(digest.as_str().to_owned());
        Ok(self.storage.meta_put(&Key::tag(name, tag), value).await?)
    }

    /// Removes a tag; `false` when there was none.
    pub async fn delete_tag(&self, name: &RepoName, tag: &Tag) -> Result<bool, Error> {
        Ok(self.storage.meta_delete(&Key::tag(name, tag)).await?)
    }

    /// Every tag of the repository, in byte-wise lexical order.
    pub async fn tags(&self, name: &RepoName) -> Result<Vec<String>, Error> {
        let mut tags = self.storage.meta_list(&Key::tags(name)).await?;
        tags.sort_unstable();
        Ok(tags)
    }

    /// Removes every tag that points at `digest`.
    pub(super) async fn untag_digest(&self, name: &RepoName, digest: &Digest) -> Result<(), Error> {
        for text in self.tags(name).await? {
            let Ok(tag) = Tag::parse(&text) else {
                continue;
            };
            if self.tag(name, &tag).await?.as_ref() == Some(digest) {
                self.delete_tag(name, &tag).await?;
            }
        }
        Ok(())
    }
}
