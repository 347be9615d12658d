//! Clients that hold connections without asking for anything: thousands of idle sockets,
//! half a request line, a request body that stops, more connections than the cap. None of them
//! keeps another client out, and the server closes what it times out; the probe listener
//! holds to the same limits.

use std::{process::Command, sync::Arc, time::Duration};

use http_body_util::Empty;
use hyper_util::rt::{TokioExecutor, TokioIo};
use oci_digest::Digest;
use oci_server_core::{MemoryStorage, Registry, RegistryConfig, ServeOptions, serve_probes_with};
use reqwest::StatusCode;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::{
    common::{TestRegistry, content, header},
    process,
};

/// A safety net against a server that never closes or answers, not a timing assertion.
const SAFETY_NET: Duration = Duration::from_secs(60);

/// Reads until the server closes `stream`, and returns what it sent.
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(SAFETY_NET, async {
        let mut buffer = [0u8; 4096];
        // A reset ends the connection as surely as an orderly close.
        while let Ok(n @ 1..) = stream.read(&mut buffer).await {
            received.extend_from_slice(&buffer[..n]);
        }
    })
    .await;
    assert!(read.is_ok(), "the server never closed the connection");
    received
}

fn host(server: &TestRegistry) -> &str {
    server.base.trim_start_matches("http://")
}

#[tokio::test]
async fn two_thousand_idle_connections_do_not_keep_a_new_client_out() {
    // This process holds the 2,000 client ends.
    let limit = oci_server_core::server::raise_open_file_limit().unwrap();
    if limit < 4_500 {
        eprintln!("skipped: the hard open-file limit here is {limit}, too low for 2,000 sockets");
        return;
    }
    let work = tempfile::tempdir().unwrap();
    // The server starts with the usual soft limit of 1,024 and has to raise it itself.
    let mut launcher = Command::new("sh");
    launcher.args(["-c", r#"ulimit -Sn 1024 && exec "$0" "$@""#]);
    let registry = process::start_through(
        launcher,
        &work.path().join("store"),
        &["--header-read-timeout", "1h", "--idle-timeout", "1h"],
    );
    let mut idle = Vec::with_capacity(2_000);
    for i in 0..2_000 {
        let mut stream = TcpStream::connect(registry.host()).await.unwrap();
        if i % 2 == 1 {
            stream.write_all(b"GET /v2/ HT").await.unwrap();
        }
        idle.push(stream);
    }

    let client = reqwest::Client::builder()
        .timeout(SAFETY_NET)
        .build()
        .unwrap();
    let answer = client
        .get(format!("{}/v2/", registry.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    // Connections are accepted in the order they came, so the server took the new client after
    // all 2,000, and holds them all: more descriptors than the soft limit it started with.
    let open = std::fs::read_dir(format!("/proc/{}/fd", registry.pid()))
        .unwrap()
        .count();
    assert!(open > 2_000, "the server holds {open} descriptors");
    drop(idle);
}

#[tokio::test]
async fn connections_that_send_no_request_head_in_time_are_closed() {
    let options = ServeOptions::default()
        .with_header_read_timeout(Duration::from_secs(1))
        .unwrap();
    let server = TestRegistry::with_serve_options(options).await;
    let mut silent = TcpStream::connect(host(&server)).await.unwrap();
    let mut half_line = TcpStream::connect(host(&server)).await.unwrap();
    half_line.write_all(b"GET /v2/ HT").await.unwrap();
    let mut preface_only = TcpStream::connect(host(&server)).await.unwrap();
    preface_only
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .unwrap();

    assert_eq!(read_until_closed(&mut silent).await, b"");
    let answered = read_until_closed(&mut half_line).await;
    assert!(
        !answered.starts_with(b"HTTP/1.1 2"),
        "half a request line is never served"
    );
    read_until_closed(&mut preface_only).await;
    assert_eq!(server.get("/v2/").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_probe_listener_answers_only_probes_under_the_same_timeouts() {
    let options = ServeOptions::default()
        .with_header_read_timeout(Duration::from_secs(1))
        .unwrap();
    let registry = Registry::new(
        Arc::new(MemoryStorage::new()),
        RegistryConfig::default().with_probes(false),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = tokio::spawn(serve_probes_with(
        listener,
        registry,
        options,
        std::future::pending(),
    ));
    let http = reqwest::Client::new();
    let health = http.get(format!("http://{addr}/healthz")).send().await;
    assert_eq!(health.unwrap().status(), StatusCode::OK);
    let api = http.get(format!("http://{addr}/v2/")).send().await;
    assert_eq!(api.unwrap().status(), StatusCode::NOT_FOUND);

    let mut silent = TcpStream::connect(addr).await.unwrap();
    assert_eq!(read_until_closed(&mut silent).await, b"");
    serving.abort();
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed_after_their_last_answer() {
    // The header-read timer would close an HTTP/1.1 connection too; keep it out of the way.
    let options = ServeOptions::default()
        .with_header_read_timeout(Duration::from_secs(3600))
        .and_then(|options| options.with_idle_timeout(Duration::from_secs(1)))
        .unwrap();
    let server = TestRegistry::with_serve_options(options).await;

    let mut http1 = TcpStream::connect(host(&server)).await.unwrap();
    http1
        .write_all(b"GET /v2/ HTTP/1.1\r\nHost: registry\r\n\r\n")
        .await
        .unwrap();
    let answered = read_until_closed(&mut http1).await;
    assert!(answered.starts_with(b"HTTP/1.1 200"), "{answered:?}");

    let http2 = TcpStream::connect(host(&server)).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(http2))
            .await
            .unwrap();
    let connection = tokio::spawn(connection);
    let request = http::Request::get(format!("{}/v2/", server.base))
        .body(Empty::<bytes::Bytes>::new())
        .unwrap();
    let answer = sender.send_request(request).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    drop(answer);
    let ended = tokio::time::timeout(SAFETY_NET, connection).await;
    assert!(
        matches!(ended, Ok(Ok(Ok(())))),
        "the server closes an idle HTTP/2 connection cleanly: {ended:?}"
    );
}

#[tokio::test]
async fn a_download_that_pauses_longer_than_the_idle_timeout_keeps_its_connection() {
    let options = ServeOptions::default()
        .with_header_read_timeout(Duration::from_secs(3600))
        .and_then(|options| options.with_idle_timeout(Duration::from_secs(1)))
        .unwrap();
    let server = TestRegistry::with_serve_options(options).await;
    // Larger than what the loopback socket buffers hold, so the server is still sending
    // while the client pauses.
    let blob = content(48 << 20, 7);
    let digest = server.push_blob("paused", &blob).await;

    let mut stream = TcpStream::connect(host(&server)).await.unwrap();
    let request = format!("GET /v2/paused/blobs/{digest} HTTP/1.1\r\nHost: registry\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut received = vec![0u8; 4096];
    let n = stream.read(&mut received).await.unwrap();
    received.truncate(n);
    assert!(received.starts_with(b"HTTP/1.1 200"));
    // The scenario, not a synchronisation: the answer is in flight for three idle timeouts.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let head_len = received
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .unwrap()
        + 4;
    let mut buffer = vec![0u8; 1 << 16];
    while received.len() < head_len + blob.len() {
        let n = tokio::time::timeout(SAFETY_NET, stream.read(&mut buffer))
            .await
            .unwrap()
            .unwrap();
        assert_ne!(n, 0, "closed after {} bytes", received.len());
        received.extend_from_slice(&buffer[..n]);
    }
    assert!(received[head_len..] == blob[..], "the whole blob arrived");

    // A connection busy with an answer was never idle: it still takes the next request.
    stream
        .write_all(b"GET /v2/ HTTP/1.1\r\nHost: registry\r\n\r\n")
        .await
        .unwrap();
    let next = read_until_closed(&mut stream).await;
    assert!(next.starts_with(b"HTTP/1.1 200"), "{next:?}");
}

#[tokio::test]
async fn a_silent_request_body_is_dropped_and_the_upload_resumes_from_its_saved_offset() {
    let options = ServeOptions::default()
        .with_body_timeout(Duration::from_secs(1))
        .unwrap();
    let server = TestRegistry::with_serve_options(options).await;
    let data = content(3_000, 9);
    let digest = Digest::compute(&data);
    let started = server
        .http
        .post(server.url("/v2/silent/blobs/uploads/"))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), StatusCode::ACCEPTED);
    let first = server
        .http
        .patch(server.url(header(&started, "location")))
        .header("content-range", "0-999")
        .body(data[..1_000].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let location = header(&first, "location").to_owned();

    // The next chunk announces 2,000 bytes, sends 500 and then nothing.
    let mut stalled = server.raw_head(
        "PATCH",
        &location,
        &[
            ("content-range", "1000-2999".to_owned()),
            ("content-length", "2000".to_owned()),
        ],
    );
    stalled.extend_from_slice(&data[1_000..1_500]);
    let dropped = server.raw_send(&stalled, false).await;
    assert_eq!(dropped.status, 400, "{}", dropped.text);
    assert_eq!(dropped.code().as_deref(), Some("BLOB_UPLOAD_INVALID"));

    let status = server.get(&location).await;
    assert_eq!(status.status(), StatusCode::NO_CONTENT);
    assert_eq!(header(&status, "range"), "0-999");
    let finished = server
        .http
        .put(format!("{}?digest={digest}", server.url(&location)))
        .header("content-range", "1000-2999")
        .body(data[1_000..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(finished.status(), StatusCode::CREATED);
    let pulled = server.get(&format!("/v2/silent/blobs/{digest}")).await;
    assert_eq!(pulled.bytes().await.unwrap(), data);
}

#[tokio::test]
async fn past_the_connection_cap_a_new_connection_waits_for_a_place() {
    let work = tempfile::tempdir().unwrap();
    let registry = process::start_logged(
        &work.path().join("store"),
        &["--max-connections", "4", "--header-read-timeout", "1h"],
    );
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(TcpStream::connect(registry.host()).await.unwrap());
    }
    // Logged once the fourth connection is accepted and the server finds no place for a fifth.
    registry.wait_for_log("connection cap reached");
    let client = reqwest::Client::builder()
        .timeout(SAFETY_NET)
        .build()
        .unwrap();
    let waiting = tokio::spawn(client.get(format!("{}/v2/", registry.base())).send());
    drop(held.pop());
    let answer = waiting.await.unwrap().unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
}
