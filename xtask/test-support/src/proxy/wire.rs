//! HTTP/1.1 as the proxy reads and writes it: message heads read off a socket, a request
//! head rewritten for the registry, and the answers the proxy makes up itself.

use std::io;
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// A message head and the body bytes read along with it.
pub struct Head {
    /// The head, up to and with its blank line.
    pub head: Vec<u8>,
    /// Body bytes that came in the same reads.
    pub body_start: Vec<u8>,
}

/// Reads a message head; `None` when the peer closed before sending a whole one.
pub async fn read_head(stream: &mut (impl AsyncRead + Unpin)) -> io::Result<Option<Head>> {
    let mut buffer = Vec::new();
    loop {
        let mut chunk = [0u8; 8192];
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let body_start = buffer.split_off(end + 4);
            return Ok(Some(Head {
                head: buffer,
                body_start,
            }));
        }
    }
}

/// A request head as read from the client, rewritten for the registry.
pub struct Request {
    pub method: String,
    /// The target in origin form (`/path?query`).
    pub path: String,
    /// Its headers, names in lower case.
    pub headers: Vec<(String, String)>,
    pub arrived: Instant,
    /// The head to send upstream: origin form, with `Connection: close`.
    pub head: Vec<u8>,
    /// Body bytes read along with the head.
    pub body_start: Vec<u8>,
    /// `Content-Length` (0 without one: the client sends one with every body faulted here).
    pub content_length: u64,
}

impl Request {
    /// Body bytes still to read from the client.
    pub fn body_left(&self) -> u64 {
        self.content_length
            .saturating_sub(self.body_start.len() as u64)
    }

    /// Whether the fault's byte counts apply to the answer (they apply to the request's
    /// body otherwise).
    pub fn is_read(&self) -> bool {
        self.method == "GET" || self.method == "HEAD"
    }
}

/// Reads a request head; `None` when the client closed before sending one.
pub async fn read_request(client: &mut TcpStream) -> io::Result<Option<Request>> {
    let Some(Head { head, body_start }) = read_head(client).await? else {
        return Ok(None);
    };
    let arrived = Instant::now();
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let mut parts = lines.next().unwrap_or_default().split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let path = origin_form(parts.next().unwrap_or_default()).to_owned();
    let version = parts.next().unwrap_or("HTTP/1.1");
    let mut upstream_head = format!("{method} {path} {version}\r\n");
    let mut headers = Vec::new();
    for line in lines.filter(|line| !line.is_empty()) {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let name = name.trim().to_ascii_lowercase();
        headers.push((name.clone(), value.trim().to_owned()));
        // Hop-by-hop, seen but not forwarded: the proxy closes each upstream connection after
        // one request.
        if name == "connection" || name == "proxy-connection" {
            continue;
        }
        upstream_head.push_str(line);
        upstream_head.push_str("\r\n");
    }
    upstream_head.push_str("Connection: close\r\n\r\n");
    let content_length = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0);
    Ok(Some(Request {
        method,
        path,
        headers,
        arrived,
        head: upstream_head.into_bytes(),
        body_start,
        content_length,
    }))
}

/// `target` without the scheme and authority a client sends to an explicit proxy.
fn origin_form(target: &str) -> &str {
    match target.strip_prefix("http://") {
        Some(rest) => rest.find('/').map_or("/", |slash| &rest[slash..]),
        None => target,
    }
}

/// Reads the rest of the request body, so an early answer is not lost to a reset.
pub async fn drain_body(client: &mut TcpStream, request: &Request) -> io::Result<()> {
    tokio::io::copy(
        &mut client.take(request.body_left()),
        &mut tokio::io::sink(),
    )
    .await?;
    Ok(())
}

/// Answers `status` with a spec error body of `code` (none for `HEAD`), with `Retry-After`
/// when given, and closes the writing side.
pub async fn refuse(
    client: &mut (impl AsyncWrite + Unpin),
    request: &Request,
    status: u16,
    code: &str,
    retry_after: Option<&str>,
) -> io::Result<()> {
    let reason = match status {
        400 => "Bad Request",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Injected",
    };
    let body = match request.method.as_str() {
        "HEAD" => String::new(),
        _ => {
            format!(r#"{{"errors":[{{"code":"{code}","message":"injected by the test proxy"}}]}}"#)
        }
    };
    let retry_after = retry_after
        .map(|value| format!("Retry-After: {value}\r\n"))
        .unwrap_or_default();
    let answer = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{retry_after}Connection: close\r\n\r\n{body}",
        body.len()
    );
    client.write_all(answer.as_bytes()).await?;
    client.shutdown().await
}

/// The status of an answer whose head starts `head`, 0 when it has none.
pub fn status_of(head: &[u8]) -> u16 {
    head.get(9..12)
        .and_then(|code| std::str::from_utf8(code).ok())
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}
