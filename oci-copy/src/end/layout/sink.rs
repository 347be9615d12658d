//! Writing an image layout: every file lands through a temporary file and a rename, so a
//! reader never sees a partial blob or a half-written `index.json`.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use oci_spec_types::{
    ANNOTATION_REF_NAME, Descriptor, Digest, INDEX_FILE, ImageIndex, OCI_LAYOUT_FILE, OciLayout,
};
use tokio::io::AsyncWriteExt;

use crate::end::files::{DirFiles, Files};
use crate::end::layout::{blob_path, read_index, ref_name};
use crate::end::partial_file::partial_file;
use crate::end::{BlobContent, BlobStream, Sink, bare};
use crate::error::{Error, Result};

/// An image layout folder written as a [`Sink`] (`oci:DIR[:tag]`). Existing content is
/// kept; a tag that is written again moves to the new image.
pub struct LayoutSink {
    root: PathBuf,
    name: String,
    /// Serialises read-modify-write cycles of `index.json`.
    index_lock: tokio::sync::Mutex<()>,
}

impl LayoutSink {
    /// Opens the layout in `dir`, creating the folder, `oci-layout` and an empty
    /// `index.json` when missing.
    pub async fn create(dir: impl Into<PathBuf>) -> Result<Self> {
        let root = dir.into();
        let name = format!("oci:{}", root.display());
        Self::create_named(root, name).await
    }

    /// As [`create`](Self::create), named `name` in messages.
    pub(crate) async fn create_named(root: PathBuf, name: String) -> Result<Self> {
        tokio::fs::create_dir_all(root.join("blobs"))
            .await
            .map_err(|e| Error::io(&root, e))?;
        let sink = LayoutSink {
            root,
            name,
            index_lock: tokio::sync::Mutex::new(()),
        };
        let files = DirFiles::new(&sink.root);
        if files.size(OCI_LAYOUT_FILE).await?.is_none() {
            let marker = serde_json::to_vec(&OciLayout::default())
                .map_err(|source| sink.json_error(OCI_LAYOUT_FILE, source))?;
            sink.write_file(OCI_LAYOUT_FILE, Bytes::from(marker))
                .await?;
        }
        if files.size(INDEX_FILE).await?.is_none() {
            sink.write_index(&ImageIndex::new(Vec::new())).await?;
        }
        // Fails on a layout of a version we do not write.
        read_index(&files).await?;
        Ok(sink)
    }

    /// The layout's folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn json_error(&self, file: &str, source: serde_json::Error) -> Error {
        Error::Json {
            path: self.root.join(file),
            source,
        }
    }

    async fn present(&self, descriptor: &Descriptor) -> Result<bool> {
        let size = DirFiles::new(&self.root)
            .size(&blob_path(&descriptor.digest))
            .await?;
        Ok(size == Some(descriptor.size))
    }

    async fn read_index(&self) -> Result<ImageIndex> {
        read_index(&DirFiles::new(&self.root)).await
    }

    async fn write_index(&self, index: &ImageIndex) -> Result<()> {
        let bytes =
            serde_json::to_vec(index).map_err(|source| self.json_error(INDEX_FILE, source))?;
        self.write_file(INDEX_FILE, Bytes::from(bytes)).await
    }

    async fn write_file(&self, relative: &str, bytes: Bytes) -> Result<()> {
        let stream: BlobStream = Box::pin(futures_util::stream::once(async move { Ok(bytes) }));
        write_atomically(&self.root, &self.root.join(relative), stream)
            .await
            .map(drop)
    }
}

#[async_trait]
impl Sink for LayoutSink {
    fn describe(&self) -> String {
        self.name.clone()
    }

    async fn has_blob(&self, descriptor: &Descriptor) -> Result<bool> {
        self.present(descriptor).await
    }

    async fn has_manifest(&self, descriptor: &Descriptor) -> Result<bool> {
        self.present(descriptor).await
    }

    async fn tagged(&self, tag: &str) -> Result<Option<Digest>> {
        let index = self.read_index().await?;
        Ok(index
            .manifests
            .iter()
            .find(|entry| ref_name(entry) == Some(tag))
            .map(|entry| entry.digest.clone()))
    }

    async fn put_blob(&self, descriptor: &Descriptor, content: &dyn BlobContent) -> Result<u64> {
        let stream = content.open(0).await?;
        write_atomically(
            &self.root,
            &self.root.join(blob_path(&descriptor.digest)),
            stream,
        )
        .await
    }

    async fn put_manifest(&self, descriptor: &Descriptor, bytes: Bytes) -> Result<()> {
        Error::check(&descriptor.digest, &bytes)?;
        self.write_file(&blob_path(&descriptor.digest), bytes).await
    }

    async fn tag(&self, tag: Option<&str>, root: &Descriptor) -> Result<()> {
        let _guard = self.index_lock.lock().await;
        let mut index = self.read_index().await?;
        let mut entry = bare(root);
        entry.platform = root.platform.clone();
        match tag {
            Some(tag) => {
                index
                    .manifests
                    .retain(|existing| ref_name(existing) != Some(tag));
                entry.annotations = Some([(ANNOTATION_REF_NAME.to_owned(), tag.to_owned())].into());
            }
            None if index
                .manifests
                .iter()
                .any(|e| e.digest == root.digest && ref_name(e).is_none()) =>
            {
                return Ok(());
            }
            None => {}
        }
        index.manifests.push(entry);
        self.write_index(&index).await
    }
}

/// Writes `stream` to a temporary file in `temp_dir`, flushes it to disk, and renames it
/// to `destination` (creating its folder). Nothing is left behind on failure. Returns the
/// bytes written.
pub(crate) async fn write_atomically(
    temp_dir: &Path,
    destination: &Path,
    mut stream: BlobStream,
) -> Result<u64> {
    if let Some(parent) = destination.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| Error::io(parent, e))?;
    }
    let temp = partial_file(temp_dir, ".partial")?;
    let (file, temp_path) = temp.into_parts();
    let mut file = tokio::fs::File::from_std(file);
    let io_error = |e| Error::io(&temp_path, e);
    let mut written = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        file.write_all(&chunk).await.map_err(io_error)?;
        written += chunk.len() as u64;
    }
    file.sync_all().await.map_err(io_error)?;
    drop(file);
    temp_path
        .persist(destination)
        .map_err(|e| Error::io(destination, e.error))?;
    Ok(written)
}
