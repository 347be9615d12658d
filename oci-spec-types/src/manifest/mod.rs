//! Manifests: the typed shapes, and the [`Manifest`] enum that parses bytes into one of
//! them while keeping the bytes.

pub mod docker;
pub mod image;
pub mod index;
mod parse;
pub mod parsed;
mod validate;

use std::collections::BTreeMap;

use bytes::Bytes;
use oci_digest::Digest;

use crate::descriptor::Descriptor;
use crate::error::ManifestError;
use crate::media_type::MediaType;
use image::ImageManifest;
use index::ImageIndex;
use parse::{Mode, parse};
use parsed::Parsed;

/// A manifest of any supported kind, with the exact bytes it was read from.
///
/// Build one with [`parse_strict`](Self::parse_strict) (content a client pushes),
/// [`parse_lenient`](Self::parse_lenient) (content already stored) or
/// [`from_image`](Self::from_image)/[`from_index`](Self::from_index) (content built in
/// memory). [`digest`](Self::digest) is always the digest of [`raw`](Self::raw).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Manifest {
    /// An OCI image manifest (`application/vnd.oci.image.manifest.v1+json`).
    Image(Parsed<ImageManifest>),
    /// An OCI image index (`application/vnd.oci.image.index.v1+json`).
    Index(Parsed<ImageIndex>),
    /// A Docker schema 2 image manifest (`application/vnd.docker.distribution.manifest.v2+json`).
    DockerV2(Parsed<ImageManifest>),
    /// A Docker manifest list (`application/vnd.docker.distribution.manifest.list.v2+json`).
    DockerList(Parsed<ImageIndex>),
}

impl Manifest {
    /// Parses a manifest a client pushes, with the `Content-Type` it came with.
    ///
    /// The kind comes from the `Content-Type` when it names a manifest type (the
    /// `mediaType` field must then agree), else from the `mediaType` field, else from the
    /// fields present. Refused: schema 1, `schemaVersion` other than 2, a mix of image and
    /// index fields, malformed descriptors and `data` that does not match its descriptor.
    pub fn parse_strict(
        bytes: Bytes,
        content_type: Option<&str>,
    ) -> Result<Manifest, ManifestError> {
        parse(bytes, content_type, Mode::Strict)
    }

    /// Parses a manifest already stored, accepting anything the types can hold: only
    /// bytes that are not JSON, schema 1, or JSON that fits no manifest type are refused.
    /// The kind comes from the `mediaType` field when it names a manifest type the fields
    /// fit (the bytes are what the digest covers), else from the `Content-Type`, else
    /// from the fields present.
    pub fn parse_lenient(
        bytes: Bytes,
        content_type: Option<&str>,
    ) -> Result<Manifest, ManifestError> {
        parse(bytes, content_type, Mode::Lenient)
    }

    /// Serialises an image manifest built in memory; the bytes written become its raw
    /// bytes. A `mediaType` of Docker schema 2 gives [`Manifest::DockerV2`].
    pub fn from_image(manifest: ImageManifest) -> Result<Manifest, ManifestError> {
        let raw = Bytes::from(serde_json::to_vec(&manifest).map_err(ManifestError::Encode)?);
        let docker = manifest.media_type == Some(MediaType::DockerManifestV2);
        let parsed = Parsed::new(manifest, raw);
        Ok(if docker {
            Manifest::DockerV2(parsed)
        } else {
            Manifest::Image(parsed)
        })
    }

    /// Serialises an index built in memory; the bytes written become its raw bytes. A
    /// `mediaType` of Docker's manifest list gives [`Manifest::DockerList`].
    pub fn from_index(index: ImageIndex) -> Result<Manifest, ManifestError> {
        let raw = Bytes::from(serde_json::to_vec(&index).map_err(ManifestError::Encode)?);
        let docker = index.media_type == Some(MediaType::DockerManifestList);
        let parsed = Parsed::new(index, raw);
        Ok(if docker {
            Manifest::DockerList(parsed)
        } else {
            Manifest::Index(parsed)
        })
    }

    /// The exact bytes the manifest was read from.
    pub fn raw(&self) -> &Bytes {
        match self {
            Manifest::Image(image) | Manifest::DockerV2(image) => image.raw(),
            Manifest::Index(index) | Manifest::DockerList(index) => index.raw(),
        }
    }

    /// SHA-256 digest of [`raw`](Self::raw).
    pub fn digest(&self) -> Digest {
        match self {
            Manifest::Image(image) | Manifest::DockerV2(image) => image.digest().clone(),
            Manifest::Index(index) | Manifest::DockerList(index) => index.digest().clone(),
        }
    }

    /// Length of [`raw`](Self::raw) in bytes: the `size` of a descriptor pointing here.
    pub fn size(&self) -> u64 {
        self.raw().len() as u64
    }

    /// A descriptor pointing here: media type, digest and size (for an index entry, a
    /// `subject`, or a fetch by descriptor).
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(self.media_type(), self.digest(), self.size())
    }

    /// The media type of this kind of manifest, to serve as its `Content-Type`.
    pub fn media_type(&self) -> MediaType {
        match self {
            Manifest::Image(_) => MediaType::OciImageManifest,
            Manifest::Index(_) => MediaType::OciImageIndex,
            Manifest::DockerV2(_) => MediaType::DockerManifestV2,
            Manifest::DockerList(_) => MediaType::DockerManifestList,
        }
    }

    /// The image manifest, for [`Image`](Self::Image) and [`DockerV2`](Self::DockerV2).
    pub fn image(&self) -> Option<&ImageManifest> {
        match self {
            Manifest::Image(image) | Manifest::DockerV2(image) => Some(image),
            Manifest::Index(_) | Manifest::DockerList(_) => None,
        }
    }

    /// The index, for [`Index`](Self::Index) and [`DockerList`](Self::DockerList).
    pub fn index(&self) -> Option<&ImageIndex> {
        match self {
            Manifest::Index(index) | Manifest::DockerList(index) => Some(index),
            Manifest::Image(_) | Manifest::DockerV2(_) => None,
        }
    }

    /// The manifest this one refers to, if any.
    pub fn subject(&self) -> Option<&Descriptor> {
        match self {
            Manifest::Image(image) | Manifest::DockerV2(image) => image.subject.as_ref(),
            Manifest::Index(index) | Manifest::DockerList(index) => index.subject.as_ref(),
        }
    }

    /// The artifact type by the referrers rule: `artifactType` when set, else, for an
    /// image, its config's media type.
    pub fn artifact_type(&self) -> Option<MediaType> {
        match self {
            Manifest::Image(image) | Manifest::DockerV2(image) => {
                Some(image.effective_artifact_type())
            }
            Manifest::Index(index) | Manifest::DockerList(index) => index.artifact_type.clone(),
        }
    }

    /// The manifest's own annotations.
    pub fn annotations(&self) -> Option<&BTreeMap<String, String>> {
        match self {
            Manifest::Image(image) | Manifest::DockerV2(image) => image.annotations.as_ref(),
            Manifest::Index(index) | Manifest::DockerList(index) => index.annotations.as_ref(),
        }
    }

    /// The blobs a registry must hold for this manifest: the config and the layers,
    /// except layers that are non-distributable or carry download `urls`. Empty for an
    /// index.
    pub fn blobs(&self) -> Vec<&Descriptor> {
        let Some(image) = self.image() else {
            return Vec::new();
        };
        let layers = image
            .layers
            .iter()
            .filter(|layer| !layer.is_non_distributable());
        std::iter::once(&image.config).chain(layers).collect()
    }

    /// The manifests an index lists. Empty for an image manifest.
    pub fn children(&self) -> Vec<&Descriptor> {
        self.index()
            .map(|index| index.manifests.iter().collect())
            .unwrap_or_default()
    }
}
