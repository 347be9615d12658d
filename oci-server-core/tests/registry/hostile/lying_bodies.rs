//! Bodies that end before their `Content-Length` (the client hangs up mid-body) or run past
//! it, and lengths that do not parse, written on a raw socket: nothing is stored corrupt or
//! half, sessions keep their offset, and a correct push afterwards works.

use oci_digest::Digest;
use reqwest::StatusCode;
use reqwest::header::HeaderValue;
use serde_json::json;

use super::{
    expect::{raw_client_error, raw_cut_short, raw_refused},
    guarded::{GuardedStore, VICTIM, VICTIM_TAG},
};
use crate::common::{OCI_MANIFEST, content};

/// A request whose head announces `announced` bytes and whose body is `body`.
fn with_length(
    store: &GuardedStore,
    method: &str,
    target: &str,
    headers: &[(&str, String)],
    announced: usize,
    body: &[u8],
) -> Vec<u8> {
    let mut all = headers.to_vec();
    all.push(("content-length", announced.to_string()));
    let mut request = store.raw_head(method, target, &all);
    request.extend_from_slice(body);
    request
}

#[tokio::test]
async fn a_blob_cut_short_is_not_stored() {
    let mut store = GuardedStore::start().await;
    let data = content(64 * 1024, 8);
    let digest = Digest::compute(&data);
    let target = format!("/v2/{VICTIM}/blobs/uploads/?digest={digest}");

    let half = with_length(
        &store,
        "POST",
        &target,
        &[],
        data.len(),
        &data[..data.len() / 2],
    );
    raw_cut_short(&store.raw_send(&half, true).await, "POST cut short");
    // The same with chunked transfer coding: a chunk that never completes.
    let mut chunked = store.raw_head("POST", &target, &[("transfer-encoding", "chunked".into())]);
    chunked.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
    chunked.extend_from_slice(&data[..1000]);
    raw_cut_short(
        &store.raw_send(&chunked, true).await,
        "chunked POST cut short",
    );
    let answer = store.head(&format!("/v2/{VICTIM}/blobs/{digest}")).await;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);

    store.push_blob(VICTIM, &data).await;
    store.keep(&format!("/v2/{VICTIM}/blobs/{digest}"), data);
    store.assert_intact().await;
}

#[tokio::test]
async fn a_blob_body_is_what_content_length_says() {
    let store = GuardedStore::start().await;
    let data = content(10_000, 9);
    let (head, whole) = (&data[..5000], Digest::compute(&data));

    // The server reads 5000 bytes: they do not hash to the digest of all 10,000.
    let target = format!("/v2/{VICTIM}/blobs/uploads/?digest={whole}");
    let overlong = with_length(&store, "POST", &target, &[], head.len(), &data);
    let answer = store.raw_send(&overlong, false).await;
    raw_refused(&answer, 400, "DIGEST_INVALID", "POST past its length");
    let answer = store.head(&format!("/v2/{VICTIM}/blobs/{whole}")).await;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);

    // Named by the digest of what Content-Length covers, the blob is exactly that.
    let digest = Digest::compute(head);
    let target = format!("/v2/{VICTIM}/blobs/uploads/?digest={digest}");
    let overlong = with_length(&store, "POST", &target, &[], head.len(), &data);
    assert_eq!(store.raw_send(&overlong, false).await.status, 201);
    let stored = store.get(&format!("/v2/{VICTIM}/blobs/{digest}")).await;
    assert_eq!(stored.bytes().await.unwrap(), head);
    store.assert_intact().await;
}

#[tokio::test]
async fn a_chunk_cut_short_leaves_the_session_where_it_was() {
    let mut store = GuardedStore::start().await;
    let data = content(2500, 10);
    let digest = Digest::compute(&data);
    let location = store.start_upload(VICTIM).await;
    let first = store
        .patch_chunk(&location, HeaderValue::from_static("0-999"), &data[..1000])
        .await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);

    let ranged = [("content-range", "1000-1999".to_owned())];
    let cut = [
        with_length(&store, "PATCH", &location, &ranged, 1000, &data[1000..1400]),
        with_length(&store, "PATCH", &location, &[], 1000, &data[1000..1010]),
        with_length(
            &store,
            "PUT",
            &format!("{location}?digest={digest}"),
            &[("content-range", "1000-2499".to_owned())],
            1500,
            &data[1000..1700],
        ),
    ];
    for (i, request) in cut.iter().enumerate() {
        raw_cut_short(&store.raw_send(request, true).await, &format!("cut #{i}"));
        assert_eq!(store.upload_range(&location).await, "0-999", "cut #{i}");
    }
    let answer = store.head(&format!("/v2/{VICTIM}/blobs/{digest}")).await;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);

    // A chunk running past its Content-Length: the server takes what the length covers.
    let overlong = with_length(&store, "PATCH", &location, &[], 500, &data[1000..2000]);
    assert_eq!(store.raw_send(&overlong, false).await.status, 202);
    assert_eq!(store.upload_range(&location).await, "0-1499");

    let done = store
        .http
        .put(format!("{}?digest={digest}", store.url(&location)))
        .header("content-range", "1500-2499")
        .body(data[1500..].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::CREATED);
    store.keep(&format!("/v2/{VICTIM}/blobs/{digest}"), data);
    store.assert_intact().await;
}

#[tokio::test]
async fn a_long_chunk_cut_short_leaves_nothing_behind() {
    let mut store = GuardedStore::start().await;
    let data = content(3 << 20, 14);
    let location = store.start_upload(VICTIM).await;
    let first = store
        .patch_chunk(&location, HeaderValue::from_static("0-999"), &data[..1000])
        .await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);

    // Cut after more than one write batch (1 MiB): a write still in flight when the body
    // fails must not land in the file after the session moves on.
    let ranged = [("content-range", format!("1000-{}", data.len() - 1))];
    let cut = with_length(
        &store,
        "PATCH",
        &location,
        &ranged,
        data.len() - 1000,
        &data[1000..2 << 20],
    );
    raw_cut_short(&store.raw_send(&cut, true).await, "long chunk cut short");
    assert_eq!(store.upload_range(&location).await, "0-999");

    // Finished right away with what it holds: the blob is exactly those 1000 bytes.
    let digest = Digest::compute(&data[..1000]);
    let done = store
        .http
        .put(format!("{}?digest={digest}", store.url(&location)))
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), StatusCode::CREATED);
    store.keep(
        &format!("/v2/{VICTIM}/blobs/{digest}"),
        data[..1000].to_vec(),
    );
    store.assert_intact().await;
}

#[tokio::test]
async fn a_manifest_cut_short_or_overlong_leaves_the_tag_alone() {
    let store = GuardedStore::start().await;
    let config = store.push_blob(VICTIM, b"{}").await;
    let replacement = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config.as_str(), "size": 2},
        "layers": [], "annotations": {"replaces": VICTIM_TAG}
    }))
    .unwrap();
    let target = format!("/v2/{VICTIM}/manifests/{VICTIM_TAG}");
    let content_type = [("content-type", OCI_MANIFEST.to_owned())];
    let len = replacement.len();

    let half = with_length(
        &store,
        "PUT",
        &target,
        &content_type,
        len,
        &replacement[..len / 2],
    );
    raw_cut_short(&store.raw_send(&half, true).await, "manifest cut short");
    let overlong = with_length(&store, "PUT", &target, &content_type, len / 2, &replacement);
    let answer = store.raw_send(&overlong, false).await;
    raw_refused(&answer, 400, "MANIFEST_INVALID", "manifest past its length");

    let answer = store
        .head(&format!(
            "/v2/{VICTIM}/manifests/{}",
            Digest::compute(&replacement)
        ))
        .await;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    store.assert_intact().await;
}

#[tokio::test]
async fn garbled_lengths_are_refused() {
    let store = GuardedStore::start().await;
    let data = content(100, 11);
    let digest = Digest::compute(&data);
    let target = format!("/v2/{VICTIM}/blobs/uploads/?digest={digest}");
    let garbled: [&[(&str, String)]; 5] = [
        &[("content-length", "abc".into())],
        &[("content-length", "-100".into())],
        &[("content-length", "18446744073709551616".into())],
        &[
            ("content-length", "100".into()),
            ("content-length", "50".into()),
        ],
        &[
            ("content-length", "50".into()),
            ("transfer-encoding", "chunked".into()),
        ],
    ];
    for headers in garbled {
        let mut request = store.raw_head("POST", &target, headers);
        request.extend_from_slice(&data);
        let answer = store.raw_send(&request, false).await;
        raw_client_error(&answer, &format!("{headers:?}"));
    }
    let answer = store.head(&format!("/v2/{VICTIM}/blobs/{digest}")).await;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    store.assert_intact().await;
}
