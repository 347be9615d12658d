//! Transfer progress as events, for a caller to turn into a progress bar or a log line.
//!
//! The library never prints: it calls the [`Progress`] sink a caller attached with
//! [`Client::with_progress`](crate::Client::with_progress) as bytes of a blob go by.

use std::fmt;
use std::sync::Arc;

use oci_digest::Digest;
use tokio::sync::mpsc;

/// How far the transfer of one blob has come.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgressEvent {
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
    digest: Digest,
    total: Option<u64>,
    done: u64,
}

impl Tracker {
    /// A tracker for `digest` starting at zero bytes.
    pub(crate) fn new(progress: Option<Progress>, digest: Digest, total: Option<u64>) -> Self {
        Tracker {
            progress,
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
        let mut tracker = Tracker::new(Some(progress), digest.clone(), Some(3));
        tracker.advance(1);
        tracker.advance(2);
        drop(tracker);
        let first = events.recv().await.unwrap();
        let second = events.recv().await.unwrap();
        assert_eq!(first.bytes_done, 1);
        assert_eq!(
            second,
            ProgressEvent {
                digest,
                bytes_done: 3,
                total: Some(3)
            }
        );
        assert!(events.recv().await.is_none());
    }
}
