//! What an operator watches: `/metrics` after a push, the health probes, request ids, the
//! JSON access log of the binary, and the probes on a listener of their own.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestRegistry, header};

/// The value of the sample `name{labels}` in a Prometheus text exposition.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test]
async fn a_scrape_after_a_push_counts_requests_bytes_and_storage_operations() {
    let server = TestRegistry::start().await;
    server.push_image("app", "v1", json!({})).await;
    // Read whole: a request is counted before its answer's last byte leaves.
    server
        .get("/v2/app/manifests/v1")
        .await
        .bytes()
        .await
        .unwrap();

    let scrape = server.get("/metrics").await;
    assert_eq!(scrape.status(), StatusCode::OK);
    assert!(header(&scrape, "content-type").starts_with("application/openmetrics-text"));
    let text = scrape.text().await.unwrap();
    let put = "oci_registry_http_requests_total{route=\"manifest\",method=\"PUT\",status=\"201\"}";
    assert_eq!(sample(&text, put), Some(1.0), "{text}");
    let get = "oci_registry_http_requests_total{route=\"manifest\",method=\"GET\",status=\"200\"}";
    assert_eq!(sample(&text, get), Some(1.0), "{text}");
    let received = sample(&text, "oci_registry_http_received_bytes_total").unwrap();
    assert!(
        received > 100.0,
        "the config and manifest came in: {received}"
    );
    let sent = sample(&text, "oci_registry_http_sent_bytes_total").unwrap();
    assert!(sent > 100.0, "the manifest went out: {sent}");
    let puts = "oci_registry_storage_operations_total{operation=\"meta_put\",outcome=\"ok\"}";
    assert!(sample(&text, puts).unwrap() >= 2.0, "{text}");
    assert_eq!(
        sample(&text, "oci_registry_upload_sessions"),
        Some(0.0),
        "{text}"
    );
    assert!(
        text.contains("oci_registry_http_request_duration_seconds_bucket"),
        "{text}"
    );
}

#[tokio::test]
async fn probes_answer_and_every_answer_carries_its_own_request_id() {
    let server = TestRegistry::start().await;
    assert_eq!(server.get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(server.get("/readyz").await.status(), StatusCode::OK);
    let first = server.get("/v2/").await;
    let second = server.get("/v2/nothing/tags/list").await;
    let (a, b) = (
        header(&first, "x-request-id"),
        header(&second, "x-request-id"),
    );
    assert_eq!(a.len(), 16);
    assert_ne!(a, b);
}

#[tokio::test]
async fn the_binary_logs_one_json_line_per_request_and_serves_probes_apart() {
    let root = tempfile::tempdir().unwrap();
    let probes_addr = format!("127.0.0.1:{}", oci_test_support::free_port());
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_oci-registry"))
        .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
        .args(["--metrics-listen", &probes_addr])
        .arg("--root")
        .arg(root.path())
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(log.reopen().unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().trim_start_matches("oci-registry listening on ");
    let http = reqwest::Client::new();
    let answer = http
        .get(format!("{base}/v2/app/tags/list"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    let id = header(&answer, "x-request-id").to_owned();
    // The access line is written once the body is gone.
    drop(answer);
    let beside = http.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(
        beside.status(),
        StatusCode::NOT_FOUND,
        "probes are not beside the API when they have their own listener"
    );
    let scrape = http
        .get(format!("http://{probes_addr}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(scrape.contains("route=\"tags\""), "{scrape}");
    let _ = child.kill();
    let _ = child.wait();

    let logged = std::fs::read_to_string(log.path()).unwrap();
    let entry: Value = logged
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|entry| entry["request_id"] == id.as_str())
        .unwrap_or_else(|| panic!("no JSON line for request {id} in:\n{logged}"));
    assert_eq!(entry["route"], "tags");
    assert_eq!(entry["repository"], "app");
    assert_eq!(entry["status"], 404);
    assert!(entry["bytes_out"].as_u64().unwrap() > 0, "{entry}");
    assert!(entry["duration_ms"].as_f64().is_some(), "{entry}");
    assert_eq!(entry["user"], "-");
}
