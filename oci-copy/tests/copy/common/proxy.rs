//! A tiny HTTP/1.1 proxy in front of a registry: it records every request (its line, and
//! when its head arrived), and injects [`Fault`]s into chosen ones: a connection cut
//! mid-message, an error status (with a chosen spec error code) instead of the registry's
//! answer, `429` with `Retry-After`, an answer trickled back in small pieces, or no answer
//! at all. Each request is forced onto its own connection (`Connection: close`), so a
//! connection is one request to judge.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The pause between two pieces of a trickled answer: the fault itself (a slow link), not
/// a synchronisation.
const TRICKLE_PAUSE: Duration = Duration::from_millis(1);

/// What the proxy does to a request a [`Fault`] matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Let `after` bytes through, then close both connections: bytes of the answer for
    /// `GET` and `HEAD`, of the request body otherwise. The client sees the exchange break.
    Cut { after: usize },
    /// Answer this status (with a spec error body) instead of forwarding the request.
    Status(u16),
    /// Answer `status` with a spec error body of `code` instead of forwarding the request.
    Refuse { status: u16, code: &'static str },
    /// Answer `429 Too Many Requests` with `Retry-After: <seconds>` instead of forwarding.
    TooManyRequests { retry_after_secs: u64 },
    /// Forward the request, and hand the answer back `piece` bytes at a time with a pause
    /// between pieces.
    Trickle { piece: usize },
    /// Take the request and never answer; the connection is held until the client leaves.
    Stall,
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
    faults: Vec<(Fault, AtomicUsize)>,
    log: Mutex<Vec<Seen>>,
    /// Faults injected so far.
    injected: watch::Sender<usize>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream` (`host:port`).
    pub async fn start(upstream: &str, fault: Option<Fault>) -> Proxy {
        Proxy::with_faults(upstream, fault.into_iter().collect()).await
    }

    /// Like [`start`](Self::start), with several faults; a request gets the first one
    /// that matches it and has uses left.
    pub async fn with_faults(upstream: &str, faults: Vec<Fault>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let shared = Arc::new(Shared {
            upstream: upstream.to_owned(),
            faults: faults
                .into_iter()
                .map(|fault| {
                    let left = AtomicUsize::new(fault.times);
                    (fault, left)
                })
                .collect(),
            log: Mutex::new(Vec::new()),
            injected: watch::Sender::new(0),
        });
        let accepting = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let shared = accepting.clone();
                tokio::spawn(async move {
                    let _ = serve(client, &shared).await;
                });
            }
        });
        Proxy { host, shared, task }
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Every request line seen, as `METHOD /path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.seen().into_iter().map(|seen| seen.line).collect()
    }

    /// How many `method` requests whose path contains `path_contains` it saw.
    pub fn count(&self, method: &str, path_contains: &str) -> usize {
        let seen = self.seen();
        seen.iter()
            .filter(|seen| seen.is(method, path_contains))
            .count()
    }

    /// Every request seen, in order of arrival.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.log.lock().unwrap().clone()
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
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Shared {
    /// The fault `method path` gets, using one of its uses.
    fn claim(&self, method: &str, path: &str) -> Option<Action> {
        self.faults.iter().find_map(|(fault, left)| {
            let matches = fault.method == method
                && path.contains(&fault.path_contains)
                && left
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
            matches.then_some(fault.action)
        })
    }

    fn record(&self, request: &Request, fault: Option<Action>) {
        self.log.lock().unwrap().push(Seen {
            line: format!("{} {}", request.method, request.path),
            at: request.arrived,
            fault,
        });
        if fault.is_some() {
            self.injected.send_modify(|count| *count += 1);
        }
    }
}

/// A request head as read from the client, rewritten for the registry.
struct Request {
    method: String,
    path: String,
    arrived: Instant,
    /// The head to send upstream, with `Connection: close`.
    head: Vec<u8>,
    /// Body bytes read along with the head.
    body_start: Vec<u8>,
    /// `Content-Length` (0 without one: the client sends one with every body faulted here).
    content_length: u64,
}

impl Request {
    /// Body bytes still to read from the client.
    fn body_left(&self) -> u64 {
        self.content_length
            .saturating_sub(self.body_start.len() as u64)
    }
}

async fn serve(mut client: TcpStream, shared: &Shared) -> io::Result<()> {
    let Some(request) = read_head(&mut client).await? else {
        return Ok(());
    };
    let fault = shared.claim(&request.method, &request.path);
    shared.record(&request, fault);
    match fault {
        None => {
            let mut server = send_head(&shared.upstream, &request).await?;
            server.write_all(&request.body_start).await?;
            tokio::io::copy_bidirectional(&mut client, &mut server).await?;
        }
        Some(Action::Cut { after }) => {
            let mut server = send_head(&shared.upstream, &request).await?;
            if request.method == "GET" || request.method == "HEAD" {
                server.write_all(&request.body_start).await?;
                let mut answer = (&mut server).take(after as u64);
                tokio::io::copy(&mut answer, &mut client).await?;
            } else {
                let allowed = after.min(request.body_start.len());
                server.write_all(&request.body_start[..allowed]).await?;
                let mut rest = (&mut client).take((after - allowed) as u64);
                tokio::io::copy(&mut rest, &mut server).await?;
            }
            // Dropping both sockets here breaks the exchange mid-way.
        }
        Some(Action::Status(status)) => {
            drain_body(&mut client, &request).await?;
            answer(&mut client, &request, status, "UNKNOWN", "").await?;
        }
        Some(Action::Refuse { status, code }) => {
            drain_body(&mut client, &request).await?;
            answer(&mut client, &request, status, code, "").await?;
        }
        Some(Action::TooManyRequests { retry_after_secs }) => {
            drain_body(&mut client, &request).await?;
            let retry_after = format!("Retry-After: {retry_after_secs}\r\n");
            answer(&mut client, &request, 429, "TOOMANYREQUESTS", &retry_after).await?;
        }
        Some(Action::Trickle { piece }) => {
            let mut server = send_head(&shared.upstream, &request).await?;
            server.write_all(&request.body_start).await?;
            tokio::io::copy(&mut (&mut client).take(request.body_left()), &mut server).await?;
            trickle(&mut server, &mut client, piece.max(1)).await?;
        }
        Some(Action::Stall) => {
            // Take whatever the client sends, answer nothing, end when it leaves.
            tokio::io::copy(&mut client, &mut tokio::io::sink()).await?;
        }
    }
    Ok(())
}

/// Reads a request head; `None` when the client closed before sending one.
async fn read_head(client: &mut TcpStream) -> io::Result<Option<Request>> {
    let mut buffer = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 8192];
        let read = client.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let arrived = Instant::now();
    let text = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (method, path) = (
        parts.next().unwrap_or_default().to_owned(),
        parts.next().unwrap_or_default().to_owned(),
    );
    let mut head = format!("{request_line}\r\n");
    let mut content_length = 0;
    for line in lines.filter(|line| !line.is_empty()) {
        let lower = line.to_ascii_lowercase();
        if lower.starts_with("connection:") {
            continue;
        }
        if let Some(value) = lower.strip_prefix("content-length:") {
            content_length = value.trim().parse().unwrap_or(0);
        }
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("Connection: close\r\n\r\n");
    Ok(Some(Request {
        method,
        path,
        arrived,
        head: head.into_bytes(),
        body_start: buffer[head_end..].to_vec(),
        content_length,
    }))
}

/// Connects to the registry and sends the request's head.
async fn send_head(upstream: &str, request: &Request) -> io::Result<TcpStream> {
    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(&request.head).await?;
    Ok(server)
}

/// Reads the rest of the request body, so an early answer is not lost to a reset.
async fn drain_body(client: &mut TcpStream, request: &Request) -> io::Result<()> {
    tokio::io::copy(
        &mut client.take(request.body_left()),
        &mut tokio::io::sink(),
    )
    .await?;
    Ok(())
}

/// Answers `status` with a spec error body (none for `HEAD`) and `extra_headers`.
async fn answer(
    client: &mut TcpStream,
    request: &Request,
    status: u16,
    code: &str,
    extra_headers: &str,
) -> io::Result<()> {
    let reason = match status {
        400 => "Bad Request",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Injected",
    };
    let body = match request.method.as_str() {
        "HEAD" => String::new(),
        _ => {
            format!(r#"{{"errors":[{{"code":"{code}","message":"injected by the test proxy"}}]}}"#)
        }
    };
    let answer = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{extra_headers}Connection: close\r\n\r\n{body}",
        body.len()
    );
    client.write_all(answer.as_bytes()).await?;
    client.shutdown().await
}

/// Copies the registry's answer to the client `piece` bytes at a time.
async fn trickle(server: &mut TcpStream, client: &mut TcpStream, piece: usize) -> io::Result<()> {
    // Each piece leaves as a segment of its own instead of waiting to be coalesced.
    client.set_nodelay(true)?;
    let mut buffer = vec![0u8; piece];
    loop {
        let read = server.read(&mut buffer).await?;
        if read == 0 {
            return Ok(());
        }
        client.write_all(&buffer[..read]).await?;
        tokio::time::sleep(TRICKLE_PAUSE).await;
    }
}
