//! The connection layer: [`serve`] puts a [`Registry`] on a TCP listener, over plain HTTP or
//! HTTPS ([`Tls`]), with HTTP/1.1 and HTTP/2, the timeouts and caps of [`ServeOptions`], and
//! graceful shutdown.
//!
//! A registry on the open network meets clients that connect and say nothing, send half a
//! request line and stop, or start an upload and go silent. Each of those holds a file
//! descriptor; unchecked, a thousand of them stop every other client. So every connection
//! has to deliver a request head within the header-read timeout, goes when it has been idle
//! for the idle timeout, and a request body that sends nothing for the body timeout is
//! dropped. At most [`ServeOptions::max_connections`] connections are served at once (kept
//! under the open-file limit, which [`raise_open_file_limit`] lifts to the hard limit); past
//! that, new connections wait in the listen backlog rather than failing. Hitting a limit is
//! logged as a warning, at most once per ten seconds per kind with a count.

mod activity;
mod body_timeout;
mod connection;
mod error;
mod fd_limit;
mod options;
mod reload;
#[cfg(target_os = "linux")]
mod sendfile_io;
mod tls;

use std::{future::Future, io, sync::Arc, time::Duration};

use hyper_util::{
    rt::{TokioExecutor, TokioTimer},
    server::conn::auto,
};
use tokio::{
    net::TcpListener,
    sync::{OwnedSemaphorePermit, Semaphore, watch},
    task::JoinSet,
};

pub use self::{
    error::ServerError,
    fd_limit::raise_open_file_limit,
    options::{
        DEFAULT_BODY_TIMEOUT, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_IDLE_TIMEOUT,
        DEFAULT_MAX_CONNECTIONS, ServeOptions,
    },
    tls::{DEFAULT_TLS_RELOAD_INTERVAL, Tls, TlsConfig},
};
use crate::{log_limit::LimitLog, registry::Registry};

static CAP_REACHED: LimitLog = LimitLog::new();
static ACCEPT_FAILURES: LimitLog = LimitLog::new();

/// How long accepting pauses after a failure that is not about one connection (out of file
/// descriptors or memory): only connections ending can fix it, so retrying at once would spin.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// What a listener answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answers {
    /// The distribution API (and the probes, when the registry's configuration has them).
    Api,
    /// Only `/metrics`, `/healthz` and `/readyz`; 404 for anything else.
    Probes,
}

/// What every connection shares.
struct Shared {
    registry: Registry,
    answers: Answers,
    options: ServeOptions,
    http: auto::Builder<TokioExecutor>,
    /// The same, for plain TCP connections, whose writer takes vectored writes: set outright,
    /// since zero-copy bodies rely on hyper passing body chunks through uncopied.
    http_plain: auto::Builder<TokioExecutor>,
    /// Turns `true` when the server shuts down.
    stop: watch::Receiver<bool>,
}

/// Serves `registry` on `listener` with the default [`ServeOptions`] until `shutdown`
/// completes, then lets requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    registry: Registry,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_with(listener, registry, ServeOptions::default(), shutdown).await
}

/// Serves `registry` on `listener` as `options` say until `shutdown` completes: stops
/// accepting, closes idle connections, lets requests in flight finish, and returns once every
/// connection has ended. Accepted connections have Nagle's algorithm off: a response's
/// headers and body go out in separate writes, and with it on a kept-alive connection waits
/// for the client's delayed acknowledgement (tens of milliseconds) before each body.
pub async fn serve_with(
    listener: TcpListener,
    registry: Registry,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_answering(Answers::Api, listener, registry, options, shutdown).await
}

/// Serves only `registry`'s probes (`/metrics`, `/healthz`, `/readyz`) on `listener`, with the
/// same TLS, timeouts and connection cap as [`serve_with`]: a listener kept apart for
/// monitoring meets the same idle and silent clients as the API's.
pub async fn serve_probes_with(
    listener: TcpListener,
    registry: Registry,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    serve_answering(Answers::Probes, listener, registry, options, shutdown).await
}

async fn serve_answering(
    answers: Answers,
    listener: TcpListener,
    registry: Registry,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let cap = fd_limit::fit_connection_cap(options.max_connections())
        .get()
        .min(Semaphore::MAX_PERMITS)
        .min(u32::MAX as usize);
    let slots = Arc::new(Semaphore::new(cap));
    let (stop, stopping) = watch::channel(false);
    // Dropped (and so stopped) when serving ends.
    let mut background = JoinSet::new();
    if let Some(tls) = options.tls() {
        background.spawn(reload::watch_files(tls.clone()));
    }
    let mut http_plain = http_builder(&options);
    http_plain.http1().writev(true);
    let shared = Arc::new(Shared {
        http: http_builder(&options),
        http_plain,
        registry,
        answers,
        options,
        stop: stopping,
    });
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            () = &mut shutdown => break,
            slot = take_slot(&slots, cap) => slot,
        };
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                // Only fails on a connection that is already gone.
                let _ = stream.set_nodelay(true);
                tokio::spawn(connection::run(stream, peer, Arc::clone(&shared), slot));
            }
            Err(e) => accept_failed(e).await,
        }
    }
    drop(listener);
    let _ = stop.send(true);
    // Each connection gives its slot back when it ends; the semaphore is never closed.
    let _all_ended = slots.acquire_many(cap as u32).await;
    Ok(())
}

/// The HTTP/1.1 and HTTP/2 settings every connection is served with.
fn http_builder(options: &ServeOptions) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout());
    builder.http2().timer(TokioTimer::new());
    builder
}

/// A place under the connection cap, waiting (with a warning) while all are taken.
async fn take_slot(slots: &Arc<Semaphore>, cap: usize) -> OwnedSemaphorePermit {
    if let Ok(slot) = Arc::clone(slots).try_acquire_owned() {
        return slot;
    }
    CAP_REACHED.hit(|times| {
        tracing::warn!(
            cap,
            times,
            "connection cap reached; new connections wait in the listen backlog"
        );
    });
    match Arc::clone(slots).acquire_owned().await {
        Ok(slot) => slot,
        // The semaphore is never closed, so this never resolves.
        Err(_) => std::future::pending().await,
    }
}

async fn accept_failed(error: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        // That one connection is gone; the next one is unaffected.
        tracing::debug!(error = %error, "a connection failed before it was accepted");
        return;
    }
    ACCEPT_FAILURES.hit(|times| {
        tracing::warn!(error = %error, times, "cannot accept connections (out of file descriptors?)");
    });
    tokio::time::sleep(ACCEPT_PAUSE).await;
}
