//! Blobs through the cache. The first request for a missing blob starts one upstream fetch
//! in a task of its own: each chunk goes to that client and into an upload session of the
//! store, which verifies the digest and commits the blob at the end (the fetch finishes even
//! when the client goes away). Requests for the same blob meanwhile wait for the fetch and
//! are then served from the store.

use std::{io, sync::Arc, time::Duration};

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use oci_digest::Digest;
use oci_distribution_client::BlobStream;
use tokio::sync::{mpsc, watch};

use super::PullThrough;
use crate::{
    body::ByteStream,
    names::RepoName,
    store::{Chunk, Store},
};

/// Chunks buffered towards each destination: enough to keep the fetch moving, small enough
/// that a blob is never held whole.
const CHANNEL_CHUNKS: usize = 16;

/// How long the first client may stall the fetch by not reading; after that it is dropped
/// (its answer ends short) and the fetch goes on storing for everyone else.
const CLIENT_STALL: Duration = Duration::from_secs(30);

/// What the cache did about a missing blob.
pub(crate) enum BlobMiss {
    /// This request started the fetch: here are the bytes as they arrive, and the size.
    Streaming(ByteStream<'static>, u64),
    /// The blob is in the store now (or the upstream does not have it): serve the store.
    Settled,
}

/// A fetch in progress; `done` turns `Some(stored)` when it ends.
#[derive(Debug)]
pub(super) struct Inflight {
    done: watch::Sender<Option<bool>>,
}

impl PullThrough {
    /// Fetches a blob of `name` the store lacks. With `live`, the request that starts the
    /// fetch gets the bytes as they arrive; otherwise (and for every other request) it waits
    /// until the blob is stored.
    pub(crate) async fn fetch_blob(
        self: &Arc<Self>,
        store: &Store,
        name: &RepoName,
        digest: &Digest,
        live: bool,
    ) -> BlobMiss {
        let Some((upstream, repository)) = self.route(name) else {
            return BlobMiss::Settled;
        };
        let key = (name.clone(), digest.clone());
        let (inflight, leader) = {
            let mut inflight = self
                .inflight
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match inflight.get(&key) {
                Some(running) => (Arc::clone(running), false),
                None => {
                    let started = Arc::new(Inflight {
                        done: watch::Sender::new(None),
                    });
                    inflight.insert(key.clone(), Arc::clone(&started));
                    (started, true)
                }
            }
        };
        let mut done = inflight.done.subscribe();
        if leader {
            match upstream.client.get_blob(&repository, digest, None).await {
                Ok(upstream_blob) => {
                    let total = upstream_blob.total();
                    let (to_client, from_fetch) = mpsc::channel(CHANNEL_CHUNKS);
                    let cache = Arc::clone(self);
                    let (store, name, digest) = (store.clone(), name.clone(), digest.clone());
                    tokio::spawn(async move {
                        let stored =
                            pump(upstream_blob, total, &store, &name, &digest, to_client).await;
                        cache.finish(&(name, digest), stored);
                    });
                    if let (true, Some(total)) = (live, total) {
                        return BlobMiss::Streaming(receiver_stream(from_fetch), total);
                    }
                }
                Err(e) => {
                    tracing::warn!(repository = %name, %digest, error = %e, "upstream blob unavailable");
                    self.finish(&key, false);
                }
            }
        }
        // Ends when the fetch does; a dropped sender ends it too.
        let _ = done.wait_for(Option::is_some).await;
        BlobMiss::Settled
    }

    fn finish(&self, key: &(RepoName, Digest), stored: bool) {
        let running = self
            .inflight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key);
        if let Some(running) = running {
            running.done.send_replace(Some(stored));
        }
    }
}

/// Copies the upstream bytes to the client (while it listens) and into the store; `true`
/// when the blob was verified and committed.
async fn pump(
    mut upstream: BlobStream,
    total: Option<u64>,
    store: &Store,
    name: &RepoName,
    digest: &Digest,
    to_client: mpsc::Sender<io::Result<Bytes>>,
) -> bool {
    let (to_store, for_store) = mpsc::channel(CHANNEL_CHUNKS);
    let chunk = Chunk {
        data: receiver_stream(for_store),
        declared_len: total,
    };
    let stored = store.put_blob(name, digest, chunk);
    let feed = async move {
        let mut to_client = Some(to_client);
        while let Some(item) = upstream.next().await {
            let (for_client, for_store) = match item {
                Ok(bytes) => (Ok(bytes.clone()), Ok(bytes)),
                Err(e) => {
                    let message = e.to_string();
                    (
                        Err(io::Error::other(message.clone())),
                        Err(io::Error::other(message)),
                    )
                }
            };
            let failed = for_store.is_err();
            if let Some(client) = &to_client {
                // A client that went away, or stopped reading, no longer gets bytes; the
                // store still does.
                let sent = tokio::time::timeout(CLIENT_STALL, client.send(for_client)).await;
                if !matches!(sent, Ok(Ok(()))) {
                    to_client = None;
                }
            }
            if to_store.send(for_store).await.is_err() || failed {
                return;
            }
        }
    };
    let (stored, ()) = tokio::join!(stored, feed);
    match stored {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(repository = %name, %digest, error = %e, "upstream blob not cached");
            false
        }
    }
}

fn receiver_stream(receiver: mpsc::Receiver<io::Result<Bytes>>) -> ByteStream<'static> {
    Box::pin(stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    }))
}
