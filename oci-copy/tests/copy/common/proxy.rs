//! A tiny HTTP/1.1 proxy in front of a registry: it records every request line, and can
//! break chosen requests after some bytes (a dropped connection, for resume tests). Each
//! request is forced onto its own connection (`Connection: close`), so request lines are
//! easy to find.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Which requests to break, and where.
#[derive(Debug, Clone)]
pub struct Fault {
    /// Request method, e.g. `GET`.
    pub method: &'static str,
    /// A text the path must contain, e.g. `/blobs/sha256:`.
    pub path_contains: String,
    /// Bytes let through before the connection is dropped: of the answer for `GET`, of
    /// the request body otherwise.
    pub cut_after: usize,
    /// How many matching requests to break.
    pub times: usize,
}

/// A running proxy; stops when dropped.
pub struct Proxy {
    host: String,
    requests: Arc<Mutex<Vec<String>>>,
    cuts: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream` (`host:port`).
    pub async fn start(upstream: &str, fault: Option<Fault>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let cuts = Arc::new(AtomicUsize::new(0));
        let shared = (
            upstream.to_owned(),
            requests.clone(),
            cuts.clone(),
            fault.map(|f| (f.clone(), Arc::new(AtomicUsize::new(f.times)))),
        );
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (upstream, requests, cuts, fault) = shared.clone();
                tokio::spawn(async move {
                    let _ = serve(client, &upstream, &requests, &cuts, fault).await;
                });
            }
        });
        Proxy {
            host,
            requests,
            cuts,
            task,
        }
    }

    /// `127.0.0.1:<port>`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Every request line seen, as `METHOD /path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    /// How many connections were broken on purpose.
    pub fn cuts(&self) -> usize {
        self.cuts.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(
    mut client: TcpStream,
    upstream: &str,
    requests: &Mutex<Vec<String>>,
    cuts: &AtomicUsize,
    fault: Option<(Fault, Arc<AtomicUsize>)>,
) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    let head_end = loop {
        let mut chunk = [0u8; 8192];
        let read = client.read(&mut chunk).await?;
        if read == 0 {
            return Ok(());
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default().to_owned();
    let mut parts = request_line.split(' ');
    let (method, path) = (
        parts.next().unwrap_or_default().to_owned(),
        parts.next().unwrap_or_default().to_owned(),
    );
    requests.lock().unwrap().push(format!("{method} {path}"));
    let mut rewritten = format!("{request_line}\r\n");
    for line in lines
        .filter(|line| !line.is_empty() && !line.to_ascii_lowercase().starts_with("connection:"))
    {
        rewritten.push_str(line);
        rewritten.push_str("\r\n");
    }
    rewritten.push_str("Connection: close\r\n\r\n");
    let body_start = buffer[head_end..].to_vec();

    let mut server = TcpStream::connect(upstream).await?;
    server.write_all(rewritten.as_bytes()).await?;

    let cut = fault.filter(|(fault, left)| {
        fault.method == method
            && path.contains(&fault.path_contains)
            && left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
    });
    let Some((fault, _)) = cut else {
        server.write_all(&body_start).await?;
        tokio::io::copy_bidirectional(&mut client, &mut server).await?;
        return Ok(());
    };
    cuts.fetch_add(1, Ordering::SeqCst);
    if method == "GET" || method == "HEAD" {
        server.write_all(&body_start).await?;
        let mut answer = (&mut server).take(fault.cut_after as u64);
        tokio::io::copy(&mut answer, &mut client).await?;
    } else {
        let allowed = fault.cut_after.min(body_start.len());
        server.write_all(&body_start[..allowed]).await?;
        let mut rest = (&mut client).take((fault.cut_after - allowed) as u64);
        tokio::io::copy(&mut rest, &mut server).await?;
    }
    // Dropping both sockets here breaks the exchange mid-way.
    Ok(())
}
