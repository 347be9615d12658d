//! A plain TCP connection whose writer sends blob files with `sendfile` (Linux): the other
//! half of [`crate::zero_copy`].
//!
//! Writes pass through unchanged, except the stand-in chunks of zero-copy bodies: for those,
//! the same number of bytes goes out from the file at the head of the connection's
//! [`FileQueue`], straight from the page cache. A vectored write is split where real bytes
//! and stand-ins meet; each call reports how many bytes it consumed, as a partial write, and
//! hyper calls again for the rest.
//!
//! The socket is corked (`TCP_CORK`) from a file's first byte to its last. `sendfile` hands
//! TCP the file in 64 KiB pieces (its internal pipe), which do not divide into loopback's
//! 65,483-byte segments; with `TCP_NODELAY`, each time an ACK is processed between two pieces
//! TCP pushes the piece's remainder (53 bytes on loopback) as a segment of its own, so a
//! GiB went out as about 16,000 full segments and 9,000 tiny ones, each costing a trip through
//! both ends' TCP stacks and a wakeup of the reader. Corked, TCP sends only full segments, and
//! uncorking after the last byte sends the tail at once (no Nagle wait).
//!
//! A peer on this same host gets a send buffer capped at [`SAME_HOST_SEND_BUFFER`]. By default
//! the kernel lets up to 4 MiB wait in the socket for the peer's window, and on a connection
//! within one host TCP then sends that data while it handles the peer's acknowledgements, in
//! the reader's time slice and in window-sized pieces. Capped, `sendfile` sends while the
//! socket has room, in full segments. Pulling 1 GiB from tmpfs on this 2-core machine: a
//! client that discards the body uncopied went from 2,400–2,600 to 6,500–12,500 MiB/s, and the
//! server's CPU from 0.39–0.42 to 0.06–0.14 s/GiB; `curl` writing the blob to a tmpfs file from
//! 1,020–1,110 to 1,210–1,440 MiB/s; `curl` into `/dev/null` stayed at about 2,000 MiB/s. The
//! round trip within a host is microseconds, so 512 KiB in flight is never the limit; over a
//! network the kernel's own sizing is left alone.
//!
//! `sendfile` reads the file on the calling thread: for a blob in the page cache (the common
//! case for a registry's hot layers) that costs nothing, a cold one waits for the disk as the
//! reading path's blocking pool would.

use std::{
    io::{self, IoSlice},
    net::SocketAddr,
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
    /// Whether `TCP_CORK` is on: from a file's first byte to its last.
    corked: bool,
}

/// The send buffer asked for on a connection from this same host (Linux doubles it, to
/// 512 KiB).
const SAME_HOST_SEND_BUFFER: usize = 256 * 1024;

impl SendfileStream {
    /// Wraps the connection from `peer`, capping its send buffer when `peer` is on this host.
    pub(super) fn new(tcp: TcpStream, peer: SocketAddr, files: FileQueue) -> Self {
        let on_this_host = tcp.local_addr().is_ok_and(|local| same_host(local, peer));
        if on_this_host
            && let Err(e) =
                rustix::net::sockopt::set_socket_send_buffer_size(&tcp, SAME_HOST_SEND_BUFFER)
        {
            // Only a matter of speed: the connection works with the kernel's sizing.
            tracing::debug!(%peer, error = %e, "could not cap the send buffer");
        }
        Self {
            tcp,
            files,
            corked: false,
        }
    }

    /// Sends up to `want` bytes of the head file, waiting for the socket to take them.
    fn poll_send_file(&mut self, cx: &mut Context<'_>, want: usize) -> Poll<io::Result<usize>> {
        self.cork(true)?;
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
                Err(e) => return Poll::Ready(Err(e)),
                Ok(sent) => {
                    if sent.file_done {
                        // Sends the file's last partial segment now.
                        self.cork(false)?;
                    }
                    return Poll::Ready(Ok(sent.count));
                }
            }
        }
    }

    fn cork(&mut self, on: bool) -> io::Result<()> {
        if self.corked != on {
            rustix::net::sockopt::set_tcp_cork(&self.tcp, on)?;
            self.corked = on;
        }
        Ok(())
    }
}

/// Whether a connection between `local` and `peer` stays within this host: a loopback peer,
/// or one of this host's own addresses (the kernel then connects from that same address).
fn same_host(local: SocketAddr, peer: SocketAddr) -> bool {
    peer.ip().is_loopback() || peer.ip() == local.ip()
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

#[cfg(test)]
mod tests {
    use std::io::Write;

    use futures_util::StreamExt;
    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::TcpListener,
    };

    use super::*;
    use crate::zero_copy::{FileSlice, file_stream};

    /// More than one loopback segment and not a multiple of one.
    const LEN: usize = 300_007;

    fn corked(stream: &SendfileStream) -> bool {
        rustix::net::sockopt::tcp_cork(&stream.tcp).unwrap()
    }

    #[tokio::test]
    async fn corked_from_a_files_first_byte_to_its_last_and_the_bytes_are_the_files() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, peer) = listener.accept().await.unwrap();
        server.set_nodelay(true).unwrap();
        let content: Vec<u8> = (0..LEN).map(|i| (i % 251) as u8).collect();
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&content).unwrap();
        let files = FileQueue::default();
        let slice = FileSlice {
            file,
            offset: 0,
            remaining: LEN as u64,
        };
        let mut body = file_stream(files.clone(), slice);
        let chunk = body.next().await.unwrap().unwrap();
        assert_eq!(chunk.len(), LEN, "one stand-in chunk covers the file");
        let mut stream = SendfileStream::new(server, peer, files);
        let reader = tokio::spawn(async move {
            let mut received = vec![0u8; LEN + 4];
            client.read_exact(&mut received).await.unwrap();
            received
        });

        stream.write_all(b"head").await.unwrap();
        assert!(!corked(&stream), "ordinary bytes leave uncorked");
        let first = stream.write(&chunk[..1000]).await.unwrap();
        assert!(corked(&stream), "corked while the file has bytes left");
        stream.write_all(&chunk[first..]).await.unwrap();
        assert!(
            !corked(&stream),
            "uncorked once its last byte is handed over"
        );

        let received = reader.await.unwrap();
        assert_eq!(&received[..4], b"head");
        assert!(received[4..] == content[..], "the file's bytes, in order");
    }

    #[tokio::test]
    async fn a_peer_on_this_host_gets_the_capped_send_buffer() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let _client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, peer) = listener.accept().await.unwrap();
        let stream = SendfileStream::new(server, peer, FileQueue::default());
        // Linux keeps double the size asked for, or less where `net.core.wmem_max` is lower;
        // uncapped, a loopback socket starts at `tcp_wmem`'s largest (4 MiB by default).
        let send_buffer = rustix::net::sockopt::socket_send_buffer_size(&stream.tcp).unwrap();
        assert!(
            send_buffer <= 2 * SAME_HOST_SEND_BUFFER,
            "send buffer {send_buffer}"
        );
    }

    #[test]
    fn only_peers_within_this_host_count_as_same_host() {
        let address = |text: &str| text.parse::<SocketAddr>().unwrap();
        assert!(same_host(
            address("127.0.0.1:5000"),
            address("127.0.0.1:40000")
        ));
        assert!(same_host(address("[::1]:5000"), address("[::1]:40000")));
        // A dual-stack listener sees IPv4 peers as mapped IPv6 addresses.
        assert!(same_host(
            address("[::ffff:127.0.0.1]:5000"),
            address("[::ffff:127.0.0.1]:40000")
        ));
        assert!(same_host(
            address("10.0.0.5:5000"),
            address("10.0.0.5:40000")
        ));
        assert!(!same_host(
            address("10.0.0.5:5000"),
            address("10.0.0.9:40000")
        ));
    }
}
