//! Fifty clients at once: pushing the same blob (whole and in chunks), pushing different
//! manifests at the same tag, and racing on one upload session. Every answer is a success or
//! a spec error; afterwards the blob verifies and the tag names one complete manifest.

use std::collections::HashSet;

use futures_util::future::join_all;
use oci_digest::Digest;
use reqwest::StatusCode;
use serde_json::json;

use super::{
    expect::success_or_spec_error,
    guarded::{GuardedStore, VICTIM},
};
use crate::common::{OCI_MANIFEST, content, header};

const CLIENTS: usize = 50;

/// One client pushing `data` in two PATCHes and a PUT; `false` once a step is refused.
async fn push_in_chunks(store: &GuardedStore, repo: &str, data: &[u8], digest: &Digest) -> bool {
    let answer = store
        .http
        .post(store.url(&format!("/v2/{repo}/blobs/uploads/")))
        .send()
        .await
        .unwrap();
    let mut location = match answer.status() {
        StatusCode::ACCEPTED => header(&answer, "location").to_owned(),
        _ => return success_or_spec_error(answer, "POST").await,
    };
    let middle = data.len() / 2;
    for (start, part) in [(0, &data[..middle]), (middle, &data[middle..])] {
        let answer = store
            .http
            .patch(store.url(&location))
            .header(
                "content-range",
                format!("{start}-{}", start + part.len() - 1),
            )
            .body(part.to_vec())
            .send()
            .await
            .unwrap();
        if answer.status() != StatusCode::ACCEPTED {
            return success_or_spec_error(answer, "PATCH").await;
        }
        location = header(&answer, "location").to_owned();
    }
    let answer = store
        .http
        .put(format!("{}?digest={digest}", store.url(&location)))
        .send()
        .await
        .unwrap();
    success_or_spec_error(answer, "PUT").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_clients_push_the_same_blob() {
    let mut store = GuardedStore::start().await;
    let data = content(256 * 1024, 12);
    let digest = Digest::compute(&data);

    let whole = (0..CLIENTS).map(|_| async {
        let answer = store
            .http
            .post(store.url(&format!("/v2/race/whole/blobs/uploads/?digest={digest}")))
            .body(data.clone())
            .send()
            .await
            .unwrap();
        success_or_spec_error(answer, "monolithic POST").await
    });
    let chunked = (0..CLIENTS).map(|_| push_in_chunks(&store, "race/chunked", &data, &digest));
    let (whole, chunked) = tokio::join!(join_all(whole), join_all(chunked));
    assert!(whole.contains(&true) && chunked.contains(&true));

    for repo in ["race/whole", "race/chunked"] {
        let path = format!("/v2/{repo}/blobs/{digest}");
        let answer = store.get(&path).await;
        assert_eq!(header(&answer, "docker-content-digest"), digest.as_str());
        assert_eq!(answer.bytes().await.unwrap(), data, "{repo}");
        store.keep(&path, data.clone());
    }
    store.assert_intact().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_clients_push_the_same_tag() {
    let store = GuardedStore::start().await;
    let config = store.push_blob(VICTIM, b"{}").await;
    let manifests: Vec<Vec<u8>> = (0..CLIENTS)
        .map(|client| {
            serde_json::to_vec(&json!({
                "schemaVersion": 2, "mediaType": OCI_MANIFEST,
                "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config.as_str(), "size": 2},
                "layers": [], "annotations": {"client": client.to_string()}
            }))
            .unwrap()
        })
        .collect();
    let pushes = manifests.iter().map(|body| async {
        let answer = store.put_manifest(VICTIM, "race", OCI_MANIFEST, body).await;
        success_or_spec_error(answer, "manifest PUT").await
    });
    let pushed = join_all(pushes).await;

    let tagged = store.get(&format!("/v2/{VICTIM}/manifests/race")).await;
    assert_eq!(tagged.status(), StatusCode::OK);
    let digest = header(&tagged, "docker-content-digest").to_owned();
    let bytes = tagged.bytes().await.unwrap();
    let winners: HashSet<&Vec<u8>> = manifests
        .iter()
        .zip(&pushed)
        .filter_map(|(body, ok)| ok.then_some(body))
        .collect();
    assert!(
        winners.contains(&bytes.to_vec()),
        "the tag names no pushed manifest"
    );
    assert_eq!(Digest::compute(&bytes).as_str(), digest);
    for body in winners {
        let by_digest = store
            .get(&format!("/v2/{VICTIM}/manifests/{}", Digest::compute(body)))
            .await;
        assert_eq!(by_digest.bytes().await.unwrap(), body);
    }
    store.assert_intact().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_clients_race_on_one_session() {
    let mut store = GuardedStore::start().await;
    let data = content(2000, 13);
    let digest = Digest::compute(&data);
    let location = store.start_upload(VICTIM).await;
    let url = store.url(&location);

    // The same first chunk fifty times: one lands, the rest start where the upload no
    // longer ends.
    let patches = (0..CLIENTS).map(|_| {
        store
            .http
            .patch(&url)
            .header("content-range", "0-999")
            .body(data[..1000].to_vec())
            .send()
    });
    let mut landed = 0;
    for answer in join_all(patches).await {
        let answer = answer.unwrap();
        match answer.status() {
            StatusCode::ACCEPTED => landed += 1,
            _ => assert!(!success_or_spec_error(answer, "racing PATCH").await),
        }
    }
    assert_eq!(landed, 1);
    assert_eq!(store.upload_range(&location).await, "0-999");

    // The same last chunk fifty times: one finishes the upload, the rest find it moved on
    // or gone.
    let puts = (0..CLIENTS).map(|_| {
        store
            .http
            .put(format!("{url}?digest={digest}"))
            .header("content-range", "1000-1999")
            .body(data[1000..].to_vec())
            .send()
    });
    let mut finished = 0;
    for answer in join_all(puts).await {
        let answer = answer.unwrap();
        match answer.status() {
            StatusCode::CREATED => finished += 1,
            _ => assert!(!success_or_spec_error(answer, "racing PUT").await),
        }
    }
    assert_eq!(finished, 1);
    store.keep(&format!("/v2/{VICTIM}/blobs/{digest}"), data);
    store.assert_intact().await;
}
