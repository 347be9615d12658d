//! The two ends of a copy: [`Source`] (where content is read) and [`Sink`] (where it is
//! written), and their implementations: registries, image layouts, OCI and Docker archives.
//!
//! The traits are used as `Arc<dyn Source>`/`Arc<dyn Sink>` (a plan's ends are chosen at run
//! time), so their async methods must box their futures; they use `async_trait` for it because
//! users implement them for ends of their own, and the attribute spares every implementation
//! the hand-written box (oci-server-core's `Storage`, which users rarely implement, boxes by
//! hand instead).

mod content;
pub(crate) mod docker_archive;
pub(crate) mod files;
pub(crate) mod layout;
mod oci_archive;
mod partial_file;
mod registry;
pub(crate) mod tar_index;
mod tar_write;

use std::fmt;
use std::num::NonZeroU64;
use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures_core::Stream;
use oci_distribution_client::{Client, Repository, UploadSession};
use oci_spec_types::{Descriptor, Digest};
use serde::{Deserialize, Serialize};

use crate::error::Result;

pub use content::FileContent;
pub use docker_archive::{DockerArchiveSink, DockerArchiveSource};
pub use layout::{LayoutSink, LayoutSource};
pub use oci_archive::{OciArchiveSink, OciArchiveSource};
pub use registry::{RegistryEnd, RegistryOptions};

/// A blob's bytes, in chunks, as they arrive.
pub type BlobStream = Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>;

/// Which image of a source to take.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Selector {
    /// The image under this tag.
    Tag(String),
    /// The manifest with this digest.
    Digest(Digest),
    /// The end's default: `latest` in a registry, the only image of a layout or archive.
    Default,
    /// The image at this position (from 0) of a layout's `index.json` or an archive's
    /// list, as skopeo's `docker-archive:FILE@N`.
    Position(usize),
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::Tag(tag) => write!(f, ":{tag}"),
            Selector::Digest(digest) => write!(f, "@{digest}"),
            Selector::Default => f.write_str(""),
            Selector::Position(position) => write!(f, "@{position}"),
        }
    }
}

/// A repository on a registry: where a blob can be mounted from, and whose host a
/// concurrency limit applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RepositoryAddress {
    /// `host[:port]`.
    pub registry: String,
    /// The repository name.
    pub repository: String,
}

impl fmt::Display for RepositoryAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)
    }
}

/// Where content is read from.
#[async_trait]
pub trait Source: Send + Sync {
    /// A short human-readable name, such as `oci:/tmp/layout`.
    fn describe(&self) -> String;

    /// The registry repository behind this source, if it is one.
    fn repository(&self) -> Option<RepositoryAddress> {
        None
    }

    /// Whether [`blob`](Self::blob) streams are already checked against their digest
    /// (a registry client does that), so the copy need not hash them a second time.
    fn verifies_blobs(&self) -> bool {
        false
    }

    /// The descriptor of the root manifest the selector names.
    async fn resolve(&self, selector: &Selector) -> Result<Descriptor>;

    /// Every tag the source holds.
    async fn tags(&self) -> Result<Vec<String>>;

    /// The manifest's exact bytes, checked against its digest.
    async fn manifest(&self, descriptor: &Descriptor) -> Result<Bytes>;

    /// The blob's bytes from `offset` on (for resuming). Not checked here: the caller
    /// wraps the stream in a verifier.
    async fn blob(&self, descriptor: &Descriptor, offset: u64) -> Result<BlobStream>;

    /// The same bytes, for a sink that checks them itself ([`Sink::verifies_blobs`]): a
    /// source that verifies what [`blob`](Self::blob) hands out may skip that work here.
    async fn blob_unverified(&self, descriptor: &Descriptor, offset: u64) -> Result<BlobStream> {
        self.blob(descriptor, offset).await
    }

    /// Descriptors of the manifests whose `subject` is `subject`.
    async fn referrers(&self, subject: &Descriptor) -> Result<Vec<Descriptor>>;

    /// Copies the blob into the registry repository `to` through `client` without the
    /// bytes passing through the copy (a registry source relays them with `splice`, see
    /// `oci_distribution_client::Client::relay_blob`), unhashed: the registry checks them.
    /// `Ok(Some(bytes))` when done; `Ok(None)` when this source or this transfer cannot be
    /// relayed and nothing was sent. `progress` hears the bytes moved so far.
    async fn relay_blob(
        &self,
        descriptor: &Descriptor,
        client: &Client,
        to: &Repository,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<Option<u64>> {
        let _ = (descriptor, client, to, progress);
        Ok(None)
    }

    /// Sends the blob into the upload `session` of `client` in `PATCH`es of `chunk_size`
    /// bytes, from the bytes the session holds on, the same way ([`relay_blob`](Self::relay_blob)),
    /// see `oci_distribution_client::Client::relay_chunks`. `Ok(true)` when the session holds
    /// the whole blob; `Ok(false)` when the rest is to go the usual way, from the session's
    /// offset. After a failure, the session holds what the registry took.
    async fn relay_chunks(
        &self,
        descriptor: &Descriptor,
        client: &Client,
        session: &mut UploadSession,
        chunk_size: NonZeroU64,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<bool> {
        let _ = (descriptor, client, session, chunk_size, progress);
        Ok(false)
    }
}

/// Reopens a blob's content, from any offset, for a [`Sink`] that writes it.
///
/// Opening at offset 0 gives a stream that is verified against the blob's digest and
/// size; a sink that resumes an upload opens at the offset it has reached (the registry
/// then checks the digest of the whole).
#[async_trait]
pub trait BlobContent: Send + Sync {
    /// The content from `offset` on.
    async fn open(&self, offset: u64) -> Result<BlobStream>;

    /// Sends the whole content into the registry repository `to` through `client` without
    /// handing it out, where it comes from a registry that can relay it
    /// ([`Source::relay_blob`]): `Ok(Some(bytes))` when done, `Ok(None)` when the caller is
    /// to [`open`](Self::open) and send it.
    async fn relay_into(&self, client: &Client, to: &Repository) -> Result<Option<u64>> {
        let _ = (client, to);
        Ok(None)
    }

    /// Sends the content into the upload `session` of `client` in `PATCH`es of
    /// `chunk_size` bytes, from the session's offset on, where it comes from a registry that
    /// can relay it ([`Source::relay_chunks`]): `Ok(true)` when the session holds it all,
    /// `Ok(false)` when the caller is to send the rest from the session's offset.
    async fn relay_chunks_into(
        &self,
        client: &Client,
        session: &mut UploadSession,
        chunk_size: NonZeroU64,
    ) -> Result<bool> {
        let _ = (client, session, chunk_size);
        Ok(false)
    }
}

/// What a sink can and cannot keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkTraits {
    /// Holds a single-platform image per name only (Docker archives): an index must be
    /// narrowed to one platform first.
    pub single_image_only: bool,
    /// Keeps manifests byte for byte, so their digests survive (false for Docker
    /// archives, which regenerate the manifest on the way out).
    pub keeps_manifest_digests: bool,
}

impl Default for SinkTraits {
    fn default() -> Self {
        SinkTraits {
            single_image_only: false,
            keeps_manifest_digests: true,
        }
    }
}

/// Where content is written.
#[async_trait]
pub trait Sink: Send + Sync {
    /// A short human-readable name, such as `oci:/tmp/layout`.
    fn describe(&self) -> String;

    /// The registry repository behind this sink, if it is one.
    fn repository(&self) -> Option<RepositoryAddress> {
        None
    }

    /// What the sink can keep.
    fn traits(&self) -> SinkTraits {
        SinkTraits::default()
    }

    /// Whether the sink checks every blob against its digest as it stores it, refusing a
    /// mismatch (a registry does, by protocol), so the copy need not hash the bytes it only
    /// passes through. Sinks that write files say no and get verified streams.
    fn verifies_blobs(&self) -> bool {
        false
    }

    /// Whether the blob is already there.
    async fn has_blob(&self, descriptor: &Descriptor) -> Result<bool>;

    /// Whether the manifest is already there (by digest).
    async fn has_manifest(&self, descriptor: &Descriptor) -> Result<bool>;

    /// The digest the tag points to now, if the tag exists.
    async fn tagged(&self, tag: &str) -> Result<Option<Digest>>;

    /// Writes a blob, reading it from `content`. Returns the bytes written.
    async fn put_blob(&self, descriptor: &Descriptor, content: &dyn BlobContent) -> Result<u64>;

    /// Mounts a blob from another repository of the same registry. `Ok(false)` when the
    /// registry declined (the caller then copies the blob).
    async fn mount_blob(&self, descriptor: &Descriptor, from: &RepositoryAddress) -> Result<bool> {
        let _ = (descriptor, from);
        Ok(false)
    }

    /// Stores manifest bytes under their digest.
    async fn put_manifest(&self, descriptor: &Descriptor, bytes: Bytes) -> Result<()>;

    /// Names a root: points `tag` at it, or with `None` records it as an untagged root
    /// where the sink keeps such a list (a layout's `index.json`).
    async fn tag(&self, tag: Option<&str>, root: &Descriptor) -> Result<()>;

    /// Called once after every step ran: archives are written out here.
    async fn finish(&self) -> Result<()> {
        Ok(())
    }
}

/// The largest manifest read into memory. Registries must take 4 MiB; this leaves room.
pub(crate) const MAX_MANIFEST_SIZE: u64 = 16 * 1024 * 1024;

/// Strips a descriptor to what identifies content (media type, digest, size), dropping
/// the fields that belong to where it is listed (annotations, platform, urls).
pub(crate) fn bare(descriptor: &Descriptor) -> Descriptor {
    let mut bare = Descriptor::new(
        descriptor.media_type.clone(),
        descriptor.digest.clone(),
        descriptor.size,
    );
    bare.artifact_type = descriptor.artifact_type.clone();
    bare
}
