//! One accepted connection: the TLS handshake when there is one, HTTP/1.1 or HTTP/2 (by ALPN
//! or the client's preface), and the connection's timeouts.
//!
//! Three timers guard a connection. hyper's header-read timer bounds each HTTP/1.1 request
//! head, counted from the moment the connection is ready for it (so it also bounds an
//! HTTP/1.1 keep-alive wait). [`Activity`] closes a connection that has delivered no request
//! head within the header-read timeout of its start (a silent socket, a stalled handshake,
//! half a request line, an HTTP/2 preface and nothing more), and one that has had no request
//! in flight for the idle timeout. [`SilenceLimit`] ends a request body that stops sending.
//! A connection that never sent a request is simply dropped; one that did is shut down
//! gracefully (HTTP/2 `GOAWAY`), since a request may be on its way.

use std::{convert::Infallible, future::Future, net::SocketAddr, pin::Pin, sync::Arc};

use http::{HeaderValue, Request, Version};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::{
    io::{AsyncRead, AsyncWrite},
    net::TcpStream,
    sync::{OwnedSemaphorePermit, watch},
};

#[cfg(target_os = "linux")]
use super::sendfile_io::SendfileStream;
use super::{
    Answers, Shared,
    activity::{Activity, Expiry, RequestGuard},
    body_timeout::SilenceLimit,
};
use crate::{auth::X_FORWARDED_PROTO, log_limit::LimitLog, zero_copy::FileQueue};

static SILENT_CONNECTIONS: LimitLog = LimitLog::new();

/// How the client reached us, which the registry needs for the absolute URLs it hands out
/// (the token realm): an HTTP/1.1 request over TLS looks like one over plain TCP.
#[derive(Debug, Clone)]
enum Scheme {
    /// Plain HTTP; `files`, when given, is where the connection's writer takes the files of
    /// zero-copy answers, offered to HTTP/1.x requests (HTTP/2 frames its data itself).
    Http {
        files: Option<FileQueue>,
    },
    Https,
}

impl Scheme {
    /// Says so in `X-Forwarded-Proto`, as a TLS-terminating proxy in front would: this
    /// server terminates TLS, so a client's own value is replaced; over plain HTTP a proxy's
    /// value stands. Offers the zero-copy file queue to HTTP/1.x requests that can use it.
    fn tell<B>(&self, request: &mut Request<B>) {
        match self {
            Self::Https => {
                let https = HeaderValue::from_static("https");
                request.headers_mut().insert(X_FORWARDED_PROTO, https);
            }
            Self::Http { files: Some(files) } if request.version() <= Version::HTTP_11 => {
                request.extensions_mut().insert(files.clone());
            }
            Self::Http { .. } => {}
        }
    }
}

/// Serves one connection until it ends; `_slot` is its place under the connection cap.
pub(super) async fn run(
    stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    _slot: OwnedSemaphorePermit,
) {
    let _counted = shared.registry.metrics().connection_opened();
    let activity = Activity::new();
    let options = &shared.options;
    let expiry = activity.expired(options.header_read_timeout(), options.idle_timeout());
    tokio::pin!(expiry);
    let mut stop = shared.stop.clone();
    let Some(tls) = options.tls() else {
        return serve_plain(stream, peer, &shared, &activity, expiry, stop).await;
    };
    let handshake = tokio::select! {
        result = tls.acceptor().accept(stream) => result,
        _ = &mut expiry => return no_request(&shared),
        _ = stop.wait_for(|stopping| *stopping) => return,
    };
    match handshake {
        Ok(stream) => {
            serve_io(
                stream,
                peer,
                &shared,
                &activity,
                expiry,
                stop,
                Scheme::Https,
            )
            .await
        }
        // Scanners, clients that do not trust the certificate, clients without a certificate
        // under mutual TLS: the client learns why from the alert.
        Err(e) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
    }
}

/// A plain TCP connection: on Linux its HTTP/1.x answers may send blob files zero-copy.
async fn serve_plain(
    stream: TcpStream,
    peer: SocketAddr,
    shared: &Shared,
    activity: &Arc<Activity>,
    expiry: Pin<&mut impl Future<Output = Expiry>>,
    stop: watch::Receiver<bool>,
) {
    #[cfg(target_os = "linux")]
    {
        let files = FileQueue::default();
        let stream = SendfileStream::new(stream, peer, files.clone());
        let scheme = Scheme::Http { files: Some(files) };
        serve_io(stream, peer, shared, activity, expiry, stop, scheme).await
    }
    #[cfg(not(target_os = "linux"))]
    {
        let scheme = Scheme::Http { files: None };
        serve_io(stream, peer, shared, activity, expiry, stop, scheme).await
    }
}

async fn serve_io<I>(
    io: I,
    peer: SocketAddr,
    shared: &Shared,
    activity: &Arc<Activity>,
    mut expiry: Pin<&mut impl Future<Output = Expiry>>,
    mut stop: watch::Receiver<bool>,
    scheme: Scheme,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let http = match &scheme {
        Scheme::Http { .. } => &shared.http_plain,
        Scheme::Https => &shared.http,
    };
    let service = {
        let registry = shared.registry.clone();
        let answers = shared.answers;
        let activity = Arc::clone(activity);
        let body_timeout = shared.options.body_timeout();
        hyper::service::service_fn(move |request: Request<Incoming>| {
            let guard = activity.request_started();
            let registry = registry.clone();
            let mut request = request.map(|body| SilenceLimit::new(body, body_timeout));
            scheme.tell(&mut request);
            async move {
                let answer = match answers {
                    Answers::Api => registry.handle(request).await,
                    Answers::Probes => registry.probe_or_not_found(request.uri().path()).await,
                };
                // The request stays in flight until its answer's body is finished or dropped:
                // the body's frame mapper owns the guard.
                Ok::<_, Infallible>(answer.map(|body| {
                    body.map_frame(move |frame| {
                        let _in_flight: &RequestGuard = &guard;
                        frame
                    })
                }))
            }
        })
    };
    let connection = http.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    let mut closing = false;
    loop {
        tokio::select! {
            ended = connection.as_mut() => {
                if let Err(e) = ended {
                    connection_failed(&*e, peer, shared);
                }
                return;
            }
            why = &mut expiry, if !closing => {
                if why == Expiry::NoRequest {
                    return no_request(shared);
                }
                tracing::debug!(%peer, "closing an idle connection");
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            _ = stop.wait_for(|stopping| *stopping), if !closing => {
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}

/// A connection dropped for sending no request head in time.
fn no_request(shared: &Shared) {
    let limit = shared.options.header_read_timeout();
    SILENT_CONNECTIONS.hit(|connections| {
        tracing::warn!(
            limit_seconds = limit.as_secs(),
            connections,
            "closed connections that sent no complete request head within the header-read timeout"
        );
    });
}

fn connection_failed(error: &(dyn std::error::Error + 'static), peer: SocketAddr, shared: &Shared) {
    let timed_out = error
        .downcast_ref::<hyper::Error>()
        .is_some_and(hyper::Error::is_timeout);
    if timed_out {
        no_request(shared);
    } else {
        tracing::debug!(%peer, error = %error, "connection ended with an error");
    }
}
