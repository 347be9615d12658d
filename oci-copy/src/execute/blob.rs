//! Moving one blob: a mount when the registry allows it, else a relay by the kernel (from a
//! registry into a registry, see [`BlobContent::relay_into`]), else a verified, resumable
//! stream from source to sink.

use std::num::NonZeroU64;
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::{StreamExt, TryStreamExt};
use oci_digest::{DigestError, VerifyStreamError, VerifyingStream};
use oci_distribution_client::{Client, Repository, UploadSession};
use oci_spec_types::Descriptor;

use crate::end::{BlobContent, BlobStream, RepositoryAddress, Sink, Source};
use crate::error::{Error, Result};
use crate::execute::{Event, ProgressFn};
use crate::plan::StepId;

/// What a blob step did.
pub(crate) enum Moved {
    /// Mounted from another repository.
    Mounted,
    /// Copied, this many bytes.
    Copied(u64),
}

/// Mounts the blob from `from` when given and the registry agrees, else copies it.
pub(crate) async fn move_blob(
    sink: &dyn Sink,
    descriptor: &Descriptor,
    from: Option<&RepositoryAddress>,
    content: SourceBlob,
) -> Result<Moved> {
    if let Some(from) = from
        && sink.mount_blob(descriptor, from).await?
    {
        return Ok(Moved::Mounted);
    }
    sink.put_blob(descriptor, &content).await.map(Moved::Copied)
}

/// A source blob as [`BlobContent`]: reopened from any offset, resumed from where it
/// broke (up to `resumes` times per opening), verified when read from the start unless the
/// sink verifies it itself, and counted for progress.
pub(crate) struct SourceBlob {
    pub(crate) source: Arc<dyn Source>,
    pub(crate) descriptor: Descriptor,
    pub(crate) resumes: u32,
    /// The sink checks the digest itself (a registry): the bytes pass through unhashed.
    pub(crate) sink_verifies: bool,
    pub(crate) progress: Option<(ProgressFn, StepId)>,
}

#[async_trait]
impl BlobContent for SourceBlob {
    async fn open(&self, offset: u64) -> Result<BlobStream> {
        let stream = resuming(
            self.source.clone(),
            self.descriptor.clone(),
            offset,
            self.resumes,
            self.sink_verifies,
        )
        .await?;
        let stream = match &self.progress {
            Some((progress, step)) => {
                counted(stream, progress.clone(), *step, &self.descriptor, offset)
            }
            None => stream,
        };
        if offset > 0 || self.source.verifies_blobs() && !self.sink_verifies {
            // A tail cannot be checked alone (the destination checks the whole); a
            // verifying source already checks every byte it hands out.
            return Ok(stream);
        }
        if self.sink_verifies {
            // The sink checks the digest; counting the bytes costs nothing and turns a
            // short or long blob into an error that names it, not a broken upload retried.
            return Ok(sized(stream, &self.descriptor));
        }
        let digest = self.descriptor.digest.clone();
        let verified = VerifyingStream::new(stream, digest.clone(), Some(self.descriptor.size))?;
        Ok(Box::pin(verified.map_err(move |error| match error {
            VerifyStreamError::Inner(inner) => inner,
            VerifyStreamError::Verify(source) => Error::Verify {
                digest: digest.clone(),
                source: Box::new(source),
            },
        })))
    }

    /// Relayed only into a sink that checks the digest itself: the bytes go by unhashed.
    async fn relay_into(&self, client: &Client, to: &Repository) -> Result<Option<u64>> {
        if !self.sink_verifies {
            return Ok(None);
        }
        self.source
            .relay_blob(&self.descriptor, client, to, &mut self.reporter())
            .await
    }

    /// Relayed only into a sink that checks the digest itself, as [`Self::relay_into`].
    async fn relay_chunks_into(
        &self,
        client: &Client,
        session: &mut UploadSession,
        chunk_size: NonZeroU64,
    ) -> Result<bool> {
        if !self.sink_verifies {
            return Ok(false);
        }
        self.source
            .relay_chunks(
                &self.descriptor,
                client,
                session,
                chunk_size,
                &mut self.reporter(),
            )
            .await
    }
}

impl SourceBlob {
    /// Reports the bytes of the blob done so far as progress events, when someone listens.
    fn reporter(&self) -> impl FnMut(u64) + Send + '_ {
        move |done| {
            if let Some((progress, step)) = &self.progress {
                progress(&Event::Bytes {
                    step: *step,
                    digest: self.descriptor.digest.clone(),
                    media_type: self.descriptor.media_type.clone(),
                    done,
                    total: self.descriptor.size,
                });
            }
        }
    }
}

/// The blob from `offset` on (unverified by the source when `unverified`, for a sink
/// that checks it); when the stream breaks, it is reopened where it stopped.
async fn resuming(
    source: Arc<dyn Source>,
    descriptor: Descriptor,
    offset: u64,
    resumes: u32,
    unverified: bool,
) -> Result<BlobStream> {
    async fn open(
        source: &dyn Source,
        descriptor: &Descriptor,
        offset: u64,
        unverified: bool,
    ) -> Result<BlobStream> {
        match unverified {
            true => source.blob_unverified(descriptor, offset).await,
            false => source.blob(descriptor, offset).await,
        }
    }
    let first = open(source.as_ref(), &descriptor, offset, unverified).await?;
    struct State {
        source: Arc<dyn Source>,
        descriptor: Descriptor,
        position: u64,
        left: u32,
        unverified: bool,
        inner: Option<BlobStream>,
    }
    let state = State {
        source,
        descriptor,
        position: offset,
        left: resumes,
        unverified,
        inner: Some(first),
    };
    let stream = futures_util::stream::try_unfold(state, |mut state| async move {
        loop {
            let Some(inner) = state.inner.as_mut() else {
                return Ok(None);
            };
            match inner.next().await {
                Some(Ok(chunk)) => {
                    state.position += chunk.len() as u64;
                    return Ok(Some((chunk, state)));
                }
                None => return Ok(None),
                Some(Err(error)) if state.left == 0 || state.position >= state.descriptor.size => {
                    return Err(error);
                }
                Some(Err(error)) => {
                    state.left -= 1;
                    tracing::warn!(digest = %state.descriptor.digest, at = state.position, %error, "blob stream broke; resuming");
                    let reopened = open(
                        state.source.as_ref(),
                        &state.descriptor,
                        state.position,
                        state.unverified,
                    );
                    state.inner = Some(reopened.await?);
                }
            }
        }
    });
    Ok(Box::pin(stream))
}

/// Fails the stream (without hashing) when it carries more or fewer bytes than
/// `descriptor` says.
fn sized(stream: BlobStream, descriptor: &Descriptor) -> BlobStream {
    let (digest, expected) = (descriptor.digest.clone(), descriptor.size);
    let state = (stream, 0u64, false);
    Box::pin(futures_util::stream::unfold(
        state,
        move |(mut stream, found, ended)| {
            let digest = digest.clone();
            async move {
                if ended {
                    return None;
                }
                let fail = |source| Error::Verify {
                    digest,
                    source: Box::new(source),
                };
                match stream.next().await {
                    Some(Ok(chunk)) => {
                        let found = found + chunk.len() as u64;
                        match found > expected {
                            true => Some((
                                Err(fail(DigestError::SizeExceeded { expected })),
                                (stream, found, true),
                            )),
                            false => Some((Ok(chunk), (stream, found, false))),
                        }
                    }
                    Some(Err(error)) => Some((Err(error), (stream, found, true))),
                    None if found != expected => Some((
                        Err(fail(DigestError::SizeMismatch { expected, found })),
                        (stream, found, true),
                    )),
                    None => None,
                }
            }
        },
    ))
}

/// Reports the bytes passing through as [`Event::Bytes`].
fn counted(
    stream: BlobStream,
    progress: ProgressFn,
    step: StepId,
    descriptor: &Descriptor,
    offset: u64,
) -> BlobStream {
    let (digest, media_type) = (descriptor.digest.clone(), descriptor.media_type.clone());
    let total = descriptor.size;
    let mut done = offset;
    Box::pin(stream.inspect_ok(move |chunk| {
        done += chunk.len() as u64;
        progress(&Event::Bytes {
            step,
            digest: digest.clone(),
            media_type: media_type.clone(),
            done,
            total,
        });
    }))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use bytes::Bytes;
    use oci_spec_types::{Digest, MediaType};

    use super::*;
    use crate::end::Selector;

    /// A source whose blob breaks after `break_after` bytes the first `failures` times.
    struct Flaky {
        content: Bytes,
        break_after: usize,
        failures: AtomicU32,
        opened_at: std::sync::Mutex<Vec<u64>>,
    }

    #[async_trait]
    impl Source for Flaky {
        fn describe(&self) -> String {
            "flaky".into()
        }
        async fn resolve(&self, _: &Selector) -> Result<Descriptor> {
            unreachable!()
        }
        async fn tags(&self) -> Result<Vec<String>> {
            Ok(vec![])
        }
        async fn manifest(&self, _: &Descriptor) -> Result<Bytes> {
            unreachable!()
        }
        async fn blob(&self, _: &Descriptor, offset: u64) -> Result<BlobStream> {
            self.opened_at.lock().unwrap().push(offset);
            let rest = self.content.slice(offset as usize..);
            if self.failures.load(Ordering::SeqCst) > 0 {
                self.failures.fetch_sub(1, Ordering::SeqCst);
                let cut = rest.slice(..self.break_after.min(rest.len()));
                let broken = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
                let items: Vec<Result<Bytes>> = vec![Ok(cut), Err(Error::io("net", broken))];
                return Ok(Box::pin(futures_util::stream::iter(items)));
            }
            Ok(Box::pin(futures_util::stream::iter([Ok(rest)])))
        }
        async fn referrers(&self, _: &Descriptor) -> Result<Vec<Descriptor>> {
            Ok(vec![])
        }
    }

    fn flaky(failures: u32) -> (Arc<Flaky>, Descriptor) {
        let content = Bytes::from((0..100u8).collect::<Vec<_>>());
        let descriptor = Descriptor::new(MediaType::OciLayerTar, Digest::compute(&content), 100);
        let source = Flaky {
            content,
            break_after: 30,
            failures: AtomicU32::new(failures),
            opened_at: Default::default(),
        };
        (Arc::new(source), descriptor)
    }

    #[tokio::test]
    async fn a_broken_stream_resumes_where_it_stopped_and_verifies() {
        let (source, descriptor) = flaky(2);
        let blob = SourceBlob {
            source: source.clone(),
            descriptor,
            resumes: 3,
            sink_verifies: false,
            progress: None,
        };
        let chunks: Vec<Bytes> = blob.open(0).await.unwrap().try_collect().await.unwrap();
        assert_eq!(chunks.concat(), source.content.to_vec());
        assert_eq!(*source.opened_at.lock().unwrap(), [0, 30, 60]);
    }

    #[tokio::test]
    async fn progress_names_the_blob_and_counts_from_the_offset() {
        let (source, descriptor) = flaky(0);
        let events = Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = Arc::clone(&events);
        let progress: ProgressFn = Arc::new(move |event: &Event| {
            seen.lock().unwrap().push(event.clone());
        });
        let blob = SourceBlob {
            source,
            descriptor: descriptor.clone(),
            resumes: 0,
            sink_verifies: false,
            progress: Some((progress, 7)),
        };
        let _: Vec<Bytes> = blob.open(40).await.unwrap().try_collect().await.unwrap();
        let events = events.lock().unwrap();
        assert_eq!(
            *events,
            [Event::Bytes {
                step: 7,
                digest: descriptor.digest,
                media_type: MediaType::OciLayerTar,
                done: 100,
                total: 100,
            }]
        );
    }

    #[tokio::test]
    async fn resumes_are_bounded() {
        let (source, descriptor) = flaky(5);
        let blob = SourceBlob {
            source,
            descriptor,
            resumes: 1,
            sink_verifies: false,
            progress: None,
        };
        let result: Result<Vec<Bytes>> = blob.open(0).await.unwrap().try_collect().await;
        assert!(matches!(result, Err(Error::Io { .. })));
    }

    #[tokio::test]
    async fn wrong_content_fails_verification() {
        let (source, mut descriptor) = flaky(0);
        descriptor.digest = Digest::compute(b"something else");
        let blob = SourceBlob {
            source,
            descriptor,
            resumes: 0,
            sink_verifies: false,
            progress: None,
        };
        let result: Result<Vec<Bytes>> = blob.open(0).await.unwrap().try_collect().await;
        assert!(matches!(result, Err(Error::Verify { .. })));
    }

    #[tokio::test]
    async fn for_a_verifying_sink_a_wrong_size_still_fails_unhashed() {
        let (source, mut descriptor) = flaky(0);
        descriptor.size = 101;
        let blob = SourceBlob {
            source,
            descriptor,
            resumes: 0,
            sink_verifies: true,
            progress: None,
        };
        let result: Result<Vec<Bytes>> = blob.open(0).await.unwrap().try_collect().await;
        assert!(matches!(result, Err(Error::Verify { .. })), "{result:?}");
    }

    #[tokio::test]
    async fn for_a_verifying_sink_the_bytes_pass_through_unhashed() {
        let (source, mut descriptor) = flaky(1);
        descriptor.digest = Digest::compute(b"something else");
        let blob = SourceBlob {
            source: source.clone(),
            descriptor,
            resumes: 1,
            sink_verifies: true,
            progress: None,
        };
        // Wrong content is handed on, for the sink to refuse; resuming still works.
        let chunks: Vec<Bytes> = blob.open(0).await.unwrap().try_collect().await.unwrap();
        assert_eq!(chunks.concat(), source.content.to_vec());
        assert_eq!(*source.opened_at.lock().unwrap(), [0, 30]);
    }
}
