//! A plain TCP connection whose writer sends blob files with `sendfile` (Linux): the other
//! half of [`crate::zero_copy`].
//!
//! Writes pass through unchanged, except the stand-in chunks of zero-copy bodies: for those,
//! the same number of bytes goes out from the file at the head of the connection's
//! [`FileQueue`], straight from the page cache. A vectored write is split where real bytes
//! and stand-ins meet; each call reports how many bytes it consumed, as a partial write, and
//! hyper calls again for the rest.
//!
//! `sendfile` reads the file on the calling thread: for a blob in the page cache (the common
//! case for a registry's hot layers) that costs nothing, a cold one waits for the disk as the
//! reading path's blocking pool would.

use std::{
    io::{self, IoSlice},
    pin::Pin,
    task::{Context, Poll, ready},
};

use tokio::{
    io::{AsyncRead, AsyncWrite, Interest, ReadBuf},
    net::TcpStream,
};

use crate::zero_copy::{FileQueue, is_stand_in};

/// A TCP stream with its connection's queue of files to send.
#[derive(Debug)]
pub(super) struct SendfileStream {
    tcp: TcpStream,
    files: FileQueue,
}

impl SendfileStream {
    pub(super) fn new(tcp: TcpStream, files: FileQueue) -> Self {
        Self { tcp, files }
    }

    /// Sends up to `want` bytes of the head file, waiting for the socket to take them.
    fn poll_send_file(&self, cx: &mut Context<'_>, want: usize) -> Poll<io::Result<usize>> {
        loop {
            ready!(self.tcp.poll_write_ready(cx))?;
            let sent = self.tcp.try_io(Interest::WRITABLE, || {
                self.files.send_from_head(want, |file, offset, count| {
                    rustix::fs::sendfile(&self.tcp, file, Some(offset), count)
                        .map_err(io::Error::from)
                })
            });
            match sent {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                other => return Poll::Ready(other),
            }
        }
    }
}

impl AsyncRead for SendfileStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for SendfileStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match is_stand_in(buf) {
            true => this.poll_send_file(cx, buf.len()),
            false => Pin::new(&mut this.tcp).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let Some(first) = bufs.iter().position(|buf| !buf.is_empty()) else {
            return Poll::Ready(Ok(0));
        };
        let bufs = &bufs[first..];
        let stand_in = is_stand_in(&bufs[0]);
        // The run of slices of the same kind as the first.
        let run = bufs
            .iter()
            .take_while(|buf| buf.is_empty() || is_stand_in(buf) == stand_in)
            .count();
        match stand_in {
            true => {
                let want = bufs[..run].iter().map(|buf| buf.len()).sum();
                this.poll_send_file(cx, want)
            }
            false => Pin::new(&mut this.tcp).poll_write_vectored(cx, &bufs[..run]),
        }
    }

    fn is_write_vectored(&self) -> bool {
        // hyper queues body chunks as they are (never copying them into one buffer) only for
        // a vectored writer, and stand-ins must reach us as they are.
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}
