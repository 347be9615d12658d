//! A small HTTP/1.1 proxy in front of a registry, working on bytes so it can break what an
//! HTTP library would not let a test break. It records every request (its line, its headers,
//! when its head arrived, the fault it got) and the most requests it held at once, and injects
//! [`Fault`]s into chosen requests: a connection cut mid-body, an error status instead of the
//! registry's answer (with a spec error code, and `Retry-After` when asked), a lost answer,
//! a corrupted body, another writer overwriting a manifest, an answer trickled back in small
//! pieces, or no answer at all.
//!
//! Each request goes upstream on a connection of its own with `Connection: close`, so the
//! registry's answer ends where its connection does and a connection is one request to judge.
//! It also serves as an explicit forward proxy: a request line in absolute form
//! (`GET http://host/v2/`) is passed on in origin form.

mod exchange;
mod wire;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What the proxy does to a request a [`Fault`] matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Let `after` bytes of the body through, then close both connections: of the answer's
    /// body for `GET` and `HEAD`, of the request's body otherwise. The client sees the
    /// exchange break.
    Cut {
        /// Body bytes let through.
        after: usize,
    },
    /// Answer `status` with a spec error body of `code` (and `Retry-After` when given)
    /// instead of forwarding the request.
    Refuse {
        /// The status answered.
        status: u16,
        /// The spec error code of the body.
        code: &'static str,
        /// The `Retry-After` value (seconds or an HTTP date), if any.
        retry_after: Option<&'static str>,
    },
    /// Forward the request (the registry acts on it), drop the registry's answer and answer
    /// `status` instead: an answer lost on the way back.
    LoseAnswer {
        /// The status answered instead.
        status: u16,
    },
    /// Forward the request and flip the first byte of the answer's body.
    Corrupt,
    /// Forward the request, then `PUT` `body` (of `content_type`) to the same path before
    /// answering: another writer overwriting what the client just wrote.
    Overwrite {
        /// The `Content-Type` of the other writer's `PUT`.
        content_type: &'static str,
        /// What the other writer puts.
        body: Vec<u8>,
    },
    /// Forward the request and hand the answer back `piece` bytes at a time, with a pause
    /// between pieces.
    Trickle {
        /// Bytes a piece.
        piece: usize,
    },
    /// Take the request and never answer; the connection is held until the client leaves.
    Stall,
}

impl Action {
    /// Answer `status` with the spec error code `UNKNOWN` instead of forwarding.
    pub fn status(status: u16) -> Action {
        Action::Refuse {
            status,
            code: "UNKNOWN",
            retry_after: None,
        }
    }

    /// Answer `429 Too Many Requests` with `Retry-After: <retry_after>` instead of forwarding.
    pub fn too_many_requests(retry_after: &'static str) -> Action {
        Action::Refuse {
            status: 429,
            code: "TOOMANYREQUESTS",
            retry_after: Some(retry_after),
        }
    }
}

/// Which requests to harm, and how.
#[derive(Debug, Clone)]
pub struct Fault {
    /// Request method, e.g. `GET`.
    pub method: &'static str,
    /// A text the path (with its query) must contain, e.g. `/blobs/sha256:`.
    pub path_contains: String,
    /// What to do.
    pub action: Action,
    /// How many matching requests to harm (the first ones).
    pub times: usize,
}

impl Fault {
    /// `action` on the first `method` request whose path contains `path_contains`.
    pub fn new(method: &'static str, path_contains: impl Into<String>, action: Action) -> Fault {
        Fault {
            method,
            path_contains: path_contains.into(),
            action,
            times: 1,
        }
    }

    /// The same fault on the first `times` matching requests.
    pub fn times(self, times: usize) -> Fault {
        Fault { times, ..self }
    }
}

/// A request the proxy saw.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `METHOD /path?query`.
    pub line: String,
    /// Its headers, names in lower case, in the order sent.
    pub headers: Vec<(String, String)>,
    /// When its head had arrived.
    pub at: Instant,
    /// The fault injected into it, if any.
    pub fault: Option<Action>,
}

impl Seen {
    /// Whether it is a `method` request whose path contains `path_contains`.
    pub fn is(&self, method: &str, path_contains: &str) -> bool {
        self.line
            .strip_prefix(method)
            .is_some_and(|rest| rest.starts_with(' ') && rest.contains(path_contains))
    }

    /// The value of its header `name` (lower case), if it had one.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header == name)
            .map(|(_, value)| value.as_str())
    }
}

/// A running proxy; stops accepting when dropped.
pub struct Proxy {
    host: String,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

/// What every connection of a proxy shares.
struct Shared {
    upstream: String,
    /// Each fault with how many more requests it may harm.
    faults: Mutex<Vec<(Fault, usize)>>,
    log: Mutex<Vec<Seen>>,
    /// Faults injected so far.
    injected: watch::Sender<usize>,
    /// Requests whose answer has not started back yet.
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream` (`host:port`), harming
    /// nothing until faults are [injected](Self::inject).
    pub async fn start(upstream: &str) -> Proxy {
        Proxy::with_faults(upstream, Vec::new()).await
    }

    /// Like [`start`](Self::start), with `faults` from the first request on; a request gets
    /// the first fault that matches it and has uses left.
    pub async fn with_faults(upstream: &str, faults: Vec<Fault>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let shared = Arc::new(Shared {
            upstream: upstream.to_owned(),
            faults: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            injected: watch::Sender::new(0),
            in_flight: AtomicUsize::new(0),
            most_in_flight: AtomicUsize::new(0),
        });
        let accepting = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let shared = Arc::clone(&accepting);
                tokio::spawn(async move {
                    let _ = exchange::serve(client, &shared).await;
                });
            }
        });
        let proxy = Proxy { host, shared, task };
        for fault in faults {
            proxy.inject(fault);
        }
        proxy
    }

    /// Adds `fault`, after the faults already there.
    pub fn inject(&self, fault: Fault) {
        let left = fault.times;
        lock(&self.shared.faults).push((fault, left));
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port.
    pub fn port(&self) -> u16 {
        self.host
            .rsplit_once(':')
            .and_then(|(_, port)| port.parse().ok())
            .unwrap()
    }

    /// Every request line seen, as `METHOD /path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.seen().into_iter().map(|seen| seen.line).collect()
    }

    /// Every request seen, in order of arrival.
    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.shared.log).clone()
    }

    /// The `method` requests whose path contains `path_contains`, in order of arrival.
    pub fn seen_matching(&self, method: &str, path_contains: &str) -> Vec<Seen> {
        let mut seen = self.seen();
        seen.retain(|seen| seen.is(method, path_contains));
        seen
    }

    /// How many `method` requests whose path contains `path_contains` it saw.
    pub fn count(&self, method: &str, path_contains: &str) -> usize {
        self.seen_matching(method, path_contains).len()
    }

    /// How many faults were injected.
    pub fn injected(&self) -> usize {
        *self.shared.injected.borrow()
    }

    /// Returns once `count` faults were injected (a notification, not a poll).
    pub async fn wait_for_injected(&self, count: usize) {
        let mut injected = self.shared.injected.subscribe();
        injected.wait_for(|&done| done >= count).await.unwrap();
    }

    /// The most requests the proxy held at once, each from its head's arrival until its
    /// answer started back.
    pub fn most_in_flight(&self) -> usize {
        self.shared.most_in_flight.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Shared {
    /// The fault `method path` gets, using one of its uses.
    fn claim(&self, method: &str, path: &str) -> Option<Action> {
        let mut faults = lock(&self.faults);
        let (fault, left) = faults.iter_mut().find(|(fault, left)| {
            *left > 0 && fault.method == method && path.contains(&fault.path_contains)
        })?;
        *left -= 1;
        Some(fault.action.clone())
    }

    fn record(&self, request: &wire::Request, fault: Option<Action>) {
        let injected = fault.is_some();
        lock(&self.log).push(Seen {
            line: format!("{} {}", request.method, request.path),
            headers: request.headers.clone(),
            at: request.arrived,
            fault,
        });
        if injected {
            self.injected.send_modify(|count| *count += 1);
        }
    }
}

/// The data behind `mutex`, also after a panic elsewhere (a test's assertion) poisoned it.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
