//! Transfer progress as events, for a caller to turn into a progress bar or a log line.
//!
//! The library never prints: it calls the [`Progress`] sink a caller attached with
//! [`Client::with_progress`](crate::Client::with_progress) as bytes of a blob go by.

use std::fmt;
use std::sync::Arc;

use oci_digest::Digest;
use tokio::sync::mpsc;

use crate::repository::Repository;

/// Which way bytes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Direction {
    /// From the registry to the client.
    Download,
    /// From the client to the registry.
    Upload,
}

/// How far the transfer of one blob has come. One blob copied between repositories makes
/// two transfers, told apart by `direction` and `repository`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProgressEvent {
    /// Download or upload.
    pub direction: Direction,
    /// The repository the bytes come from or go to.
    pub repository: Repository,
    /// The blob.
    pub digest: Digest,
    /// Bytes sent or received so far (a resumed download counts from where it resumed).
    pub bytes_done: u64,
    /// The blob's size, when known.
    pub total: Option<u64>,
}

/// Where progress events go: a callback, or a channel from [`Progress::channel`].
/// Cheap to clone; the callback runs on the task doing the transfer, so it must be quick.
#[derive(Clone)]
pub struct Progress {
    sink: Arc<dyn Fn(ProgressEvent) + Send + Sync>,
}

impl Progress {
    /// Calls `sink` with every event.
    pub fn new(sink: impl Fn(ProgressEvent) + Send + Sync + 'static) -> Self {
        Progress {
            sink: Arc::new(sink),
        }
    }

    /// A sink sending every event into an unbounded channel, and the channel's receiver.
    /// Events sent after the receiver is dropped are discarded.
    pub fn channel() -> (Progress, mpsc::UnboundedReceiver<ProgressEvent>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        let progress = Progress::new(move |event| {
            // A caller that stopped listening is not an error for the transfer.
            let _ = sender.send(event);
        });
        (progress, receiver)
    }

    /// Hands one event to the sink.
    pub(crate) fn emit(&self, event: ProgressEvent) {
        (self.sink)(event);
    }
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Progress(..)")
    }
}

/// Counts the bytes of one blob's transfer and reports them to an optional sink.
#[derive(Debug, Clone)]
pub(crate) struct Tracker {
    progress: Option<Progress>,
    direction: Direction,
    repository: Repository,
    digest: Digest,
    total: Option<u64>,
    done: u64,
}

impl Tracker {
    /// A tracker for the transfer of `digest` to or from `repository`, at zero bytes.
    pub(crate) fn new(
        progress: Option<Progress>,
        direction: Direction,
        repository: Repository,
        digest: Digest,
        total: Option<u64>,
    ) -> Self {
        Tracker {
            progress,
            direction,
            repository,
            digest,
            total,
            done: 0,
        }
    }

    /// Counts `bytes` more and reports the new total.
    pub(crate) fn advance(&mut self, bytes: u64) {
        self.done = self.done.saturating_add(bytes);
        if let Some(progress) = &self.progress {
            progress.emit(ProgressEvent {
                direction: self.direction,
                repository: self.repository.clone(),
                digest: self.digest.clone(),
                bytes_done: self.done,
                total: self.total,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn channel_receives_cumulative_events() {
        let (progress, mut events) = Progress::channel();
        let digest = Digest::compute(b"abc");
        let repository = Repository::new("r.example", "a").unwrap();
        let mut tracker = Tracker::new(
            Some(progress),
            Direction::Upload,
            repository.clone(),
            digest.clone(),
            Some(3),
        );
        tracker.advance(1);
        tracker.advance(2);
        drop(tracker);
        let first = events.recv().await.unwrap();
        let second = events.recv().await.unwrap();
        assert_eq!(first.bytes_done, 1);
        assert_eq!(
            second,
            ProgressEvent {
                direction: Direction::Upload,
                repository,
                digest,
                bytes_done: 3,
                total: Some(3)
            }
        );
        assert!(events.recv().await.is_none());
    }
}
