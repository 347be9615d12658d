//! Pulling images: the manifest for a platform (an index resolved), blobs by descriptor into
//! writers and files, and a whole image into a directory.

use std::path::{Path, PathBuf};

use futures_util::TryStreamExt;
use oci_spec_types::{Descriptor, ImageManifest, Platform};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::client::Client;
use crate::endpoints::blob_stream::BlobStream;
use crate::endpoints::manifests::PulledManifest;
use crate::error::Error;
use crate::repository::{ManifestReference, Repository};

/// An image pulled into a directory by [`Client::pull_image`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PulledImage {
    /// The image manifest as pulled (for an index, the one chosen for the platform).
    pub manifest: PulledManifest,
    /// The image manifest, parsed.
    pub image: ImageManifest,
    /// The config blob's file.
    pub config: PathBuf,
    /// The layers' files, in the manifest's order.
    pub layers: Vec<PathBuf>,
}

impl Client {
    /// `GET` the manifest a descriptor points at, checked against its digest and size.
    pub async fn fetch_manifest(
        &self,
        repository: &Repository,
        descriptor: &Descriptor,
    ) -> Result<PulledManifest, Error> {
        let reference = ManifestReference::Digest(descriptor.digest.clone());
        let pulled = self.get_manifest(repository, &reference).await?;
        let found = pulled.bytes.len() as u64;
        if found != descriptor.size {
            return Err(Error::SizeMismatch {
                digest: descriptor.digest.clone(),
                expected: descriptor.size,
                found,
            });
        }
        Ok(pulled)
    }

    /// `GET` the blob a descriptor points at, as a stream checked against its digest and size.
    pub async fn fetch_blob(
        &self,
        repository: &Repository,
        descriptor: &Descriptor,
    ) -> Result<BlobStream, Error> {
        self.get_blob(repository, &descriptor.digest, Some(descriptor.size))
            .await
    }

    /// The image manifest of `reference` for `platform`: the manifest itself when it is an
    /// image, or, for an index (OCI or Docker), the entry matching the platform (see
    /// [`Platform::matches`]) pulled in turn.
    pub async fn pull_manifest_for_platform(
        &self,
        repository: &Repository,
        reference: &ManifestReference,
        platform: &Platform,
    ) -> Result<PulledManifest, Error> {
        let pulled = self.get_manifest(repository, reference).await?;
        let manifest = pulled.parse()?;
        let Some(index) = manifest.index() else {
            return Ok(pulled);
        };
        let entry = index
            .find_platform(platform)
            .ok_or_else(|| Error::NoMatchingPlatform {
                index: pulled.digest.clone(),
                platform: platform.to_string(),
            })?;
        self.fetch_manifest(repository, entry).await
    }

    /// Streams the blob of `descriptor` into `writer`, returning its size. The bytes are
    /// checked on the way and the last write only happens once they verified; a writer that
    /// must never hold unverified bytes should write to a temporary place (as
    /// [`pull_blob_to_file`](Self::pull_blob_to_file) does).
    pub async fn pull_blob_to<W>(
        &self,
        repository: &Repository,
        descriptor: &Descriptor,
        writer: &mut W,
    ) -> Result<u64, Error>
    where
        W: AsyncWrite + Unpin + ?Sized,
    {
        let mut blob = self.fetch_blob(repository, descriptor).await?;
        let mut written = 0;
        while let Some(chunk) = blob.try_next().await? {
            writer.write_all(&chunk).await.map_err(Error::Sink)?;
            written += chunk.len() as u64;
        }
        writer.flush().await.map_err(Error::Sink)?;
        Ok(written)
    }

    /// Streams the blob of `descriptor` into the file `path`: written to `path.partial`
    /// first and renamed once verified, so `path` never holds bad content.
    pub async fn pull_blob_to_file(
        &self,
        repository: &Repository,
        descriptor: &Descriptor,
        path: &Path,
    ) -> Result<(), Error> {
        let mut partial = path.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let written = async {
            let mut file = tokio::fs::File::create(&partial)
                .await
                .map_err(Error::Sink)?;
            self.pull_blob_to(repository, descriptor, &mut file).await?;
            file.sync_all().await.map_err(Error::Sink)
        }
        .await;
        if let Err(error) = written {
            // The partial file is worthless; failing to remove it changes nothing.
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(error);
        }
        tokio::fs::rename(&partial, path).await.map_err(Error::Sink)
    }

    /// Pulls the image `reference` names (for `platform` when it is an index; the host's
    /// platform when `None`) into `dir`: each blob is a file named by its digest's encoded
    /// part, written by [`pull_blob_to_file`](Self::pull_blob_to_file). Blobs already
    /// there are fetched again.
    pub async fn pull_image(
        &self,
        repository: &Repository,
        reference: &ManifestReference,
        platform: Option<&Platform>,
        dir: &Path,
    ) -> Result<PulledImage, Error> {
        let host = Platform::host();
        let platform = platform.unwrap_or(&host);
        let manifest = self
            .pull_manifest_for_platform(repository, reference, platform)
            .await?;
        let parsed = manifest.parse()?;
        let image = parsed.image().cloned().ok_or_else(|| Error::NotAnImage {
            digest: manifest.digest.clone(),
            media_type: parsed.media_type(),
        })?;
        tokio::fs::create_dir_all(dir).await.map_err(Error::Sink)?;
        let path_of = |descriptor: &Descriptor| dir.join(descriptor.digest.encoded());
        self.pull_blob_to_file(repository, &image.config, &path_of(&image.config))
            .await?;
        let mut layers = Vec::with_capacity(image.layers.len());
        for layer in &image.layers {
            let path = path_of(layer);
            self.pull_blob_to_file(repository, layer, &path).await?;
            layers.push(path);
        }
        Ok(PulledImage {
            config: path_of(&image.config),
            manifest,
            image,
            layers,
        })
    }
}
