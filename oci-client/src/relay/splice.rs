//! Moving a body from one socket to another through a pipe with `splice(2)`: the kernel
//! hands the pages on, and the bytes never enter user space.
//!
//! One pipe per transfer, filled from the source and drained into the destination in turn:
//! while filling, the pipe is empty, so a `splice` that would block waits on the source
//! socket; while draining, the pipe holds bytes, so one that would block waits on the
//! destination. Each wait is tokio's readiness (`try_io` clears it on `EAGAIN`).

use std::io;
use std::time::Duration;

use rustix::pipe::{PipeFlags, SpliceFlags};
use tokio::io::Interest;
use tokio::net::TcpStream;

/// The pipe's capacity asked for: Linux's default cap for unprivileged processes
/// (`/proc/sys/fs/pipe-max-size`); a smaller cap leaves the default 64 KiB.
const PIPE_SIZE: usize = 1024 * 1024;

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
/// sends the last partial segment at once.
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
