//! Writing a Docker archive: content is staged as a layout beside the archive, then the
//! config and layer files and a `manifest.json` are written as the `docker load` format.

use std::path::PathBuf;
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::Bytes;
use oci_spec_types::{Descriptor, Digest, Manifest};

use crate::end::docker_archive::{ArchivedImage, MANIFEST_FILE};
use crate::end::files::{DirFiles, Files};
use crate::end::layout::{LayoutSink, blob_path};
use crate::end::oci_archive::staging_dir;
use crate::end::tar_write::{TarMember, write_tar};
use crate::end::{BlobContent, MAX_MANIFEST_SIZE, Sink, SinkTraits};
use crate::error::{ArchiveProblem, Error, Result};

/// A Docker archive written as a [`Sink`]; the archive appears when
/// [`finish`](Sink::finish) runs. Single-platform images only; the image manifest itself
/// is not kept (the format has no place for it).
pub struct DockerArchiveSink {
    path: PathBuf,
    name: String,
    /// The repository written before each tag in `RepoTags` (`name:tag`).
    repository: Option<String>,
    layout: LayoutSink,
    /// Roots in the order they were named, with their `name:tag` references.
    roots: Mutex<Vec<(Digest, Vec<String>)>>,
    _staging: tempfile::TempDir,
}

impl DockerArchiveSink {
    /// Prepares to write the archive `path` (replaced if it exists). Tags are recorded as
    /// `repository:tag`; without a repository the images are written untagged.
    pub async fn create(path: impl Into<PathBuf>, repository: Option<String>) -> Result<Self> {
        let path = path.into();
        let staging = staging_dir(&path)?;
        let name = format!("docker-archive:{}", path.display());
        let layout = LayoutSink::create_named(staging.path().to_owned(), name.clone()).await?;
        Ok(DockerArchiveSink {
            path,
            name,
            repository,
            layout,
            roots: Mutex::new(Vec::new()),
            _staging: staging,
        })
    }

    fn not_single(&self, why: &'static str) -> Error {
        Error::Archive {
            path: self.path.clone(),
            problem: ArchiveProblem::NotSingleImage(why),
        }
    }

    /// The archive members of one image, and its `manifest.json` entry.
    async fn image_members(
        &self,
        root: &Digest,
        repo_tags: Vec<String>,
        members: &mut Vec<(String, TarMember)>,
    ) -> Result<ArchivedImage> {
        let staged = DirFiles::new(self.layout.root());
        let bytes = staged
            .read(&blob_path(root), MAX_MANIFEST_SIZE)
            .await?
            .ok_or_else(|| Error::ContentNotFound {
                end: self.name.clone(),
                digest: root.clone(),
            })?;
        let manifest = Manifest::parse_lenient(bytes, None).map_err(|source| Error::Manifest {
            digest: root.clone(),
            source,
        })?;
        let image = manifest.image().ok_or_else(|| {
            self.not_single("an index cannot be written to a Docker archive; choose one platform")
        })?;
        let mut add = |descriptor: &Descriptor, suffix: &str| {
            let name = format!("{}{suffix}", descriptor.digest.encoded());
            let staged_file = self.layout.root().join(blob_path(&descriptor.digest));
            if !members.iter().any(|(existing, _)| existing == &name) {
                members.push((name.clone(), TarMember::File(staged_file)));
            }
            name
        };
        let config = add(&image.config, ".json");
        let layers = image
            .layers
            .iter()
            .map(|layer| add(layer, ".tar"))
            .collect();
        let repo_tags = (!repo_tags.is_empty()).then_some(repo_tags);
        Ok(ArchivedImage {
            config,
            repo_tags,
            layers,
        })
    }
}

#[async_trait]
impl Sink for DockerArchiveSink {
    fn describe(&self) -> String {
        self.name.clone()
    }

    fn traits(&self) -> SinkTraits {
        SinkTraits {
            single_image_only: true,
            keeps_manifest_digests: false,
        }
    }

    async fn has_blob(&self, descriptor: &Descriptor) -> Result<bool> {
        self.layout.has_blob(descriptor).await
    }

    async fn has_manifest(&self, descriptor: &Descriptor) -> Result<bool> {
        self.layout.has_manifest(descriptor).await
    }

    async fn tagged(&self, _tag: &str) -> Result<Option<Digest>> {
        Ok(None)
    }

    async fn put_blob(&self, descriptor: &Descriptor, content: &dyn BlobContent) -> Result<u64> {
        self.layout.put_blob(descriptor, content).await
    }

    async fn put_manifest(&self, descriptor: &Descriptor, bytes: Bytes) -> Result<()> {
        if descriptor.media_type.is_index() {
            return Err(self.not_single(
                "an index cannot be written to a Docker archive; choose one platform",
            ));
        }
        self.layout.put_manifest(descriptor, bytes).await
    }

    async fn tag(&self, tag: Option<&str>, root: &Descriptor) -> Result<()> {
        let reference = match (&self.repository, tag) {
            (Some(repository), Some(tag)) => Some(format!("{repository}:{tag}")),
            _ => None,
        };
        let mut roots = self
            .roots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match roots.iter_mut().find(|(digest, _)| digest == &root.digest) {
            Some((_, tags)) => tags.extend(reference),
            None => roots.push((root.digest.clone(), reference.into_iter().collect())),
        }
        Ok(())
    }

    async fn finish(&self) -> Result<()> {
        let roots = self
            .roots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let mut members = Vec::new();
        let mut toc = Vec::with_capacity(roots.len());
        for (root, repo_tags) in roots {
            toc.push(self.image_members(&root, repo_tags, &mut members).await?);
        }
        let toc = serde_json::to_vec(&toc).map_err(|source| Error::Json {
            path: self.path.join(MANIFEST_FILE),
            source,
        })?;
        members.push((MANIFEST_FILE.to_owned(), TarMember::Bytes(toc)));
        write_tar(self.path.clone(), members).await
    }
}
