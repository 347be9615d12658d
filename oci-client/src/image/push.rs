//! Pushing an image from a config and layers held as bytes, files or streams: each blob is
//! pushed unless the repository has it, then the manifest, by digest and under its tags.

use std::io;
use std::path::PathBuf;
use std::pin::Pin;

use bytes::Bytes;
use futures_core::Stream;
use oci_digest::{Digest, Digester};
use oci_spec_types::{Descriptor, ImageManifest, Manifest, MediaType};
use tokio::io::AsyncReadExt;

use crate::client::Client;
use crate::endpoints::manifests::PushedManifest;
use crate::endpoints::push::UploadMethod;
use crate::error::Error;
use crate::repository::Repository;

/// A stream of blob bytes.
type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, io::Error>> + Send>>;

/// Where a blob's bytes come from.
enum Content {
    Bytes(Bytes),
    File(PathBuf),
    Stream {
        digest: Digest,
        size: u64,
        stream: ByteStream,
    },
}

/// A config or layer to push: its media type and its bytes, held in memory, in a file or
/// coming from a stream.
pub struct Blob {
    media_type: MediaType,
    content: Content,
}

impl Blob {
    /// Bytes held in memory (a config, a small layer); the digest is computed.
    pub fn bytes(media_type: MediaType, data: impl Into<Bytes>) -> Blob {
        Blob {
            media_type,
            content: Content::Bytes(data.into()),
        }
    }

    /// A file, read once to compute its digest and once more to push it.
    pub fn file(media_type: MediaType, path: impl Into<PathBuf>) -> Blob {
        Blob {
            media_type,
            content: Content::File(path.into()),
        }
    }

    /// A stream of known digest and size, pushed as it comes (and checked by the registry).
    pub fn stream<S>(media_type: MediaType, digest: Digest, size: u64, stream: S) -> Blob
    where
        S: Stream<Item = Result<Bytes, io::Error>> + Send + 'static,
    {
        Blob {
            media_type,
            content: Content::Stream {
                digest,
                size,
                stream: Box::pin(stream),
            },
        }
    }
}

impl std::fmt::Debug for Blob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let content = match &self.content {
            Content::Bytes(bytes) => format!("{} bytes", bytes.len()),
            Content::File(path) => path.display().to_string(),
            Content::Stream { digest, .. } => format!("stream of {digest}"),
        };
        f.debug_struct("Blob")
            .field("media_type", &self.media_type)
            .field("content", &content)
            .finish()
    }
}

impl Client {
    /// Pushes an image: `config` and `layers` (each skipped when the repository already has
    /// it), then an OCI image manifest naming them, by digest and under each of `tags`.
    pub async fn push_image(
        &self,
        repository: &Repository,
        config: Blob,
        layers: Vec<Blob>,
        tags: &[&str],
    ) -> Result<PushedManifest, Error> {
        let config = self.push_image_blob(repository, config).await?;
        let mut descriptors = Vec::with_capacity(layers.len());
        for layer in layers {
            descriptors.push(self.push_image_blob(repository, layer).await?);
        }
        let manifest = Manifest::from_image(ImageManifest::new(config, descriptors))?;
        self.put_manifest_with_tags(repository, &manifest, tags)
            .await
    }

    /// Pushes one blob unless the repository has it; its descriptor.
    async fn push_image_blob(
        &self,
        repository: &Repository,
        blob: Blob,
    ) -> Result<Descriptor, Error> {
        let (digest, size, stream): (Digest, u64, ByteStream) = match blob.content {
            Content::Bytes(bytes) => {
                let size = bytes.len() as u64;
                let digest = Digest::compute(&bytes);
                (
                    digest,
                    size,
                    Box::pin(futures_util::stream::iter([Ok(bytes)])),
                )
            }
            Content::File(path) => {
                let (digest, size) = hash_file(&path).await?;
                let file = tokio::fs::File::open(&path).await.map_err(Error::Source)?;
                (
                    digest,
                    size,
                    Box::pin(tokio_util::io::ReaderStream::new(file)),
                )
            }
            Content::Stream {
                digest,
                size,
                stream,
            } => (digest, size, stream),
        };
        if self.head_blob(repository, &digest).await?.is_none() {
            self.push_blob(repository, &digest, size, stream, UploadMethod::default())
                .await?;
        }
        Ok(Descriptor::new(blob.media_type, digest, size))
    }
}

/// The SHA-256 digest and size of a file, read in pieces.
async fn hash_file(path: &std::path::Path) -> Result<(Digest, u64), Error> {
    let mut file = tokio::fs::File::open(path).await.map_err(Error::Source)?;
    let mut digester = Digester::sha256();
    let mut buffer = vec![0; 64 * 1024];
    loop {
        let read = file.read(&mut buffer).await.map_err(Error::Source)?;
        if read == 0 {
            break;
        }
        digester.update(&buffer[..read]);
    }
    let size = digester.bytes_hashed();
    Ok((digester.finish(), size))
}
