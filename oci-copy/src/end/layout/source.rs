//! Reading an image layout.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use oci_spec_types::{Descriptor, ImageIndex, Manifest, referrers_tag};

use crate::end::files::{DirFiles, Files};
use crate::end::layout::{blob_path, read_index, ref_name};
use crate::end::{BlobStream, MAX_MANIFEST_SIZE, Selector, Source, bare};
use crate::error::{Error, Result};

/// An image layout read as a [`Source`]: a folder (`oci:DIR`) or the inside of an
/// archive (`oci-archive:FILE`). `index.json` is read once, when the source is opened.
pub struct LayoutSource {
    files: Arc<dyn Files>,
    name: String,
    index: ImageIndex,
}

impl LayoutSource {
    /// Opens the layout in folder `dir`.
    pub async fn open(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        let name = format!("oci:{}", dir.display());
        Self::from_files(Arc::new(DirFiles::new(dir)), name).await
    }

    /// Opens a layout held by `files`, named `name` in messages.
    pub(crate) async fn from_files(files: Arc<dyn Files>, name: String) -> Result<Self> {
        let index = read_index(files.as_ref()).await?;
        Ok(LayoutSource { files, name, index })
    }

    /// The layout's `index.json`.
    pub fn index(&self) -> &ImageIndex {
        &self.index
    }

    fn not_found(&self, descriptor: &Descriptor) -> Error {
        Error::ContentNotFound {
            end: self.name.clone(),
            digest: descriptor.digest.clone(),
        }
    }

    /// A manifest's bytes, parsed leniently (stored content).
    async fn parsed(&self, descriptor: &Descriptor) -> Result<Manifest> {
        let bytes = self.manifest(descriptor).await?;
        Manifest::parse_lenient(bytes, Some(descriptor.media_type.as_str())).map_err(|source| {
            Error::Manifest {
                digest: descriptor.digest.clone(),
                source,
            }
        })
    }
}

#[async_trait]
impl Source for LayoutSource {
    fn describe(&self) -> String {
        self.name.clone()
    }

    async fn resolve(&self, selector: &Selector) -> Result<Descriptor> {
        let entries = &self.index.manifests;
        let found = match selector {
            Selector::Tag(tag) => entries
                .iter()
                .find(|entry| ref_name(entry) == Some(tag.as_str()))
                .ok_or_else(|| Error::TagNotFound {
                    end: self.name.clone(),
                    tag: tag.clone(),
                })?,
            Selector::Default => match entries.as_slice() {
                [only] => only,
                [] => {
                    return Err(Error::NoImage {
                        end: self.name.clone(),
                    });
                }
                many => {
                    return Err(Error::AmbiguousImage {
                        end: self.name.clone(),
                        count: many.len(),
                    });
                }
            },
            Selector::Position(position) => {
                entries
                    .get(*position)
                    .ok_or_else(|| Error::PositionNotFound {
                        end: self.name.clone(),
                        position: *position,
                        count: entries.len(),
                    })?
            }
            Selector::Digest(digest) => {
                match entries.iter().find(|entry| &entry.digest == digest) {
                    Some(entry) => entry,
                    None => {
                        // Not listed: it may still be a blob, e.g. one platform of a listed index.
                        let probe = Descriptor::new(
                            oci_spec_types::MediaType::OciImageManifest,
                            digest.clone(),
                            0,
                        );
                        let manifest = self.parsed(&probe).await?;
                        return Ok(Descriptor::new(
                            manifest.media_type(),
                            digest.clone(),
                            manifest.size(),
                        ));
                    }
                }
            }
        };
        Ok(bare(found))
    }

    async fn tags(&self) -> Result<Vec<String>> {
        Ok(self
            .index
            .manifests
            .iter()
            .filter_map(ref_name)
            .map(str::to_owned)
            .collect())
    }

    async fn manifest(&self, descriptor: &Descriptor) -> Result<Bytes> {
        let bytes = self
            .files
            .read(&blob_path(&descriptor.digest), MAX_MANIFEST_SIZE)
            .await?
            .ok_or_else(|| self.not_found(descriptor))?;
        Error::check(&descriptor.digest, &bytes)?;
        Ok(bytes)
    }

    async fn blob(&self, descriptor: &Descriptor, offset: u64) -> Result<BlobStream> {
        let path = blob_path(&descriptor.digest);
        if self.files.size(&path).await?.is_none() {
            return Err(self.not_found(descriptor));
        }
        self.files.open(&path, offset).await
    }

    /// The entries of `index.json` whose manifest names `subject`, and the entries of the
    /// index tagged with the subject's fallback tag (`sha256-<encoded>`), where regctl
    /// keeps a layout's referrers without listing them in `index.json` themselves. A layout
    /// has no referrers API.
    async fn referrers(&self, subject: &Descriptor) -> Result<Vec<Descriptor>> {
        let fallback_tag = referrers_tag(&subject.digest);
        let mut found: Vec<Descriptor> = Vec::new();
        for entry in &self.index.manifests {
            if entry.digest == subject.digest || !entry.media_type.is_any_manifest() {
                continue;
            }
            let manifest = self.parsed(entry).await?;
            let listed = if ref_name(entry) == Some(fallback_tag.as_str()) {
                manifest.children().into_iter().cloned().collect()
            } else if manifest
                .subject()
                .is_some_and(|own| own.digest == subject.digest)
            {
                vec![manifest.referrer_descriptor()]
            } else {
                Vec::new()
            };
            for referrer in listed {
                if !found.iter().any(|known| known.digest == referrer.digest) {
                    found.push(referrer);
                }
            }
        }
        Ok(found)
    }
}
