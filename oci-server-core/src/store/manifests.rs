//! Manifests: the exact bytes live in the blob store; each repository keeps a small record
//! (media type, size) per manifest digest, which is what makes the manifest part of it.

use bytes::Bytes;
use oci_digest::Digest;
use oci_spec_types::{Descriptor, Manifest};
use serde::{Deserialize, Serialize};

use super::Store;
use crate::{
    body::read_capped,
    error::Error,
    names::{RepoName, Tag},
    routes::ManifestRef,
    storage::Key,
};

/// What a repository records about one of its manifests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredManifest {
    /// The media type it was pushed with; GETs answer with it as `Content-Type`.
    #[serde(rename = "mediaType")]
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
}

impl Store {
    /// The digest a reference names in `name`, following a tag.
    pub async fn resolve(
        &self,
        name: &RepoName,
        reference: &ManifestRef,
    ) -> Result<Option<Digest>, Error> {
        match reference {
            ManifestRef::Digest(digest) => Ok(Some(digest.clone())),
            ManifestRef::Tag(tag) => self.tag(name, tag).await,
        }
    }

    /// The record of a manifest of `name`.
    pub async fn manifest(
        &self,
        name: &RepoName,
        digest: &Digest,
    ) -> Result<Option<StoredManifest>, Error> {
        self.read_json(&Key::manifest(name, digest)).await
    }

    /// The bytes of a stored manifest (at most its recorded size), checked against its digest
    /// and kept in memory for the next request.
    pub async fn manifest_content(
        &self,
        manifest: &StoredManifest,
        digest: &Digest,
    ) -> Result<Bytes, Error> {
        if let Some(content) = self.manifest_cache.get(digest) {
            return Ok(content);
        }
        let unknown = || Error::ManifestUnknown {
            reference: digest.to_string(),
        };
        let Some(stream) = self.storage.blob_read(digest, None).await? else {
            tracing::error!(%digest, size = manifest.size, "manifest record without content");
            return Err(unknown());
        };
        let content = match read_capped(stream, manifest.size).await {
            // Longer than its record says: not the content that was stored.
            Err(Error::ManifestTooLarge { .. }) => None,
            read => Some(read?),
        };
        let Some(content) = content.filter(|content| {
            Digest::compute_with(digest.algorithm(), content).as_ref() == Ok(digest)
        }) else {
            tracing::error!(%digest, size = manifest.size, "stored manifest content does not match its digest");
            return Err(unknown());
        };
        self.manifest_cache.insert(digest, content.clone());
        Ok(content)
    }

    /// Stores a validated manifest under `digest` in `name`: content, record, referrers entry
    /// (when it has a subject), then tags, in that order, so a crash between steps never leaves
    /// a tag or referrer pointing at nothing.
    pub async fn put_manifest(
        &self,
        name: &RepoName,
        digest: &Digest,
        manifest: &Manifest,
        tags: &[Tag],
    ) -> Result<(), Error> {
        // The manifest's own content and the manifests an index names may be stored already
        // and old: acknowledge them, as the handler did for the config and layers.
        for child in manifest.children() {
            self.keep_if_present(&child.digest).await?;
        }
        if !self.keep_if_present(digest).await? {
            self.storage
                .blob_put(digest, manifest.raw().clone())
                .await?;
        }
        self.register_repository(name).await?;
        let record = StoredManifest {
            media_type: manifest.media_type().as_str().to_owned(),
            size: manifest.raw().len() as u64,
        };
        self.write_json(&Key::manifest(name, digest), &record)
            .await?;
        if let Some(subject) = manifest.subject() {
            let entry = referrer_descriptor(manifest, digest);
            self.add_referrer(name, &subject.digest, &entry).await?;
        }
        for tag in tags {
            self.set_tag(name, tag, digest).await?;
        }
        Ok(())
    }

    /// Deletes a manifest from `name` with its tags and its referrers entry; `false` when the
    /// repository has no such manifest.
    pub async fn delete_manifest(&self, name: &RepoName, digest: &Digest) -> Result<bool, Error> {
        let Some(record) = self.manifest(name, digest).await? else {
            return Ok(false);
        };
        if let Some(subject) = self.stored_subject(&record, digest).await {
            self.remove_referrer(name, &subject, digest).await?;
        }
        self.untag_digest(name, digest).await?;
        Ok(self
            .storage
            .meta_delete(&Key::manifest(name, digest))
            .await?)
    }

    /// The subject of a stored manifest, if it has one and can still be read.
    async fn stored_subject(&self, record: &StoredManifest, digest: &Digest) -> Option<Digest> {
        let manifest = self.parse_stored(record, digest).await?;
        manifest.subject().map(|s| s.digest.clone())
    }

    /// A stored manifest, parsed leniently; `None` when its content is missing or unreadable.
    pub async fn parse_stored(&self, record: &StoredManifest, digest: &Digest) -> Option<Manifest> {
        let bytes = self.manifest_content(record, digest).await.ok()?;
        Manifest::parse_lenient(bytes, Some(&record.media_type)).ok()
    }

    /// The digest of every manifest `name` holds.
    pub async fn manifest_digests(&self, name: &RepoName) -> Result<Vec<Digest>, Error> {
        self.digests_under(&Key::manifests(name)).await
    }
}

/// The descriptor a manifest contributes to its subject's referrers index.
fn referrer_descriptor(manifest: &Manifest, digest: &Digest) -> Descriptor {
    let mut descriptor = Descriptor::new(
        manifest.media_type(),
        digest.clone(),
        manifest.raw().len() as u64,
    );
    descriptor.artifact_type = manifest.artifact_type();
    descriptor.annotations = manifest.annotations().cloned();
    descriptor
}
