//! Moving a body from one socket to another through a pipe with `splice(2)`: the kernel
//! hands the pages on, and the bytes never enter user space.
//!
//! One pipe per transfer, filled from the source and drained into the destination in turn:
//! while filling, the pipe is empty, so a `splice` that would block waits on the source
//! socket; while draining, the pipe holds bytes, so one that would block waits on the
//! destination. Each wait is tokio's readiness (`try_io` clears it on `EAGAIN`).

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use rustix::pipe::{PipeFlags, SpliceFlags};
use tokio::io::Interest;
use tokio::net::TcpStream;

/// The pipe's capacity asked for: Linux's default cap for unprivileged processes
/// (`/proc/sys/fs/pipe-max-size`); a smaller cap leaves the default 64 KiB.
const PIPE_SIZE: usize = 1024 * 1024;

/// The send buffer asked for on a connection to this same host (Linux doubles it, to 512 KiB).
///
/// By default the kernel lets a socket hold up to 4 MiB the peer has no window for yet. On
/// a connection within one host, TCP sends that waiting data while it handles the peer's
/// acknowledgements, in the peer's own time slice: the receiving registry, already the
/// busiest process of a copy, then also pays for sending it, in small window-sized pieces.
/// Capped, the data waits in the pipe instead and this process sends it when the socket has
/// room. A 2 x 20 x 10 MiB copy between two registries on loopback took 0.48 s of wall time
/// and 0.86 s of CPU in all three processes, against 0.55 s and 1.0 s uncapped. The
/// round trip within a host is microseconds, so 512 KiB in flight is never the limit; over
/// a network the kernel's own sizing is left alone.
const SAME_HOST_SEND_BUFFER: usize = 256 * 1024;

/// Which end of a transfer failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    /// Reading from the source (or the source ended early).
    Source,
    /// Writing to the destination.
    Destination,
}

/// A failed transfer: which end, and what happened.
#[derive(Debug)]
pub(super) struct PumpError {
    pub(super) side: Side,
    pub(super) error: io::Error,
}

/// Moves exactly `length` bytes from `from` to `to`, calling `progress` with each piece's
/// size. A source that ends early is an [`io::ErrorKind::UnexpectedEof`] on its side.
/// `idle` bounds each wait for either socket, as the client's read timeout does.
///
/// `to` is corked (`TCP_CORK`) while the bytes move: the pipe hands TCP pieces of whatever
/// size the source's packets had, and with `TCP_NODELAY` each piece's remainder would go out
/// as a small segment of its own, each one a wakeup of the destination. Uncorking at the end
/// sends the last partial segment at once. On a connection within this host, `to`'s send
/// buffer is capped ([`SAME_HOST_SEND_BUFFER`]).
pub(super) async fn pump(
    from: &TcpStream,
    to: &TcpStream,
    length: u64,
    idle: Option<Duration>,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<(), PumpError> {
    let (drain, fill) = rustix::pipe::pipe_with(PipeFlags::CLOEXEC | PipeFlags::NONBLOCK)
        .map_err(|error| on(Side::Source)(error.into()))?;
    let capacity = rustix::pipe::fcntl_setpipe_size(&fill, PIPE_SIZE)
        .or_else(|_| rustix::pipe::fcntl_getpipe_size(&fill))
        .map_err(|error| on(Side::Source)(error.into()))?;
    let flags = SpliceFlags::NONBLOCK | SpliceFlags::MOVE;
    let cork = |on| rustix::net::sockopt::set_tcp_cork(to, on).map_err(io::Error::from);
    cork(true).map_err(on(Side::Destination))?;
    if same_host(to.local_addr(), to.peer_addr()) {
        rustix::net::sockopt::set_socket_send_buffer_size(to, SAME_HOST_SEND_BUFFER)
            .map_err(|error| on(Side::Destination)(error.into()))?;
    }
    let mut left = length;
    while left > 0 {
        let want = usize::try_from(left).unwrap_or(usize::MAX).min(capacity);
        let filled = bounded(
            idle,
            "the source went quiet",
            moved(from, Interest::READABLE, || {
                rustix::pipe::splice(from, None, &fill, None, want, flags)
            }),
        )
        .await
        .map_err(on(Side::Source))?;
        if filled == 0 {
            let error = io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the source ended after {} of {length} bytes", length - left),
            );
            return Err(on(Side::Source)(error));
        }
        let mut in_pipe = filled;
        while in_pipe > 0 {
            let drained = bounded(
                idle,
                "the destination stopped taking bytes",
                moved(to, Interest::WRITABLE, || {
                    rustix::pipe::splice(&drain, None, to, None, in_pipe, flags)
                }),
            )
            .await
            .map_err(on(Side::Destination))?;
            if drained == 0 {
                let error =
                    io::Error::new(io::ErrorKind::WriteZero, "the destination took nothing");
                return Err(on(Side::Destination)(error));
            }
            in_pipe -= drained;
        }
        left -= filled as u64;
        progress(filled as u64);
    }
    cork(false).map_err(on(Side::Destination))
}

/// Whether a connection from `local` to `peer` stays within this host: a loopback peer, or
/// one of this host's own addresses (the kernel then answers from that same address).
fn same_host(local: io::Result<SocketAddr>, peer: io::Result<SocketAddr>) -> bool {
    match (local, peer) {
        (Ok(local), Ok(peer)) => peer.ip().is_loopback() || peer.ip() == local.ip(),
        _ => false,
    }
}

/// Turns an error into a [`PumpError`] of `side`.
fn on(side: Side) -> impl Fn(io::Error) -> PumpError {
    move |error| PumpError { side, error }
}

/// One `splice` on `socket` once it is ready for `interest`, waiting again while it would
/// block.
async fn moved(
    socket: &TcpStream,
    interest: Interest,
    mut splice: impl FnMut() -> rustix::io::Result<usize>,
) -> io::Result<usize> {
    loop {
        socket.ready(interest).await?;
        match socket.try_io(interest, || splice().map_err(io::Error::from)) {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
            other => return other,
        }
    }
}

/// `work`, failed with [`io::ErrorKind::TimedOut`] and `why` past `idle` when given.
async fn bounded<T>(
    idle: Option<Duration>,
    why: &'static str,
    work: impl Future<Output = io::Result<T>>,
) -> io::Result<T> {
    match idle {
        None => work.await,
        Some(idle) => tokio::time::timeout(idle, work)
            .await
            .unwrap_or_else(|_| Err(io::Error::new(io::ErrorKind::TimedOut, why))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;
    use tokio::net::TcpListener;

    /// A connected pair on loopback: the connecting end and the accepted one.
    async fn pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let (connected, accepted) = tokio::join!(TcpStream::connect(address), listener.accept());
        (connected.expect("connect"), accepted.expect("accept").0)
    }

    #[tokio::test]
    async fn a_same_host_destination_gets_the_capped_send_buffer_and_every_byte() {
        let (mut source, from) = pair().await;
        let (to, mut destination) = pair().await;
        let body: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let length = body.len() as u64;
        let writer = tokio::spawn(async move {
            tokio::io::AsyncWriteExt::write_all(&mut source, &body)
                .await
                .map(|()| body)
        });
        let reader = tokio::spawn(async move {
            let mut received = Vec::new();
            destination
                .read_to_end(&mut received)
                .await
                .map(|_| received)
        });
        let mut moved = 0;
        pump(&from, &to, length, None, &mut |piece| moved += piece)
            .await
            .map_err(|failed| failed.error)
            .expect("pump");
        // Linux keeps double the size asked for, or less where `net.core.wmem_max` is lower;
        // uncapped, a loopback socket starts at `tcp_wmem`'s largest (4 MiB by default).
        let send_buffer = rustix::net::sockopt::socket_send_buffer_size(&to).expect("sndbuf");
        assert!(
            send_buffer <= 2 * SAME_HOST_SEND_BUFFER,
            "send buffer {send_buffer}"
        );
        drop(to);
        let sent = writer.await.expect("writer").expect("write");
        let received = reader.await.expect("reader").expect("read");
        assert_eq!(moved, length);
        assert!(received == sent, "the bytes changed on the way");
    }

    #[test]
    fn only_connections_within_this_host_count_as_same_host() {
        let address = |text: &str| Ok(text.parse::<SocketAddr>().expect("address"));
        assert!(same_host(
            address("127.0.0.1:40000"),
            address("127.0.0.1:5000")
        ));
        assert!(same_host(address("[::1]:40000"), address("[::1]:5000")));
        // A dual-stack socket sees IPv4 addresses as mapped IPv6 ones.
        assert!(same_host(
            address("[::ffff:127.0.0.1]:40000"),
            address("[::ffff:127.0.0.1]:5000")
        ));
        assert!(same_host(
            address("10.0.0.5:40000"),
            address("10.0.0.5:5000")
        ));
        assert!(!same_host(
            address("10.0.0.5:40000"),
            address("10.0.0.9:5000")
        ));
        assert!(!same_host(
            address("10.0.0.5:40000"),
            Err(io::ErrorKind::NotConnected.into())
        ));
    }
}
