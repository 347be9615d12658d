//! A forwarding proxy that injects faults a real registry does not produce on demand:
//! connections cut mid-blob, transient statuses (with `Retry-After`), lost answers,
//! corrupted bytes, another writer overwriting a tag. It logs every request and the most requests it saw at once.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use bytes::Bytes;
use futures_util::StreamExt;
use http::{Method, StatusCode};

use super::forward;

/// A fault, applied to the next `times` requests it matches.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Forward, then break the connection after `after` bytes of the answer's body.
    Cut { after: usize },
    /// Answer `status` (with `Retry-After` when given) without forwarding.
    Status {
        status: StatusCode,
        retry_after: Option<&'static str>,
    },
    /// Forward (the registry acts on the request), then answer `status` instead of the
    /// registry's answer: a lost answer.
    LoseAnswer { status: StatusCode },
    /// Forward, then flip the first byte of the answer's body.
    Corrupt,
    /// Forward, then `PUT` `body` (of `content_type`) to the same path before answering:
    /// another writer overwriting what the client just wrote.
    Overwrite {
        content_type: &'static str,
        body: Bytes,
    },
}

/// Which requests a fault applies to.
#[derive(Debug, Clone)]
pub struct Rule {
    pub method: Method,
    /// A substring of the path.
    pub path: &'static str,
    pub fault: Fault,
    pub times: usize,
}

/// One request the proxy saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub range: Option<String>,
    pub content_length: Option<u64>,
    pub authorization: bool,
}

#[derive(Default)]
struct Shared {
    upstream: String,
    http: Option<reqwest::Client>,
    rules: Mutex<Vec<Rule>>,
    seen: Mutex<Vec<Seen>>,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
}

/// The running proxy.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// A proxy in front of `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> FaultProxy {
        let shared = Arc::new(Shared {
            upstream: upstream.to_owned(),
            http: Some(forward::upstream_client()),
            ..Shared::default()
        });
        let router = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let addr = forward::serve(router).await;
        FaultProxy { addr, shared }
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Adds a fault for the next `times` requests of `method` whose path holds `path`.
    pub fn inject(&self, method: Method, path: &'static str, fault: Fault, times: usize) {
        self.shared.rules.lock().unwrap().push(Rule {
            method,
            path,
            fault,
            times,
        });
    }

    /// The requests of `method` whose path holds `path`, in order.
    pub fn seen(&self, method: Method, path: &str) -> Vec<Seen> {
        let seen = self.shared.seen.lock().unwrap();
        seen.iter()
            .filter(|s| s.method == method && s.path.contains(path))
            .cloned()
            .collect()
    }

    /// The most requests that were in the proxy at once.
    pub fn most_in_flight(&self) -> usize {
        self.shared.most_in_flight.load(Ordering::SeqCst)
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.most_in_flight.fetch_max(now, Ordering::SeqCst);
    let response = forward_with_faults(&shared, request).await;
    // Counted out before the answer leaves, so a client that waits for it sees the slot free.
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

async fn forward_with_faults(shared: &Shared, request: Request) -> Response {
    let seen = record(&request);
    let path = seen.path.clone();
    shared.seen.lock().unwrap().push(seen);
    let fault = take_fault(shared, request.method(), &path);
    let http = shared.http.as_ref().unwrap();
    match fault {
        None => forward::answer(
            forward::send(http, &shared.upstream, request).await,
            forward::whole,
        ),
        Some(Fault::Status {
            status,
            retry_after,
        }) => {
            let mut builder = Response::builder().status(status);
            if let Some(wait) = retry_after {
                builder = builder.header("retry-after", wait);
            }
            builder.body(Body::empty()).unwrap()
        }
        Some(Fault::LoseAnswer { status }) => {
            let upstream = forward::send(http, &shared.upstream, request).await;
            // Let the registry finish the request before the answer is dropped.
            let _ = upstream.bytes().await;
            Response::builder()
                .status(status)
                .body(Body::empty())
                .unwrap()
        }
        Some(Fault::Cut { after }) => {
            let upstream = forward::send(http, &shared.upstream, request).await;
            forward::answer(upstream, |upstream| cut(upstream, after))
        }
        Some(Fault::Corrupt) => {
            let upstream = forward::send(http, &shared.upstream, request).await;
            forward::answer(upstream, corrupt)
        }
        Some(Fault::Overwrite { content_type, body }) => {
            // The registry answers a manifest PUT once it is done, so the write has landed.
            let upstream = forward::send(http, &shared.upstream, request).await;
            let overwritten = http
                .put(format!("http://{}{path}", shared.upstream))
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            assert!(
                overwritten.status().is_success(),
                "the other writer's PUT {path} answered {}",
                overwritten.status()
            );
            forward::answer(upstream, forward::whole)
        }
    }
}

/// What the log keeps of a request.
fn record(request: &Request) -> Seen {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    Seen {
        method: request.method().clone(),
        path: request.uri().path().to_owned(),
        range: header("range"),
        content_length: header("content-length").and_then(|v| v.parse().ok()),
        authorization: request.headers().contains_key("authorization"),
    }
}

fn take_fault(shared: &Shared, method: &Method, path: &str) -> Option<Fault> {
    let mut rules = shared.rules.lock().unwrap();
    let rule = rules
        .iter_mut()
        .find(|rule| rule.times > 0 && rule.method == method && path.contains(rule.path))?;
    rule.times -= 1;
    Some(rule.fault.clone())
}

/// The body up to `after` bytes, then an error, which makes the server drop the connection.
fn cut(upstream: reqwest::Response, after: usize) -> Body {
    let mut left = after;
    let stream = upstream.bytes_stream().map(move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        if left == 0 {
            return Err(std::io::Error::other("cut by the fault proxy"));
        }
        let keep = chunk.len().min(left);
        left -= keep;
        Ok(chunk.slice(..keep))
    });
    // hyper drops the connection at the first error item.
    Body::from_stream(stream)
}

/// The body with its first byte flipped.
fn corrupt(upstream: reqwest::Response) -> Body {
    let mut first = true;
    Body::from_stream(upstream.bytes_stream().map(move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        if first && !chunk.is_empty() {
            first = false;
            let mut bytes = chunk.to_vec();
            bytes[0] ^= 0xff;
            return Ok::<Bytes, std::io::Error>(Bytes::from(bytes));
        }
        Ok(chunk)
    }))
}
