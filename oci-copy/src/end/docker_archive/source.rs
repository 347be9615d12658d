//! Reading a Docker archive: each image becomes a synthesised OCI image manifest over the
//! archive's own config and layer files.

use std::collections::HashMap;
use std::path::PathBuf;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use oci_digest::Digester;
use oci_spec_types::{Descriptor, Digest, ImageManifest, Manifest, MediaType};

use crate::end::docker_archive::{ArchivedImage, MANIFEST_FILE, tag_of};
use crate::end::files::Files;
use crate::end::tar_index::TarFiles;
use crate::end::{BlobStream, MAX_MANIFEST_SIZE, Selector, Source};
use crate::error::{ArchiveProblem, Error, Result};

/// A Docker archive (`docker save` output) read as a [`Source`].
pub struct DockerArchiveSource {
    path: PathBuf,
    name: String,
    files: TarFiles,
    /// Every image of the archive, with its synthesised manifest.
    images: Vec<Synthesised>,
}

/// One archived image seen as registry content.
struct Synthesised {
    entry: ArchivedImage,
    manifest: Manifest,
    /// Archive member of each blob.
    members: HashMap<Digest, String>,
}

impl DockerArchiveSource {
    /// Indexes the archive at `path` and synthesises a manifest for each of its images.
    pub async fn open(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let name = format!("docker-archive:{}", path.display());
        let files = TarFiles::index(path.clone()).await?;
        let toc = files
            .read(MANIFEST_FILE, MAX_MANIFEST_SIZE)
            .await?
            .ok_or_else(|| {
                archive_error(&path, ArchiveProblem::MissingMember(MANIFEST_FILE.into()))
            })?;
        let entries: Vec<ArchivedImage> =
            serde_json::from_slice(&toc).map_err(|source| Error::Json {
                path: path.join(MANIFEST_FILE),
                source,
            })?;
        if entries.is_empty() {
            return Err(archive_error(&path, ArchiveProblem::Empty));
        }
        let mut images = Vec::with_capacity(entries.len());
        for entry in entries {
            images.push(synthesise(&files, &path, entry).await?);
        }
        Ok(DockerArchiveSource {
            path,
            name,
            files,
            images,
        })
    }

    fn find(&self, digest: &Digest) -> Option<&Synthesised> {
        self.images
            .iter()
            .find(|image| &image.manifest.digest() == digest)
    }

    fn not_found(&self, digest: &Digest) -> Error {
        Error::ContentNotFound {
            end: self.name.clone(),
            digest: digest.clone(),
        }
    }
}

fn archive_error(path: &std::path::Path, problem: ArchiveProblem) -> Error {
    Error::Archive {
        path: path.to_owned(),
        problem,
    }
}

/// Builds the manifest of one archived image. Uncompressed layers take the digest the
/// config lists for them (`rootfs.diff_ids`, checked when the layer is streamed);
/// compressed ones are hashed here, once.
async fn synthesise(
    files: &TarFiles,
    path: &std::path::Path,
    entry: ArchivedImage,
) -> Result<Synthesised> {
    let missing =
        |member: &str| archive_error(path, ArchiveProblem::MissingMember(member.to_owned()));
    let config_bytes = files
        .read(&entry.config, MAX_MANIFEST_SIZE)
        .await?
        .ok_or_else(|| missing(&entry.config))?;
    let diff_ids = diff_ids(&config_bytes).map_err(|source| Error::Json {
        path: path.join(&entry.config),
        source,
    })?;
    if diff_ids.len() != entry.layers.len() {
        let problem = ArchiveProblem::LayerCountMismatch {
            layers: entry.layers.len(),
            diff_ids: diff_ids.len(),
        };
        return Err(archive_error(path, problem));
    }
    let config = Descriptor::new(
        MediaType::OciImageConfig,
        Digest::compute(&config_bytes),
        config_bytes.len() as u64,
    );
    let mut members = HashMap::from([(config.digest.clone(), entry.config.clone())]);
    let mut layers = Vec::with_capacity(entry.layers.len());
    for (member, diff_id) in entry.layers.iter().zip(diff_ids) {
        let size = files.size(member).await?.ok_or_else(|| missing(member))?;
        let (media_type, digest) = match sniff(files, member).await? {
            Compression::None => (MediaType::OciLayerTar, diff_id),
            Compression::Gzip => (MediaType::OciLayerTarGzip, hash(files, member).await?),
            Compression::Zstd => (MediaType::OciLayerTarZstd, hash(files, member).await?),
        };
        members.insert(digest.clone(), member.clone());
        layers.push(Descriptor::new(media_type, digest, size));
    }
    let manifest =
        Manifest::from_image(ImageManifest::new(config, layers)).map_err(Error::BuildManifest)?;
    Ok(Synthesised {
        entry,
        manifest,
        members,
    })
}

/// `rootfs.diff_ids` of an image config.
fn diff_ids(config: &[u8]) -> std::result::Result<Vec<Digest>, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Config {
        rootfs: RootFs,
    }
    #[derive(serde::Deserialize)]
    struct RootFs {
        #[serde(default)]
        diff_ids: Vec<Digest>,
    }
    Ok(serde_json::from_slice::<Config>(config)?.rootfs.diff_ids)
}

enum Compression {
    None,
    Gzip,
    Zstd,
}

/// Tells a compressed layer from a plain tar by its first bytes.
async fn sniff(files: &TarFiles, member: &str) -> Result<Compression> {
    let mut stream = files.open(member, 0).await?;
    let head = match stream.next().await {
        Some(chunk) => chunk?,
        None => Bytes::new(),
    };
    Ok(match head.as_ref() {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
        _ => Compression::None,
    })
}

async fn hash(files: &TarFiles, member: &str) -> Result<Digest> {
    let mut stream = files.open(member, 0).await?;
    let mut digester = Digester::sha256();
    while let Some(chunk) = stream.next().await {
        digester.update(&chunk?);
    }
    Ok(digester.finish())
}

#[async_trait]
impl Source for DockerArchiveSource {
    fn describe(&self) -> String {
        self.name.clone()
    }

    /// A tag selects the image whose `RepoTags` has it (as `name:tag` or as the tag
    /// alone); the default is the only image.
    async fn resolve(&self, selector: &Selector) -> Result<Descriptor> {
        let image = match selector {
            Selector::Default => match self.images.as_slice() {
                [only] => only,
                many => {
                    return Err(Error::AmbiguousImage {
                        end: self.name.clone(),
                        count: many.len(),
                    });
                }
            },
            Selector::Tag(wanted) => self
                .images
                .iter()
                .find(|image| {
                    let tags = image.entry.repo_tags.iter().flatten();
                    tags.into_iter()
                        .any(|full| full == wanted || tag_of(full) == Some(wanted.as_str()))
                })
                .ok_or_else(|| {
                    archive_error(&self.path, ArchiveProblem::NoSuchName(wanted.clone()))
                })?,
            Selector::Digest(digest) => self.find(digest).ok_or_else(|| self.not_found(digest))?,
            Selector::Position(position) => {
                self.images
                    .get(*position)
                    .ok_or_else(|| Error::PositionNotFound {
                        end: self.name.clone(),
                        position: *position,
                        count: self.images.len(),
                    })?
            }
        };
        let manifest = &image.manifest;
        Ok(Descriptor::new(
            manifest.media_type(),
            manifest.digest(),
            manifest.size(),
        ))
    }

    async fn tags(&self) -> Result<Vec<String>> {
        let all = self
            .images
            .iter()
            .flat_map(|image| image.entry.repo_tags.iter().flatten());
        Ok(all
            .filter_map(|full| tag_of(full))
            .map(str::to_owned)
            .collect())
    }

    async fn manifest(&self, descriptor: &Descriptor) -> Result<Bytes> {
        let image = self
            .find(&descriptor.digest)
            .ok_or_else(|| self.not_found(&descriptor.digest))?;
        Ok(image.manifest.raw().clone())
    }

    async fn blob(&self, descriptor: &Descriptor, offset: u64) -> Result<BlobStream> {
        let member = self
            .images
            .iter()
            .find_map(|image| image.members.get(&descriptor.digest))
            .ok_or_else(|| self.not_found(&descriptor.digest))?;
        self.files.open(member, offset).await
    }

    async fn referrers(&self, _subject: &Descriptor) -> Result<Vec<Descriptor>> {
        Ok(Vec::new())
    }
}
