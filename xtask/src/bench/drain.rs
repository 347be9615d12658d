//! The counting pull's client: one HTTP/1.1 `GET` on a connection of its own, whose body is read
//! into one reused buffer and counted, never kept or hashed.
//!
//! reqwest hands every body chunk over as a new `Bytes`; at blob-pull rates that costs the client
//! more than the servers spend sending, so with it the client set the pace (here it drained
//! oci-registry at about 2 GiB/s where curl reached 2.5 to 3.8). Reading the socket straight into
//! a buffer, as curl does, leaves the servers' own costs to decide the result. `Connection: close` makes the body run to the end of
//! the stream, so no framing has to be parsed.

use reqwest::{StatusCode, Url};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::error::BenchError;

/// The read buffer, reused for every read.
const BUFFER: usize = 1 << 20;
/// The most header bytes accepted before the body.
const MAX_HEAD: usize = 64 * 1024;
/// The most header lines accepted.
const MAX_HEADERS: usize = 64;

/// `GET url`: insists on `200` and returns how many body bytes arrived.
pub async fn count_body(url: &Url) -> Result<u64, BenchError> {
    let bad = |reason: String| BenchError::BadAnswer {
        url: url.to_string(),
        reason,
    };
    let host = url
        .host_str()
        .ok_or_else(|| bad("the URL has no host".to_string()))?;
    let port = url
        .port_or_known_default()
        .ok_or_else(|| bad("the URL has no port".to_string()))?;
    let mut stream = TcpStream::connect((host, port)).await?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n",
        path = url.path()
    );
    stream.write_all(request.as_bytes()).await?;

    let mut buffer = vec![0u8; BUFFER];
    let mut filled = 0;
    let head_len = loop {
        let read = stream.read(&mut buffer[filled..MAX_HEAD]).await?;
        if read == 0 {
            return Err(bad(
                "the connection closed before the headers ended".to_string()
            ));
        }
        filled += read;
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&buffer[..filled]) {
            Ok(httparse::Status::Complete(head_len)) => {
                let status = response.code.unwrap_or_default();
                if status != StatusCode::OK.as_u16() {
                    return Err(bad(format!("status {status}, expected 200")));
                }
                break head_len;
            }
            Ok(httparse::Status::Partial) if filled < MAX_HEAD => {}
            Ok(httparse::Status::Partial) => {
                return Err(bad(format!("headers longer than {MAX_HEAD} bytes")));
            }
            Err(error) => return Err(bad(format!("unparsable headers: {error}"))),
        }
    };

    let mut received = (filled - head_len) as u64;
    loop {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            return Ok(received);
        }
        received += read as u64;
    }
}
