//! `oci-archive:FILE`: an image layout inside an uncompressed tar archive.
//!
//! Reading indexes the archive once and streams members in place (nothing is extracted).
//! Writing stages a layout in a temporary folder beside the archive and tars it up when
//! the copy finishes; an existing archive is replaced as a whole, as skopeo does.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use oci_spec_types::{Descriptor, Digest};

use crate::end::layout::{LayoutSink, LayoutSource};
use crate::end::tar_index::TarFiles;
use crate::end::tar_write::{tree, write_tar};
use crate::end::{BlobContent, BlobStream, Selector, Sink, Source};
use crate::error::{Error, Result};

/// An OCI archive read as a [`Source`].
pub struct OciArchiveSource {
    layout: LayoutSource,
}

impl OciArchiveSource {
    /// Indexes the archive at `path` and reads its `index.json`.
    pub async fn open(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let name = format!("oci-archive:{}", path.display());
        let files = TarFiles::index(path).await?;
        Ok(OciArchiveSource {
            layout: LayoutSource::from_files(Arc::new(files), name).await?,
        })
    }
}

#[async_trait]
impl Source for OciArchiveSource {
    fn describe(&self) -> String {
        self.layout.describe()
    }

    async fn resolve(&self, selector: &Selector) -> Result<Descriptor> {
        self.layout.resolve(selector).await
    }

    async fn tags(&self) -> Result<Vec<String>> {
        self.layout.tags().await
    }

    async fn manifest(&self, descriptor: &Descriptor) -> Result<Bytes> {
        self.layout.manifest(descriptor).await
    }

    async fn blob(&self, descriptor: &Descriptor, offset: u64) -> Result<BlobStream> {
        self.layout.blob(descriptor, offset).await
    }

    async fn referrers(&self, subject: &Descriptor) -> Result<Vec<Descriptor>> {
        self.layout.referrers(subject).await
    }
}

/// An OCI archive written as a [`Sink`]; the archive appears when
/// [`finish`](Sink::finish) runs.
pub struct OciArchiveSink {
    path: PathBuf,
    name: String,
    layout: LayoutSink,
    /// The staging folder, removed when the sink is dropped.
    _staging: tempfile::TempDir,
}

impl OciArchiveSink {
    /// Prepares to write the archive `path` (replaced if it exists).
    pub async fn create(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let staging = staging_dir(&path)?;
        let name = format!("oci-archive:{}", path.display());
        let layout = LayoutSink::create_named(staging.path().to_owned(), name.clone()).await?;
        Ok(OciArchiveSink {
            path,
            name,
            layout,
            _staging: staging,
        })
    }
}

/// A temporary folder beside `archive`, so the final rename stays on one filesystem.
pub(crate) fn staging_dir(archive: &std::path::Path) -> Result<tempfile::TempDir> {
    let folder = match archive.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    tempfile::Builder::new()
        .prefix(".oci-copy-staging-")
        .tempdir_in(&folder)
        .map_err(|e| Error::io(folder, e))
}

#[async_trait]
impl Sink for OciArchiveSink {
    fn describe(&self) -> String {
        self.name.clone()
    }

    async fn has_blob(&self, descriptor: &Descriptor) -> Result<bool> {
        self.layout.has_blob(descriptor).await
    }

    async fn has_manifest(&self, descriptor: &Descriptor) -> Result<bool> {
        self.layout.has_manifest(descriptor).await
    }

    async fn tagged(&self, tag: &str) -> Result<Option<Digest>> {
        self.layout.tagged(tag).await
    }

    async fn put_blob(&self, descriptor: &Descriptor, content: &dyn BlobContent) -> Result<u64> {
        self.layout.put_blob(descriptor, content).await
    }

    async fn put_manifest(&self, descriptor: &Descriptor, bytes: Bytes) -> Result<()> {
        self.layout.put_manifest(descriptor, bytes).await
    }

    async fn tag(&self, tag: Option<&str>, root: &Descriptor) -> Result<()> {
        self.layout.tag(tag, root).await
    }

    async fn finish(&self) -> Result<()> {
        let staging = self.layout.root().to_owned();
        let members = tokio::task::spawn_blocking(move || tree(&staging)).await??;
        write_tar(self.path.clone(), members).await
    }
}
