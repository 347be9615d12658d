//! Requests written byte for byte on a socket, for what an HTTP client would normalise or
//! refuse (`..` in a path, a NUL, a body cut short).

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::TestRegistry;

/// An answer read off a raw socket.
#[derive(Debug)]
pub struct RawAnswer {
    /// The status, or 0 when the server closed the connection without answering.
    pub status: u16,
    /// Everything the server sent, as text.
    pub text: String,
}

impl RawAnswer {
    /// The spec error code of the body, when the body is an error document.
    pub fn code(&self) -> Option<String> {
        code_of(self.text.split_once("\r\n\r\n")?.1)
    }
}

/// The first spec error code of an error document, when `body` is one.
pub fn code_of(body: &str) -> Option<String> {
    let document: Value = serde_json::from_str(body).ok()?;
    document["errors"][0]["code"].as_str().map(str::to_owned)
}

impl TestRegistry {
    /// Sends `method path` with no body exactly as written.
    pub async fn raw(&self, method: &str, path: &str) -> RawAnswer {
        let head = self.raw_head(method, path, &[("content-length", "0".to_owned())]);
        self.raw_send(&head, false).await
    }

    /// A request head (request line, `Host`, `headers`, `Connection: close`, blank line).
    pub fn raw_head(&self, method: &str, target: &str, headers: &[(&str, String)]) -> Vec<u8> {
        let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {}\r\n", self.host());
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("Connection: close\r\n\r\n");
        head.into_bytes()
    }

    /// Writes `request` byte for byte on a new connection and reads until the server closes
    /// it. With `cut_short` the writing half is shut down after the bytes, as a client that
    /// dies in the middle of a body does. The server may stop reading and close early, so a
    /// failed write is not an error here: what it answered is.
    pub async fn raw_send(&self, request: &[u8], cut_short: bool) -> RawAnswer {
        let mut stream = TcpStream::connect(self.host()).await.unwrap();
        if stream.write_all(request).await.is_ok() && cut_short {
            let _ = stream.shutdown().await;
        }
        let mut received = Vec::new();
        // A safety net against a server that never closes, not a timing assertion.
        let read = tokio::time::timeout(Duration::from_secs(30), async {
            let mut buffer = [0u8; 8192];
            // A reset after the answer (unread request bytes) ends the answer too.
            while let Ok(n @ 1..) = stream.read(&mut buffer).await {
                received.extend_from_slice(&buffer[..n]);
            }
        })
        .await;
        assert!(read.is_ok(), "the server never closed the connection");
        let text = String::from_utf8_lossy(&received).into_owned();
        let status = text
            .strip_prefix("HTTP/1.1 ")
            .and_then(|rest| rest.get(..3))
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        RawAnswer { status, text }
    }
}
