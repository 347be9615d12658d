//! After the restart, the request the kill cut: the store shows all of it or none of it, as
//! the cut allows; then it is finished as a retrying client would.

use oci_digest::Digest;
use oci_server_core::range::upload_progress;
use reqwest::StatusCode;

use super::{
    Model,
    audit::{blob_file, manifest_digest},
    plan::Cut,
    push::{Pending, record_manifest},
    wire::Server,
};
use crate::common::{error_code, header};

/// Checks what the store shows of the request the kill cut, then finishes that request.
pub async fn settle(server: &Server, model: &mut Model, pending: Pending) {
    match pending {
        Pending::Blob { repo, data, cut } => {
            let present = blob_present(server, repo, &data).await;
            assert!(cut.allows(present), "blob present: {present} after {cut:?}");
            if matches!(cut, Cut::Partial { .. }) {
                assert_not_stored(server, &data);
            }
            retry_blob(server, model, repo, &data).await;
        }
        Pending::Upload {
            repo,
            data,
            location,
            before,
            after,
            finishing,
            cut,
        } => {
            // Only the PUT carries the end of the blob, and only when not cut short.
            if !finishing || matches!(cut, Cut::Partial { .. }) {
                assert_not_stored(server, &data);
            }
            let status = server.http.get(server.url(&location)).send().await.unwrap();
            if status.status() == StatusCode::NOT_FOUND {
                // Only the PUT ends a session: a PATCH, even cut, never loses it.
                assert!(finishing && cut.allows(true), "session lost after {cut:?}");
                assert_eq!(error_code(status).await, "BLOB_UPLOAD_UNKNOWN");
                let present = blob_present(server, repo, &data).await;
                assert!(present || cut != Cut::Answered, "acknowledged blob lost");
                return retry_blob(server, model, repo, &data).await;
            }
            assert_eq!(status.status(), StatusCode::NO_CONTENT, "after {cut:?}");
            let range = header(&status, "range");
            let offset = [before, after]
                .into_iter()
                .find(|&offset| range == upload_progress(offset))
                .unwrap_or_else(|| panic!("upload at {range} after {cut:?} of {before}..{after}"));
            if finishing {
                // An answered PUT ended the session; one the kill cut may have been stopped
                // anywhere, but the session holds the last chunk only if the PUT was whole.
                assert!(cut.allows(false), "session kept after {cut:?}");
                assert!(
                    offset == before || cut.allows(true),
                    "upload at {range} after {cut:?}"
                );
            } else {
                assert!(
                    cut.allows(offset == after),
                    "upload at {range} after {cut:?}"
                );
            }
            resume(server, &location, &data[offset as usize..], &data).await;
            model.blobs.push((repo, Digest::compute(&data)));
        }
        Pending::Manifest {
            repo,
            reference,
            media_type,
            body,
            old,
            cut,
        } => {
            if matches!(cut, Cut::Partial { .. }) {
                assert_not_stored(server, &body);
            }
            let new = Digest::compute(&body);
            let found = manifest_digest(server, repo, &reference).await;
            let applied = found.as_ref() == Some(&new);
            assert!(
                applied || found == old,
                "{repo}:{reference} names {found:?}"
            );
            assert!(
                cut.allows(applied),
                "{repo}:{reference} is {found:?} after {cut:?}"
            );
            let url = server.url(&format!("/v2/{repo}/manifests/{reference}"));
            let put = server.http.put(url).header("content-type", media_type);
            let answer = put.body(body.clone()).send().await.unwrap();
            assert_eq!(answer.status(), StatusCode::CREATED);
            record_manifest(model, repo, &reference, &body);
        }
    }
}

/// Whether `repo` holds the blob of `content`.
async fn blob_present(server: &Server, repo: &str, content: &[u8]) -> bool {
    let digest = Digest::compute(content);
    let url = server.url(&format!("/v2/{repo}/blobs/{digest}"));
    let answer = server.http.head(url).send().await.unwrap();
    answer.status() == StatusCode::OK
}

/// Content the registry never received whole is not stored, not even unlinked.
fn assert_not_stored(server: &Server, content: &[u8]) {
    let digest = Digest::compute(content);
    let file = blob_file(&server.root, &digest);
    assert!(!file.exists(), "{digest} stored though never sent whole");
}

/// Ends the session at `location` with `rest`, the bytes of `data` it lacks.
async fn resume(server: &Server, location: &str, rest: &[u8], data: &[u8]) {
    let url = format!("{}?digest={}", server.url(location), Digest::compute(data));
    let done = server
        .http
        .put(url)
        .body(rest.to_vec())
        .send()
        .await
        .unwrap();
    let status = done.status();
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        done.text().await.unwrap()
    );
}

async fn retry_blob(server: &Server, model: &mut Model, repo: &'static str, data: &[u8]) {
    let digest = Digest::compute(data);
    let url = server.url(&format!("/v2/{repo}/blobs/uploads/?digest={digest}"));
    let pushed = server
        .http
        .post(url)
        .body(data.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), StatusCode::CREATED);
    model.blobs.push((repo, digest));
}
