//! `Content-Range` on PATCH and on the final PUT that repeats, overlaps, skips ahead, runs
//! backwards, overflows or does not parse: 416 `BLOB_UPLOAD_INVALID`, and the upload stays
//! usable (its status reports the same offset, finishing it correctly still works).

use oci_digest::Digest;
use reqwest::{Response, StatusCode, header::HeaderValue};

use super::{
    expect::refused,
    guarded::{GuardedStore, VICTIM},
};
use crate::common::{content, header};

const MAX: u64 = u64::MAX;

/// Ends the upload with `digest` and a last chunk `body` at `range`.
async fn finish(
    store: &GuardedStore,
    location: &str,
    digest: &Digest,
    range: HeaderValue,
    body: &[u8],
) -> Response {
    store
        .http
        .put(format!("{}?digest={digest}", store.url(location)))
        .header("content-range", range)
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

fn value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap()
}

/// Ranges an upload holding 1000 bytes must refuse, each with a body of the length it names
/// (so only the position or the syntax is wrong).
fn misplaced_after_1000(data: &[u8]) -> Vec<(HeaderValue, Vec<u8>)> {
    let span =
        |start: usize, end: usize| (value(&format!("{start}-{end}")), data[start..=end].to_vec());
    vec![
        span(0, 999),     // the chunk already received, again
        span(500, 1499),  // overlapping
        span(999, 1998),  // overlapping by one byte
        span(1001, 2000), // one byte beyond the offset
        span(2000, 2499), // leaving a gap
        (value(&format!("{}-{}", MAX - 1, MAX - 1)), vec![1]),
        (
            value(&format!("{}-{}", 1u64 << 40, (1u64 << 40) + 99)),
            vec![1; 100],
        ),
    ]
}

/// `Content-Range` values that do not parse (or name no chunk), with a 1000-byte body.
fn malformed() -> Vec<HeaderValue> {
    let mut values: Vec<HeaderValue> = [
        "1999-1000".to_owned(), // end before start
        "1000-999".to_owned(),
        format!("0-{MAX}"), // a chunk whose length overflows
        format!("{MAX}-{MAX}"),
        "99999999999999999999999-99999999999999999999999".to_owned(),
        String::new(),
        "1000".to_owned(),
        "1000-".to_owned(),
        "-1999".to_owned(),
        "bytes".to_owned(),
        "1000-1999-2000".to_owned(),
        "1000--1999".to_owned(),
        "+1000-1999".to_owned(),
        "0x3e8-0x7cf".to_owned(),
        "1e3-1999".to_owned(),
        "bytes 1000-1999/*x".to_owned(),
        "bytes=1000-1999/abc".to_owned(),
        "items 1000-1999/*".to_owned(),
        "1000-1999,2000-2999".to_owned(),
    ]
    .iter()
    .map(|text| value(text))
    .collect();
    // Not even visible ASCII: must not pass for "no Content-Range".
    values.push(HeaderValue::from_bytes(b"1000-1999\xff").unwrap());
    values
}

#[tokio::test]
async fn refused_chunks_leave_the_upload_usable() {
    let store = GuardedStore::start().await;
    let data = content(2500, 5);
    let digest = Digest::compute(&data);
    let location = store.start_upload(VICTIM).await;
    let first = store
        .patch_chunk(&location, value("0-999"), &data[..1000])
        .await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);

    let mut refusals: Vec<(HeaderValue, Vec<u8>)> = misplaced_after_1000(&data);
    refusals.extend(
        malformed()
            .into_iter()
            .map(|v| (v, data[1000..2000].to_vec())),
    );
    // Misplaced and mis-sized at once: refused for the place, so the client can resume.
    refusals.push((value("2000-2999"), data[1000..1500].to_vec()));
    for (range, body) in refusals {
        let case = format!("Content-Range {range:?}");
        let answer = store.patch_chunk(&location, range.clone(), &body).await;
        if answer.status() == StatusCode::RANGE_NOT_SATISFIABLE
            && answer.headers().contains_key("range")
        {
            assert_eq!(header(&answer, "range"), "0-999", "{case}");
        }
        refused(
            answer,
            StatusCode::RANGE_NOT_SATISFIABLE,
            "BLOB_UPLOAD_INVALID",
            &case,
        )
        .await;
        let answer = finish(&store, &location, &digest, range, &body).await;
        refused(
            answer,
            StatusCode::RANGE_NOT_SATISFIABLE,
            "BLOB_UPLOAD_INVALID",
            &case,
        )
        .await;
        assert_eq!(store.upload_range(&location).await, "0-999", "{case}");
    }

    // A well-placed chunk whose body is not the length its range names: SIZE_INVALID.
    for (range, len) in [("1000-1999", 500), (&format!("1000-{}", MAX - 1), 1000)] {
        let answer = store
            .patch_chunk(&location, value(range), &data[1000..1000 + len])
            .await;
        refused(answer, StatusCode::BAD_REQUEST, "SIZE_INVALID", range).await;
        assert_eq!(store.upload_range(&location).await, "0-999", "{range}");
    }

    let second = store
        .patch_chunk(&location, value("1000-1999"), &data[1000..2000])
        .await;
    assert_eq!(second.status(), StatusCode::ACCEPTED);
    assert_eq!(header(&second, "range"), "0-1999");
    let done = finish(
        &store,
        &location,
        &digest,
        value("2000-2499"),
        &data[2000..],
    )
    .await;
    assert_eq!(done.status(), StatusCode::CREATED);
    let blob = store.get(&format!("/v2/{VICTIM}/blobs/{digest}")).await;
    assert_eq!(blob.bytes().await.unwrap(), data);
    store.assert_intact().await;
}

#[tokio::test]
async fn a_fresh_upload_takes_only_a_chunk_at_zero() {
    let store = GuardedStore::start().await;
    let data = content(100, 6);
    let digest = Digest::compute(&data);
    let location = store.start_upload(VICTIM).await;
    for range in ["1-100", "100-199", "99-0"] {
        let answer = store.patch_chunk(&location, value(range), &data).await;
        refused(
            answer,
            StatusCode::RANGE_NOT_SATISFIABLE,
            "BLOB_UPLOAD_INVALID",
            range,
        )
        .await;
        assert_eq!(store.upload_range(&location).await, "0-0", "{range}");
    }
    let done = finish(&store, &location, &digest, value("0-99"), &data).await;
    assert_eq!(done.status(), StatusCode::CREATED);
    store.assert_intact().await;
}
