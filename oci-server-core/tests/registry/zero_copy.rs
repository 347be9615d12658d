//! Blob answers sent zero-copy on plain HTTP/1.1 (`sendfile` from the filesystem store): the
//! bytes are the blob's, whole or ranged, in order on a connection that carries several
//! answers, and HTTP/2 on the same port still gets them by the ordinary path.

use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use reqwest::StatusCode;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::common::{TestRegistry, header};

/// A safety net against a server that stops answering, not a timing assertion.
const SAFETY_NET: Duration = Duration::from_secs(60);

/// `len` bytes with no short period, so a chunk sent from the wrong offset shows.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// Three and a half MiB: more than one stand-in chunk (1 MiB) and not a multiple of one.
const LEN: usize = 3 * 1024 * 1024 + 512 * 1024 + 3;

#[tokio::test]
async fn whole_and_ranged_blobs_arrive_byte_for_byte() {
    let server = TestRegistry::start().await;
    let data = noise(LEN, 1);
    let digest = server.push_blob("zc/app", &data).await;
    let url = server.url(&format!("/v2/zc/app/blobs/{digest}"));

    let whole = server.http.get(&url).send().await.unwrap();
    assert_eq!(whole.status(), StatusCode::OK);
    assert_eq!(whole.version(), reqwest::Version::HTTP_11);
    assert_eq!(header(&whole, "content-length"), LEN.to_string());
    assert!(whole.bytes().await.unwrap() == data, "whole blob differs");

    let (start, end) = (1024 * 1024 - 5, 3 * 1024 * 1024 + 9);
    let part = server
        .http
        .get(&url)
        .header("range", format!("bytes={start}-{end}"))
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert!(
        part.bytes().await.unwrap() == data[start..=end],
        "ranged blob differs"
    );
}

#[tokio::test]
async fn pipelined_answers_on_one_connection_keep_their_order() {
    let server = TestRegistry::start().await;
    let first = noise(LEN, 2);
    let second = noise(LEN / 3, 3);
    let one = server.push_blob("zc/pipe", &first).await;
    let two = server.push_blob("zc/pipe", &second).await;

    // Three requests in one write: GET, HEAD (whose body is never sent), GET, then close.
    let host = server.base.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&host).await.unwrap();
    let request = |method: &str, digest: &oci_digest::Digest, last: bool| {
        format!(
            "{method} /v2/zc/pipe/blobs/{digest} HTTP/1.1\r\nHost: {host}\r\n{}\r\n",
            if last { "Connection: close\r\n" } else { "" }
        )
    };
    let requests =
        request("GET", &one, false) + &request("HEAD", &two, false) + &request("GET", &two, true);
    stream.write_all(requests.as_bytes()).await.unwrap();
    let mut received = Vec::new();
    tokio::time::timeout(SAFETY_NET, stream.read_to_end(&mut received))
        .await
        .unwrap()
        .unwrap();

    let mut rest = &received[..];
    for (expected, has_body) in [(&first, true), (&second, false), (&second, true)] {
        let head_end = rest
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("a complete answer head")
            + 4;
        let head = String::from_utf8_lossy(&rest[..head_end]).to_lowercase();
        assert!(head.starts_with("http/1.1 200"), "{head}");
        assert!(
            head.contains(&format!("content-length: {}\r\n", expected.len())),
            "{head}"
        );
        rest = &rest[head_end..];
        if has_body {
            assert!(rest.len() >= expected.len(), "answer cut short");
            assert!(rest[..expected.len()] == expected[..], "body differs");
            rest = &rest[expected.len()..];
        }
    }
    assert!(rest.is_empty(), "{} bytes too many", rest.len());
}

#[tokio::test]
async fn http2_on_the_plain_port_gets_the_same_bytes() {
    let server = TestRegistry::start().await;
    let data = noise(LEN, 4);
    let digest = server.push_blob("zc/h2", &data).await;

    let host = server.base.trim_start_matches("http://");
    let tcp = TcpStream::connect(host).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(connection);
    let request = http::Request::get(format!("{}/v2/zc/h2/blobs/{digest}", server.base))
        .body(Empty::<bytes::Bytes>::new())
        .unwrap();
    let answer = sender.send_request(request).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.version(), http::Version::HTTP_2);
    let body = tokio::time::timeout(SAFETY_NET, answer.into_body().collect())
        .await
        .unwrap()
        .unwrap()
        .to_bytes();
    assert!(body == data, "HTTP/2 blob differs");
}

/// Reads one answer from `stream`: its head (lower-cased) and the `Content-Length` bytes after
/// it, unless `has_body` is false (a `HEAD`).
async fn read_answer(stream: &mut TcpStream, has_body: bool) -> (String, Vec<u8>) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length: "))
        .expect("a Content-Length")
        .trim()
        .parse()
        .unwrap();
    let mut body = vec![0u8; if has_body { length } else { 0 }];
    stream.read_exact(&mut body).await.unwrap();
    (head, body)
}

#[tokio::test]
async fn a_keep_alive_connection_answers_again_after_a_zero_copy_body() {
    let server = TestRegistry::start().await;
    let data = noise(LEN, 5);
    let digest = server.push_blob("zc/again", &data).await;
    let host = server.base.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&host).await.unwrap();
    let path = format!("/v2/zc/again/blobs/{digest}");
    let (start, end) = (7, 2 * 1024 * 1024 + 11);

    // Each request is sent only once the previous answer has arrived whole.
    for (method, range, has_body) in [
        ("GET", None, true),
        ("GET", Some((start, end)), true),
        ("HEAD", None, false),
        ("GET", None, true),
    ] {
        let range = range.map_or(String::new(), |(s, e)| format!("Range: bytes={s}-{e}\r\n"));
        let request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\n{range}\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let (head, body) = tokio::time::timeout(SAFETY_NET, read_answer(&mut stream, has_body))
            .await
            .unwrap();
        match (method, range.is_empty()) {
            ("GET", true) => assert!(body == data, "{head}"),
            ("GET", false) => assert!(body == data[start..=end], "{head}"),
            _ => assert!(
                head.contains(&format!("content-length: {LEN}\r\n")),
                "{head}"
            ),
        }
    }
}

#[tokio::test]
async fn a_client_that_stops_reading_holds_up_no_other() {
    let server = TestRegistry::start().await;
    // Far more than a socket's send and receive buffers hold before the reader reads.
    let data = noise(48 * 1024 * 1024, 6);
    let digest = server.push_blob("zc/stall", &data).await;
    let host = server.base.trim_start_matches("http://").to_string();
    let url = server.url(&format!("/v2/zc/stall/blobs/{digest}"));

    let mut stalled = TcpStream::connect(&host).await.unwrap();
    let request = format!("GET /v2/zc/stall/blobs/{digest} HTTP/1.1\r\nHost: {host}\r\n\r\n");
    stalled.write_all(request.as_bytes()).await.unwrap();
    let mut first = [0u8; 12];
    stalled.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");

    // The stalled answer's sender waits on its own socket; this one is served meanwhile.
    let whole = tokio::time::timeout(SAFETY_NET, async {
        server
            .http
            .get(&url)
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
    })
    .await
    .unwrap();
    assert!(whole == data, "the other client's blob differs");
    drop(stalled);
    let again = server.http.head(&url).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
}
