//! Plain HTTP/1.1 on a raw TCP connection, as much as the relay needs: a request head
//! written by hand and a response head read with `httparse`, leaving the body on the socket
//! for `splice`.

use std::io;

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use url::{Position, Url};

/// The longest response head read; registries send a few hundred bytes.
const MAX_HEAD: usize = 64 * 1024;
/// Response headers parsed at most.
const MAX_HEADERS: usize = 64;

/// A response head, and the bytes read past it (the start of the body).
#[derive(Debug)]
pub(super) struct Head {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body_start: Bytes,
}

impl Head {
    /// The `Content-Length`, when present and a number.
    pub(super) fn content_length(&self) -> Option<u64> {
        let value = self.headers.get(http::header::CONTENT_LENGTH)?;
        value.to_str().ok()?.trim().parse().ok()
    }

    /// Whether the body comes in a transfer coding (chunked) rather than as plain bytes.
    pub(super) fn is_transfer_coded(&self) -> bool {
        self.headers.contains_key(http::header::TRANSFER_ENCODING)
    }
}

/// A TCP connection to the host and port of `url` (no delay: heads go out at once).
pub(super) async fn connect(url: &Url) -> io::Result<TcpStream> {
    let host = url
        .host_str()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "a URL without a host"))?;
    let port = url
        .port_or_known_default()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "a URL without a port"))?;
    // An IPv6 literal keeps its brackets in `host_str`; the resolver wants it bare.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let stream = TcpStream::connect((host, port)).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Writes `METHOD path?query HTTP/1.1`, `Host` and `headers`, asking the server to close
/// the connection after its answer (the relay uses a connection for one exchange).
pub(super) async fn send_head(
    stream: &mut TcpStream,
    method: &Method,
    url: &Url,
    headers: &HeaderMap,
) -> io::Result<()> {
    let mut head = Vec::with_capacity(512);
    let target = &url[Position::BeforePath..Position::AfterQuery];
    let authority = &url[Position::BeforeHost..Position::AfterPort];
    head.extend_from_slice(format!("{method} {target} HTTP/1.1\r\n").as_bytes());
    head.extend_from_slice(format!("host: {authority}\r\nconnection: close\r\n").as_bytes());
    for (name, value) in headers {
        head.extend_from_slice(name.as_str().as_bytes());
        head.extend_from_slice(b": ");
        head.extend_from_slice(value.as_bytes());
        head.extend_from_slice(b"\r\n");
    }
    head.extend_from_slice(b"\r\n");
    stream.write_all(&head).await
}

/// Reads a response head; the bytes read past it come back as [`Head::body_start`].
pub(super) async fn read_head(stream: &mut TcpStream) -> io::Result<Head> {
    let mut buffer = BytesMut::with_capacity(4096);
    loop {
        if stream.read_buf(&mut buffer).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the connection closed before a complete answer head",
            ));
        }
        if let Some((length, status, headers)) = parse_head(&buffer)? {
            let body_start = buffer.split_off(length).freeze();
            return Ok(Head {
                status,
                headers,
                body_start,
            });
        }
        if buffer.len() > MAX_HEAD {
            return Err(invalid("an answer head longer than 64 KiB"));
        }
    }
}

/// The head at the start of `bytes`: its length, status and headers, or `None` while it is
/// incomplete.
fn parse_head(bytes: &[u8]) -> io::Result<Option<(usize, StatusCode, HeaderMap)>> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut slots);
    let length = match response.parse(bytes) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(error) => return Err(invalid(&format!("an unreadable answer head: {error}"))),
    };
    let status = response
        .code
        .and_then(|code| StatusCode::from_u16(code).ok())
        .ok_or_else(|| invalid("an answer without a valid status"))?;
    let mut headers = HeaderMap::new();
    for header in response.headers.iter() {
        let name = HeaderName::from_bytes(header.name.as_bytes())
            .map_err(|_| invalid("an invalid header name"))?;
        let value = HeaderValue::from_bytes(header.value)
            .map_err(|_| invalid("an invalid header value"))?;
        headers.append(name, value);
    }
    Ok(Some((length, status, headers)))
}

/// Reads what is left of a body of `length` bytes (capped at `limit`) after `start`.
pub(super) async fn read_body(
    stream: &mut TcpStream,
    start: Bytes,
    length: u64,
    limit: u64,
) -> io::Result<Bytes> {
    let wanted = usize::try_from(length.min(limit)).unwrap_or(usize::MAX);
    let mut body = BytesMut::from(start.as_ref());
    while body.len() < wanted {
        if stream.read_buf(&mut body).await? == 0 {
            break;
        }
    }
    body.truncate(wanted);
    Ok(body.freeze())
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_parse_once_complete_and_keep_what_follows() {
        let text = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello";
        assert!(parse_head(&text[..20]).unwrap().is_none());
        let (length, status, headers) = parse_head(text).unwrap().unwrap();
        assert_eq!(status, StatusCode::OK);
        assert_eq!(&text[length..], b"hello");
        assert_eq!(headers["x-a"], "b");
    }

    proptest::proptest! {
        /// A head is incomplete (`None`) at every cut before its end, and once whole it is
        /// read back with what follows it left alone.
        #[test]
        fn a_head_is_read_whole_or_not_at_all(
            status in 100u16..600,
            values in proptest::collection::vec("[ -~]{0,40}", 0..8),
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..64),
            cut in proptest::num::usize::ANY,
        ) {
            let mut text = format!("HTTP/1.1 {status} X\r\n");
            for (index, value) in values.iter().enumerate() {
                text.push_str(&format!("x-{index}: {}\r\n", value.trim()));
            }
            text.push_str("\r\n");
            let head_length = text.len();
            let mut bytes = text.into_bytes();
            bytes.extend_from_slice(&body);
            proptest::prop_assert!(parse_head(&bytes[..cut % head_length]).unwrap().is_none());
            let (length, parsed, headers) = parse_head(&bytes).unwrap().unwrap();
            proptest::prop_assert_eq!(length, head_length);
            proptest::prop_assert_eq!(parsed.as_u16(), status);
            proptest::prop_assert_eq!(headers.len(), values.len());
        }

        /// Any bytes give a head, an incomplete one or a typed error: never a panic.
        #[test]
        fn any_bytes_are_read_without_a_panic(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..256),
        ) {
            let _ = parse_head(&bytes);
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(parse_head(b"\x16\x03\x01\x00garbage\r\n\r\n").is_err());
        assert!(parse_head(b"HTTP/1.1 999999 No\r\n\r\n").is_err());
    }
}
