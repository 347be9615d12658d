//! The counting pull's client: one HTTP/1.1 `GET` on a connection of its own that reads the
//! answer's head, then lets the kernel throw away exactly `Content-Length` body bytes without
//! copying them anywhere.
//!
//! Why so bare: on two shared cores the client's cost per byte is taken from the server under
//! test. reqwest hands every body chunk over as a new `Bytes` and capped every server near
//! 2 GiB/s; a plain `read` into one reused buffer still copies each byte once from the kernel,
//! CPU the servers then lack (the three came out within 10% of each other with it; without it
//! they spread further, distribution's copying path ahead on this machine's loopback).
//! Linux's `recv(fd, buf, len, MSG_TRUNC)` on a TCP socket (tcp(7)) discards up to `len`
//! received bytes without writing `buf`, so the client's cost is a syscall per batch, not a
//! copy per byte. `Connection: close` lets the end of the stream confirm that nothing follows
//! the body.

use std::io::{Read, Write};
use std::net::TcpStream;

use reqwest::{StatusCode, Url};

use super::cpu::thread_cpu_seconds;
use super::error::BenchError;
use super::placement;

/// The most header bytes accepted before the body.
const MAX_HEAD: usize = 64 * 1024;
/// The most header lines accepted.
const MAX_HEADERS: usize = 64;

/// `GET url`: insists on `200` with a `Content-Length`, discards exactly that many body bytes,
/// checks the stream ends there, and returns the number of body bytes that arrived.
pub async fn count_body(url: &Url) -> Result<u64, BenchError> {
    Ok(count_body_on(url, None).await?.bytes)
}

/// What a counting pull saw.
#[derive(Debug, Clone, Copy)]
pub struct Drained {
    /// Body bytes received.
    pub bytes: u64,
    /// CPU seconds of the receiving thread.
    pub client_cpu: f64,
}

/// [`count_body`], on a thread pinned to `cpu` when given, also measuring that thread's CPU.
pub async fn count_body_on(url: &Url, cpu: Option<usize>) -> Result<Drained, BenchError> {
    let url = url.clone();
    // Blocking calls on a thread of their own: a blocking `recv` sleeps until data comes,
    // with no readiness loop between the socket and the discarding.
    tokio::task::spawn_blocking(move || {
        let measured = || {
            let started = thread_cpu_seconds()?;
            let bytes = count_body_blocking(&url)?;
            Ok(Drained {
                bytes,
                client_cpu: thread_cpu_seconds()? - started,
            })
        };
        match cpu {
            Some(cpu) => placement::on_cpu(cpu, measured)?,
            None => measured(),
        }
    })
    .await?
}

fn count_body_blocking(url: &Url) -> Result<u64, BenchError> {
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
    let mut stream = TcpStream::connect((host, port))?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n",
        path = url.path()
    );
    stream.write_all(request.as_bytes())?;

    let mut head = vec![0u8; MAX_HEAD];
    let mut filled = 0;
    let (head_len, content_length) = loop {
        let read = stream.read(&mut head[filled..])?;
        if read == 0 {
            return Err(bad(
                "the connection closed before the headers ended".to_string()
            ));
        }
        filled += read;
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&head[..filled]) {
            Ok(httparse::Status::Complete(head_len)) => {
                let status = response.code.unwrap_or_default();
                if status != StatusCode::OK.as_u16() {
                    return Err(bad(format!("status {status}, expected 200")));
                }
                let length = content_length(response.headers)
                    .ok_or_else(|| bad("no usable Content-Length".to_string()))?;
                break (head_len, length);
            }
            Ok(httparse::Status::Partial) if filled < MAX_HEAD => {}
            Ok(httparse::Status::Partial) => {
                return Err(bad(format!("headers longer than {MAX_HEAD} bytes")));
            }
            Err(error) => return Err(bad(format!("unparsable headers: {error}"))),
        }
    };

    // Body bytes that came with the head were read already.
    let early = (filled - head_len) as u64;
    let received = early + discard(&stream, content_length.saturating_sub(early))?;
    let mut after = [0u8; 1];
    if received != content_length || stream.read(&mut after)? != 0 {
        return Err(bad(format!(
            "the body does not end after its Content-Length of {content_length} bytes \
             ({received} discarded before the end of the stream or the first byte past it)"
        )));
    }
    Ok(received)
}

/// The value of the one `Content-Length` header, if there is exactly one and it is a number.
fn content_length(headers: &[httparse::Header<'_>]) -> Option<u64> {
    let mut lengths = headers
        .iter()
        .filter(|header| header.name.eq_ignore_ascii_case("content-length"));
    let value = lengths.next()?.value;
    match lengths.next() {
        Some(_) => None,
        None => std::str::from_utf8(value).ok()?.trim().parse().ok(),
    }
}

/// The most bytes one `recv` is asked to discard.
#[cfg(target_os = "linux")]
const DISCARD_BATCH: usize = 64 << 20;

/// Discards up to `count` bytes from `stream` without copying them; returns how many arrived
/// before the stream ended (fewer than `count` only if it ended early).
#[cfg(target_os = "linux")]
fn discard(stream: &TcpStream, count: u64) -> Result<u64, BenchError> {
    use rustix::net::{RecvFlags, recv};
    // Never written: with MSG_TRUNC a TCP socket only needs the length. Zeroed memory this
    // large is mapped lazily, so it costs no page until touched, and it never is.
    let mut unwritten = vec![0u8; DISCARD_BATCH];
    let mut discarded = 0;
    while discarded < count {
        let want = usize::try_from(count - discarded)
            .map_or(DISCARD_BATCH, |left| left.min(DISCARD_BATCH));
        // MSG_WAITALL: one return per batch rather than one per arriving segment.
        let (_, got) = recv(
            stream,
            &mut unwritten[..want],
            RecvFlags::TRUNC | RecvFlags::WAITALL,
        )
        .map_err(std::io::Error::from)?;
        if got == 0 {
            break;
        }
        discarded += got as u64;
    }
    Ok(discarded)
}

/// Elsewhere `MSG_TRUNC` does not discard TCP data: read into a buffer instead.
#[cfg(not(target_os = "linux"))]
fn discard(mut stream: &TcpStream, count: u64) -> Result<u64, BenchError> {
    Ok(std::io::copy(
        &mut stream.take(count),
        &mut std::io::sink(),
    )?)
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;

    /// Serves one connection with `head` and `body_len` bytes after it, on a free port, then
    /// closes it: answers no registry gives (a body longer or shorter than its length).
    fn answer_once(head: String, body_len: usize) -> Url {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (mut connection, _) = listener.accept().unwrap();
            let mut request = Vec::new();
            let mut byte = [0u8; 1];
            while !request.ends_with(b"\r\n\r\n") && connection.read(&mut byte).unwrap() == 1 {
                request.push(byte[0]);
            }
            connection.write_all(head.as_bytes()).unwrap();
            // The client may hang up early on a bad answer; that is not this server's failure.
            let _ = connection.write_all(&vec![7u8; body_len]);
        });
        Url::parse(&format!("http://127.0.0.1:{port}/v2/r/blobs/x")).unwrap()
    }

    fn ok_head(length: usize) -> String {
        format!("HTTP/1.1 200 OK\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n")
    }

    const LEN: usize = 3 * 1024 * 1024 + 5;

    #[tokio::test]
    async fn a_body_of_its_content_length_is_counted() {
        let url = answer_once(ok_head(LEN), LEN);
        assert_eq!(count_body(&url).await.unwrap(), LEN as u64);
    }

    #[tokio::test]
    async fn bodies_longer_or_shorter_than_their_length_and_other_statuses_are_errors() {
        for (head, body_len) in [
            (ok_head(LEN), LEN + 1),
            (ok_head(LEN), LEN - 1),
            (
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_string(),
                0,
            ),
            (
                "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_string(),
                10,
            ),
        ] {
            let url = answer_once(head.clone(), body_len);
            let error = count_body(&url).await.unwrap_err();
            assert!(
                matches!(error, BenchError::BadAnswer { .. }),
                "{head:?} with {body_len} body bytes: {error}"
            );
        }
    }

    fn header<'a>(name: &'a str, value: &'a [u8]) -> httparse::Header<'a> {
        httparse::Header { name, value }
    }

    proptest::proptest! {
        /// Any length, with any blanks around it, is read back; a number followed by anything
        /// but digits and blanks is no length.
        #[test]
        fn any_length_is_read_and_anything_else_refused(
            length: u64,
            before in "[ \t]{0,3}",
            after in "[ \t]{0,3}",
            junk in "[^0-9\\s]{1,4}",
        ) {
            let exact = format!("{before}{length}{after}");
            proptest::prop_assert_eq!(
                content_length(&[header("Content-Length", exact.as_bytes())]),
                Some(length)
            );
            let spoilt = format!("{before}{length}{junk}{after}");
            proptest::prop_assert_eq!(
                content_length(&[header("content-length", spoilt.as_bytes())]),
                None
            );
        }
    }

    #[test]
    fn content_length_is_one_number() {
        assert_eq!(
            content_length(&[header("Content-Length", b" 42")]),
            Some(42)
        );
        assert_eq!(content_length(&[header("content-type", b"x")]), None);
        assert_eq!(content_length(&[header("content-length", b"4x")]), None);
        assert_eq!(
            content_length(&[
                header("content-length", b"1"),
                header("Content-Length", b"1")
            ]),
            None,
            "two lengths are ambiguous"
        );
    }
}
