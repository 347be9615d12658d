//! Zero-copy blob answers: the file's pages go from the page cache to the socket by
//! `sendfile`, never through this process's memory.
//!
//! hyper owns the connection and writes whatever the body yields, so the body cannot hand it a
//! file. Instead a blob answer on a plain HTTP/1.x connection yields *stand-in* chunks: slices
//! of one static, never-written region ([`stand_in`]) whose lengths add up to the file's bytes,
//! and it queues the file itself on the connection's [`FileQueue`]. hyper, in its vectored
//! write mode, passes every body chunk to the connection's writer as its own `IoSlice`, without
//! copying it; the writer (`server::sendfile_io`) recognises stand-in slices by address and
//! sends the same number of bytes from the queued file instead. The queue is first in, first
//! out, because HTTP/1.x sends answers in order; a file joins it only when its body is first
//! polled, so answers whose bodies hyper never sends (`HEAD`) queue nothing.
//!
//! Blob files never change once they are in place (they are written under a temporary name and
//! renamed; garbage collection only unlinks them), so a file opened for an answer holds exactly
//! the bytes its digest names until it is closed.

use std::{
    collections::VecDeque,
    fs::File,
    sync::{Arc, Mutex},
};

use bytes::Bytes;
use futures_util::stream;

use crate::body::ByteStream;

/// Size of the stand-in region, and so of the largest stand-in chunk.
const STAND_IN_LEN: usize = 1 << 20;
/// Never read as data: only its address range matters.
static STAND_IN: [u8; STAND_IN_LEN] = [0; STAND_IN_LEN];

/// Part of an open blob file still to be sent.
// Only the connection layer (feature `serve`) sends files; without it none is ever queued.
#[cfg_attr(not(feature = "serve"), allow(dead_code))]
#[derive(Debug)]
pub(crate) struct FileSlice {
    /// The open file.
    pub file: File,
    /// Where the next byte to send is.
    pub offset: u64,
    /// How many bytes are left to send.
    pub remaining: u64,
}

/// The files a plain HTTP/1.x connection has promised to send, in answer order. Present as a
/// request extension only where the connection's writer can send them.
#[derive(Debug, Clone, Default)]
pub(crate) struct FileQueue(Arc<Mutex<VecDeque<FileSlice>>>);

impl FileQueue {
    fn push(&self, slice: FileSlice) {
        self.lock().push_back(slice);
    }

    /// Runs `send` on the file at the head of the queue with at most `want` bytes; the file
    /// leaves the queue once all its bytes are sent. `send` returns how many it sent.
    #[cfg(feature = "serve")]
    pub(crate) fn send_from_head(
        &self,
        want: usize,
        send: impl FnOnce(&File, &mut u64, usize) -> std::io::Result<usize>,
    ) -> std::io::Result<Sent> {
        let mut queue = self.lock();
        let head = queue.front_mut().ok_or_else(|| {
            std::io::Error::other("a zero-copy body chunk arrived with no file queued for it")
        })?;
        let count = usize::try_from(head.remaining).map_or(want, |left| left.min(want));
        let sent = send(&head.file, &mut head.offset, count)?;
        if sent == 0 && count > 0 {
            // The file is shorter than promised: never send stand-in bytes in its place.
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.remaining -= sent as u64;
        let file_done = head.remaining == 0;
        if file_done {
            queue.pop_front();
        }
        Ok(Sent {
            count: sent,
            file_done,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<FileSlice>> {
        // A panic while holding the lock leaves the queue consistent (every update is one
        // assignment), so a poisoned lock is still usable.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What one [`FileQueue::send_from_head`] did.
#[cfg(feature = "serve")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sent {
    /// How many bytes of the head file went out.
    pub count: usize,
    /// Whether they were its last, so the file left the queue.
    pub file_done: bool,
}

/// Whether `chunk` lies inside the stand-in region (so its bytes are to come from a file).
#[cfg(feature = "serve")]
pub(crate) fn is_stand_in(chunk: &[u8]) -> bool {
    let region = STAND_IN.as_ptr_range();
    let start = chunk.as_ptr();
    !chunk.is_empty()
        && region.contains(&start)
        && chunk.len() <= region.end as usize - start as usize
}

/// The stand-in for `len` bytes (at most [`STAND_IN_LEN`]).
fn stand_in(len: usize) -> Bytes {
    Bytes::from_static(&STAND_IN[..len.min(STAND_IN_LEN)])
}

/// A body stream for `slice` sent through `queue`: queues the file when first polled, then
/// yields stand-ins for its bytes.
pub(crate) fn file_stream(queue: FileQueue, slice: FileSlice) -> ByteStream<'static> {
    let remaining = slice.remaining;
    let queued = Some((queue, slice));
    Box::pin(stream::unfold(
        (queued, remaining),
        |(mut queued, remaining)| async move {
            if remaining == 0 {
                return None;
            }
            if let Some((queue, slice)) = queued.take() {
                queue.push(slice);
            }
            let len =
                usize::try_from(remaining).map_or(STAND_IN_LEN, |left| left.min(STAND_IN_LEN));
            let chunk = stand_in(len);
            Some((Ok(chunk), (queued, remaining - len as u64)))
        },
    ))
}

#[cfg(test)]
mod tests {
    use std::io::{self, Write};

    use futures_util::TryStreamExt;

    use super::*;

    fn slice_of(content: &[u8], offset: u64) -> FileSlice {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(content).unwrap();
        FileSlice {
            file,
            offset,
            remaining: content.len() as u64 - offset,
        }
    }

    #[tokio::test]
    async fn stand_ins_add_up_to_the_file_and_queue_it_once_polled() {
        let queue = FileQueue::default();
        let len = STAND_IN_LEN as u64 * 2 + 5;
        let slice = FileSlice {
            file: tempfile::tempfile().unwrap(),
            offset: 0,
            remaining: len,
        };
        let stream = file_stream(queue.clone(), slice);
        assert!(
            queue.lock().is_empty(),
            "nothing queued before the body is polled"
        );
        let chunks: Vec<Bytes> = stream.try_collect().await.unwrap();
        assert_eq!(chunks.iter().map(|c| c.len() as u64).sum::<u64>(), len);
        assert!(chunks.iter().all(|chunk| is_stand_in(chunk)));
        assert_eq!(queue.lock().len(), 1);
        assert!(!is_stand_in(b"real bytes"));
        assert!(!is_stand_in(&chunks[0][..0]), "an empty slice is nobody's");
    }

    #[test]
    fn sending_from_the_head_advances_and_pops() {
        let queue = FileQueue::default();
        queue.push(slice_of(b"0123456789", 4));
        let mut seen = Vec::new();
        let sent = queue
            .send_from_head(100, |_, offset, count| {
                seen.push((*offset, count));
                *offset += 2;
                Ok(2)
            })
            .unwrap();
        let not_done = Sent {
            count: 2,
            file_done: false,
        };
        assert_eq!((sent, seen), (not_done, vec![(4, 6)]));
        let last = queue
            .send_from_head(4, |_, offset, count| {
                assert_eq!((*offset, count), (6, 4));
                Ok(4)
            })
            .unwrap();
        assert!(last.file_done);
        assert!(queue.lock().is_empty());
        let empty = queue.send_from_head(1, |_, _, _| Ok(1));
        assert!(empty.is_err(), "stand-ins without a file are an error");
    }

    #[test]
    fn a_file_shorter_than_promised_is_an_error() {
        let queue = FileQueue::default();
        queue.push(slice_of(b"abc", 0));
        let short = queue.send_from_head(3, |_, _, _| Ok(0));
        assert_eq!(short.unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    }
}
