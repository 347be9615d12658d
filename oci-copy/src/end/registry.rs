//! A registry repository as [`Source`] and [`Sink`], on `oci-distribution-client`.
//!
//! Blobs up to [`RegistryOptions::single_request_limit`] go in one `POST`; larger ones up to
//! [`RegistryOptions::streamed_limit`] stream in one `PUT`; larger still go in chunks that
//! survive a broken connection: the upload status tells how much the registry holds and
//! the content is reopened from there. Downloads resume with `Range` inside the client.

use std::collections::HashMap;
use std::io;
use std::num::NonZeroU64;
use std::sync::Mutex;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures_util::{StreamExt, TryStreamExt};
use oci_distribution_client::{
    Client, ManifestReference, MountOutcome, Relayed, RelayedChunks, Repository, UploadMethod,
    UploadSession,
};
use oci_spec_types::{Descriptor, Digest, ErrorCode, Manifest, MediaType, Tag};

use crate::end::{BlobContent, BlobStream, RepositoryAddress, Selector, Sink, Source};
use crate::error::{Error, Result};

/// How blobs are pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryOptions {
    /// Blobs up to this size go in a single `POST ?digest=` (held in memory: keep it small).
    pub single_request_limit: u64,
    /// Blobs up to this size stream in one `PUT`; a failure starts them over.
    pub streamed_limit: u64,
    /// Chunk size of resumable uploads (larger blobs).
    pub chunk_size: NonZeroU64,
    /// Resumptions of a chunked upload after the client's own retries gave up.
    pub upload_resumes: u32,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        RegistryOptions {
            single_request_limit: 256 * 1024,
            streamed_limit: 256 * 1024 * 1024,
            chunk_size: NonZeroU64::new(16 * 1024 * 1024).expect("not zero"),
            upload_resumes: 3,
        }
    }
}

/// One repository of a registry, read and written through a [`Client`].
pub struct RegistryEnd {
    client: Client,
    repository: Repository,
    options: RegistryOptions,
    /// Manifests written or read, by digest, with their media type: tagging is a `PUT` of
    /// the bytes under the tag.
    manifests: Mutex<HashMap<Digest, (Bytes, MediaType)>>,
}

impl RegistryEnd {
    /// The repository `repository` through `client`.
    pub fn new(client: Client, repository: Repository, options: RegistryOptions) -> Self {
        RegistryEnd {
            client,
            repository,
            options,
            manifests: Mutex::new(HashMap::new()),
        }
    }

    /// The repository.
    pub fn repository_ref(&self) -> &Repository {
        &self.repository
    }

    fn remember(&self, digest: &Digest, bytes: &Bytes, media_type: &MediaType) {
        let mut manifests = self
            .manifests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        manifests.insert(digest.clone(), (bytes.clone(), media_type.clone()));
    }

    fn remembered(&self, digest: &Digest) -> Option<(Bytes, MediaType)> {
        let manifests = self
            .manifests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        manifests.get(digest).cloned()
    }

    /// Pushes a large blob in chunks; when the upload breaks, asks the registry how much it
    /// holds and goes on from there.
    async fn push_resumable(
        &self,
        descriptor: &Descriptor,
        content: &dyn BlobContent,
    ) -> Result<u64> {
        let mut session = self.client.start_upload(&self.repository).await?;
        let mut resumes_left = self.options.upload_resumes;
        let chunk_size = usize::try_from(self.options.chunk_size.get()).unwrap_or(usize::MAX);
        loop {
            let sent = async {
                // From another registry, the chunks are relayed by the kernel when they can be.
                let relayed = content
                    .relay_chunks_into(&self.client, &mut session, self.options.chunk_size)
                    .await?;
                if relayed {
                    return Ok(());
                }
                let mut stream = content.open(session.offset()).await?;
                // One chunk's worth of memory per blob (or the blob's rest, when smaller): a
                // buffer grown by appending would double past the chunk size.
                let rest = descriptor.size.saturating_sub(session.offset());
                let capacity =
                    usize::try_from(rest).map_or(chunk_size, |rest| rest.min(chunk_size));
                let mut buffer = BytesMut::with_capacity(capacity);
                while let Some(mut piece) = stream.next().await.transpose()? {
                    while !piece.is_empty() {
                        let room = chunk_size - buffer.len();
                        buffer.extend_from_slice(&piece.split_to(piece.len().min(room)));
                        if buffer.len() == chunk_size {
                            self.client
                                .upload_chunk(&mut session, buffer.split().freeze())
                                .await?;
                            // The chunk sent is dropped by now, so this takes its memory back.
                            buffer.reserve(capacity);
                        }
                    }
                }
                if !buffer.is_empty() {
                    self.client
                        .upload_chunk(&mut session, buffer.freeze())
                        .await?;
                }
                Ok::<(), Error>(())
            }
            .await;
            match sent {
                Ok(()) => break,
                Err(error) if resumes_left > 0 && (upload_lost(&error) || error.is_retryable()) => {
                    resumes_left -= 1;
                    let lost = upload_lost(&error)
                        || match self.client.upload_status(&mut session).await {
                            Ok(held) => {
                                tracing::warn!(digest = %descriptor.digest, held, %error, "upload broke; resuming");
                                false
                            }
                            Err(status) => {
                                let status = Error::from(status);
                                if !upload_lost(&status) {
                                    return Err(status);
                                }
                                true
                            }
                        };
                    if lost {
                        tracing::warn!(digest = %descriptor.digest, %error, "the registry dropped the upload; starting over");
                        session = self.client.start_upload(&self.repository).await?;
                    }
                }
                Err(error) => return Err(error),
            }
        }
        let offset = session.offset();
        self.client
            .finish_upload(session, &descriptor.digest)
            .await?;
        Ok(offset)
    }
}

/// Whether the registry no longer knows an upload session: distribution invalidates one
/// whose chunk broke off midway (the bytes it wrote no longer match the offset in its
/// session state) and answers `404 BLOB_UPLOAD_INVALID` to what comes next on it.
fn upload_lost(error: &Error) -> bool {
    match error {
        Error::Registry(inner) => inner.error_codes().any(|code| {
            matches!(
                code,
                ErrorCode::BlobUploadInvalid | ErrorCode::BlobUploadUnknown
            )
        }),
        _ => false,
    }
}

/// Our stream as the client's upload body.
fn io_stream(
    stream: BlobStream,
) -> impl futures_core::Stream<Item = io::Result<Bytes>> + Send + 'static {
    stream.map_err(io::Error::other)
}

#[async_trait]
impl Source for RegistryEnd {
    fn describe(&self) -> String {
        format!("docker://{}", self.repository)
    }

    fn repository(&self) -> Option<RepositoryAddress> {
        Some(address(&self.repository))
    }

    fn verifies_blobs(&self) -> bool {
        true
    }

    async fn resolve(&self, selector: &Selector) -> Result<Descriptor> {
        let reference = match selector {
            Selector::Tag(tag) => ManifestReference::tag(tag)
                .map_err(|source| Error::reference(tag.as_str(), source))?,
            Selector::Digest(digest) => ManifestReference::Digest(digest.clone()),
            Selector::Default => ManifestReference::Tag(Tag::latest()),
            Selector::Position(_) => {
                return Err(Error::Unsupported {
                    end: Source::describe(self),
                    operation: "choosing an image by position (@N)",
                });
            }
        };
        let not_found = || Error::TagNotFound {
            end: Source::describe(self),
            tag: reference.to_string(),
        };
        let info = self
            .client
            .head_manifest(&self.repository, &reference)
            .await?
            .ok_or_else(not_found)?;
        if let (Some(digest), Some(media_type), Some(size)) =
            (info.digest, info.media_type, info.size)
            && media_type.is_any_manifest()
        {
            return Ok(Descriptor::new(media_type, digest, size));
        }
        // The answer lacked something: read the manifest itself.
        let pulled = self
            .client
            .get_manifest(&self.repository, &reference)
            .await?;
        let parsed = pulled.parse()?;
        self.remember(&pulled.digest, &pulled.bytes, &parsed.media_type());
        Ok(Descriptor::new(
            parsed.media_type(),
            pulled.digest,
            parsed.size(),
        ))
    }

    async fn tags(&self) -> Result<Vec<String>> {
        Ok(self
            .client
            .list_tags(&self.repository, Some(1000))
            .try_collect()
            .await?)
    }

    async fn manifest(&self, descriptor: &Descriptor) -> Result<Bytes> {
        if let Some((bytes, _)) = self.remembered(&descriptor.digest) {
            return Ok(bytes);
        }
        let reference = ManifestReference::Digest(descriptor.digest.clone());
        let pulled = self
            .client
            .get_manifest(&self.repository, &reference)
            .await?;
        Ok(pulled.bytes)
    }

    /// The client downloads from the start; a later offset skips what came before
    /// (the client has no ranged open yet).
    async fn blob(&self, descriptor: &Descriptor, offset: u64) -> Result<BlobStream> {
        let stream = self
            .client
            .get_blob(&self.repository, &descriptor.digest, Some(descriptor.size))
            .await?;
        let stream = stream.map_err(Error::from);
        if offset == 0 {
            return Ok(Box::pin(stream));
        }
        let mut to_skip = offset;
        let tail = stream.try_filter_map(move |chunk: Bytes| {
            let skip = to_skip.min(chunk.len() as u64);
            to_skip -= skip;
            let rest = chunk.slice(skip as usize..);
            async move { Ok((!rest.is_empty()).then_some(rest)) }
        });
        Ok(Box::pin(tail))
    }

    /// A plain (ranged, when resuming) download, unhashed: the sink checks the digest.
    async fn blob_unverified(&self, descriptor: &Descriptor, offset: u64) -> Result<BlobStream> {
        let stream = self
            .client
            .get_blob_range(&self.repository, &descriptor.digest, offset, None)
            .await?;
        Ok(Box::pin(stream.map_err(Error::from)))
    }

    async fn referrers(&self, subject: &Descriptor) -> Result<Vec<Descriptor>> {
        Ok(self
            .client
            .referrers(&self.repository, &subject.digest, None)
            .await?
            .descriptors)
    }

    async fn relay_blob(
        &self,
        descriptor: &Descriptor,
        client: &Client,
        to: &Repository,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<Option<u64>> {
        let (digest, size) = (&descriptor.digest, descriptor.size);
        match client
            .relay_blob(&self.client, &self.repository, to, digest, size, progress)
            .await?
        {
            Relayed::Pushed(_) => Ok(Some(size)),
            Relayed::Declined(reason) => {
                tracing::debug!(%digest, ?reason, "relay declined; copying through the client");
                Ok(None)
            }
            // A later kind of outcome: copy the usual way.
            _ => Ok(None),
        }
    }

    async fn relay_chunks(
        &self,
        descriptor: &Descriptor,
        client: &Client,
        session: &mut UploadSession,
        chunk_size: NonZeroU64,
        progress: &mut (dyn FnMut(u64) + Send),
    ) -> Result<bool> {
        let (digest, size) = (&descriptor.digest, descriptor.size);
        let relayed = client
            .relay_chunks(
                &self.client,
                &self.repository,
                session,
                digest,
                size,
                chunk_size,
                progress,
            )
            .await?;
        match relayed {
            RelayedChunks::Sent => Ok(true),
            RelayedChunks::Declined(reason) => {
                tracing::debug!(%digest, ?reason, "chunk relay declined; sending through the client");
                Ok(false)
            }
            // A later kind of outcome: send the usual way.
            _ => Ok(false),
        }
    }
}

#[async_trait]
impl Sink for RegistryEnd {
    fn describe(&self) -> String {
        format!("docker://{}", self.repository)
    }

    fn repository(&self) -> Option<RepositoryAddress> {
        Some(address(&self.repository))
    }

    /// A registry checks the digest of every blob pushed to it before it keeps it.
    fn verifies_blobs(&self) -> bool {
        true
    }

    async fn has_blob(&self, descriptor: &Descriptor) -> Result<bool> {
        let info = self
            .client
            .head_blob(&self.repository, &descriptor.digest)
            .await?;
        Ok(info.is_some_and(|info| info.size.is_none_or(|size| size == descriptor.size)))
    }

    async fn has_manifest(&self, descriptor: &Descriptor) -> Result<bool> {
        let reference = ManifestReference::Digest(descriptor.digest.clone());
        Ok(self
            .client
            .head_manifest(&self.repository, &reference)
            .await?
            .is_some())
    }

    async fn tagged(&self, tag: &str) -> Result<Option<Digest>> {
        let reference =
            ManifestReference::tag(tag).map_err(|source| Error::reference(tag, source))?;
        Ok(self
            .client
            .head_manifest(&self.repository, &reference)
            .await?
            .and_then(|info| info.digest))
    }

    async fn put_blob(&self, descriptor: &Descriptor, content: &dyn BlobContent) -> Result<u64> {
        let size = descriptor.size;
        if size > self.options.streamed_limit {
            return self.push_resumable(descriptor, content).await;
        }
        let method = if size <= self.options.single_request_limit {
            UploadMethod::SinglePost
        } else {
            // One `PUT` of a blob from another registry: relayed by the kernel when it can be.
            if let Some(sent) = content.relay_into(&self.client, &self.repository).await? {
                return Ok(sent);
            }
            UploadMethod::Monolithic
        };
        let body = io_stream(content.open(0).await?);
        self.client
            .push_blob(&self.repository, &descriptor.digest, size, body, method)
            .await?;
        Ok(size)
    }

    async fn mount_blob(&self, descriptor: &Descriptor, from: &RepositoryAddress) -> Result<bool> {
        let from = Repository::new(&from.registry, &from.repository)
            .map_err(|source| Error::reference(from.to_string(), source))?;
        match self
            .client
            .mount_blob(&self.repository, &descriptor.digest, &from)
            .await?
        {
            MountOutcome::Mounted(_) => Ok(true),
            MountOutcome::Upload(session) => {
                // The blob will be pushed in a session of its own; this one is not needed.
                if let Err(error) = self.client.cancel_upload(session).await {
                    tracing::debug!(%error, "cancelling the session a refused mount opened failed");
                }
                Ok(false)
            }
        }
    }

    /// Pushes by digest. A manifest with a `subject` also goes into the subject's
    /// fallback referrers index when the registry has no referrers API.
    async fn put_manifest(&self, descriptor: &Descriptor, bytes: Bytes) -> Result<()> {
        let manifest = Manifest::parse_lenient(bytes.clone(), Some(descriptor.media_type.as_str()))
            .map_err(|source| Error::Manifest {
                digest: descriptor.digest.clone(),
                source,
            })?;
        let media_type = manifest.media_type();
        if manifest.subject().is_some() {
            self.client
                .push_referrer(&self.repository, &manifest)
                .await?;
        } else {
            let reference = ManifestReference::Digest(descriptor.digest.clone());
            self.client
                .put_manifest_raw(&self.repository, &reference, bytes.clone(), &media_type)
                .await?;
        }
        self.remember(&descriptor.digest, &bytes, &media_type);
        Ok(())
    }

    async fn tag(&self, tag: Option<&str>, root: &Descriptor) -> Result<()> {
        let Some(tag) = tag else { return Ok(()) };
        let reference =
            ManifestReference::tag(tag).map_err(|source| Error::reference(tag, source))?;
        let (bytes, media_type) = match self.remembered(&root.digest) {
            Some(known) => known,
            None => {
                let pulled = self
                    .client
                    .get_manifest(
                        &self.repository,
                        &ManifestReference::Digest(root.digest.clone()),
                    )
                    .await?;
                let media_type = pulled.parse()?.media_type();
                (pulled.bytes, media_type)
            }
        };
        self.client
            .put_manifest_raw(&self.repository, &reference, bytes, &media_type)
            .await?;
        Ok(())
    }
}

fn address(repository: &Repository) -> RepositoryAddress {
    RepositoryAddress {
        registry: repository.registry().to_owned(),
        repository: repository.name().to_owned(),
    }
}
