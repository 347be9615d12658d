//! Blob features beyond the v1.1 suite: sha512 blobs in every upload flavour, upload cancel, the
//! empty blob, and chunk errors (malformed `Content-Range`, lengths that disagree, digests that
//! do not match at the end of chunked and streamed uploads). Range GETs are in
//! [`super::newer_ranges`].

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::CONTENT_TYPE;

use super::Ctx;
use super::basis::{Basis, Feature};
use super::client::{Api, OCTET_STREAM, blob_path};
use super::data::{Algorithm, Blob, Rng};
use super::expect::REFUSAL_DETAIL;
use super::pull::DELETING;
use super::push_chunked::patch_chunk;
use super::report::{Report, Scope, Workflow};
use super::steps::{delete_all, push_blob, push_blob_checked};

const PUSH: Scope = Scope::newer(Workflow::Push);
const PULL: Scope = Scope::newer(Workflow::Pull);
const PUSH_V1_1: Scope = Scope::v1_1(Workflow::Push);
const SHA512: Basis = Basis::Feature(Feature::Sha512Blobs, "main §Pushing blobs with sha512");
const CONTENT_ADDRESSED: Basis = Basis::Must("v1.1 §Single POST: the digest MUST match the blob");
/// Chunk framing a registry is not told how to judge: the spec asks the client for a
/// well-formed `Content-Range` and a body of its length.
const CHUNK_FRAMING: Basis =
    Basis::Should("v1.1 §Pushing a blob in chunks: Content-Range MUST match the chunk (client)");

/// Runs the newer blob checks.
pub async fn run(ctx: &Ctx, rng: &mut Rng, report: &mut Report) {
    let api = &ctx.api;
    let repo = &ctx.repo("newer-blobs");
    let mut stored = Vec::new();
    report.group("Newer: sha512 blobs");
    stored.extend(sha512_uploads(ctx, rng, report).await);
    report.group("Newer: range requests");
    stored.extend(super::newer_ranges::ranges(api, repo, rng, report).await);
    report.group("Newer: empty blobs");
    stored.extend(small_blobs(api, repo, report).await);
    // Only push checks below: their setups are not needed otherwise.
    if report.selects_any(&[Workflow::Push]) {
        report.group("Newer: upload cancel");
        upload_cancel(api, repo, report).await;
        report.group("Newer: chunk errors");
        chunk_errors(api, repo, rng, report).await;
    }
    report
        .teardown(
            PUSH,
            DELETING,
            "teardown: delete the blobs of the newer blob checks",
            async |c| {
                let digests: Vec<&str> = stored.iter().map(String::as_str).collect();
                delete_all(c, api, repo, &[], &digests).await;
            },
        )
        .await;
}

/// sha512 blobs: monolithic, `digest-algorithm=sha512` chunked, streamed, POST-only, mount.
async fn sha512_uploads(ctx: &Ctx, rng: &mut Rng, report: &mut Report) -> Vec<String> {
    let api = &ctx.api;
    let repo = &ctx.repo("newer-blobs");
    let source = &ctx.repo("newer-blobs-source");
    let blobs: Vec<Blob> = (0..5)
        .map(|_| Blob::with_algorithm(Algorithm::Sha512, rng.bytes(1200)))
        .collect();
    report
        .setup(
            PUSH,
            SHA512,
            "sha512 blob: setup: POST then PUT with a sha512 digest returns 201",
            async |c| {
                let reply = push_blob(api, repo, &blobs[0]).await;
                if (400..500).contains(&reply.status) {
                    c.json_error_shape(&reply);
                    return c.not_offered(
                        Feature::Sha512Blobs,
                        format!("a sha512 upload was refused with {}", reply.status),
                    );
                }
                c.status(&reply, &[201]);
                c.offered(Feature::Sha512Blobs);
                c.location(&reply);
                c.upload_digest(&reply, &blobs[0]);
            },
        )
        .await;
    report
        .case(
            PULL,
            SHA512,
            "sha512 blob: HEAD and GET answer the sha512 digest and the bytes",
            async |c| {
                let blob = &blobs[0];
                let path = blob_path(repo, &blob.digest);
                let head = api.head(&path).await;
                c.status(&head, &[200]);
                c.content_headers(&head, &blob.bytes, &blob.digest);
                let get = api.get(&path).await;
                if c.status(&get, &[200]) {
                    c.body_eq(&get, &blob.bytes);
                }
                c.content_headers(&get, &blob.bytes, &blob.digest);
            },
        )
        .await;
    report
        .case(
            PUSH,
            SHA512,
            "sha512 blob: POST ?digest-algorithm=sha512, chunked PATCH and PUT returns 201",
            async |c| {
                let blob = &blobs[1];
                let started = api
                    .request(Method::POST, &format!("/v2/{repo}/blobs/uploads/"))
                    .query(&[("digest-algorithm", "sha512")])
                    .header(reqwest::header::CONTENT_LENGTH, "0")
                    .fetch()
                    .await;
                c.status(&started, &[202]);
                let Some(mut location) = c.location(&started) else {
                    return;
                };
                let middle = blob.bytes.len() / 2;
                for (start, chunk) in [(0, &blob.bytes[..middle]), (middle, &blob.bytes[middle..])]
                {
                    let range = format!("{start}-{}", start + chunk.len() - 1);
                    let reply = patch_chunk(api, &location, &range, chunk).await;
                    c.status(&reply, &[202]);
                    location = reply.location().unwrap_or(&location).to_string();
                }
                let reply = api.finish_upload(&location, &blob.digest, Vec::new()).await;
                c.status(&reply, &[201]);
                c.upload_digest(&reply, blob);
                c.blob_is(api, repo, blob).await;
            },
        )
        .await;
    report
        .case(
            PUSH,
            SHA512,
            "sha512 blob: streamed PATCH then PUT returns 201",
            async |c| {
                let blob = &blobs[2];
                let started = api.start_upload(repo).await;
                let Some(location) = c.location(&started) else {
                    return;
                };
                let pieces: Vec<Result<Bytes, std::io::Error>> =
                    vec![Ok(Bytes::copy_from_slice(&blob.bytes))];
                let patched = api
                    .request(Method::PATCH, &location)
                    .header(CONTENT_TYPE, OCTET_STREAM)
                    .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                        pieces,
                    )))
                    .fetch()
                    .await;
                c.status(&patched, &[202]);
                let next = patched.location().unwrap_or(&location).to_string();
                let reply = api.finish_upload(&next, &blob.digest, Vec::new()).await;
                c.status(&reply, &[201]);
                c.blob_is(api, repo, blob).await;
            },
        )
        .await;
    report
        .case(
            PUSH,
            SHA512,
            "sha512 blob: monolithic POST with a sha512 digest returns 201 or 202",
            async |c| {
                let blob = &blobs[3];
                let reply = api
                    .request(Method::POST, &format!("/v2/{repo}/blobs/uploads/"))
                    .query(&[("digest", &blob.digest)])
                    .header(CONTENT_TYPE, OCTET_STREAM)
                    .body(blob.bytes.clone())
                    .fetch()
                    .await;
                c.status(&reply, &[201, 202]);
                if reply.status == 201 {
                    c.blob_is(api, repo, blob).await;
                }
            },
        )
        .await;
    report
        .case(
            PUSH,
            SHA512,
            "sha512 blob: PUT with a sha512 digest that does not match is refused (400 DIGEST_INVALID)",
            async |c| {
                let started = api.start_upload(repo).await;
                if let Some(location) = c.location(&started) {
                    let reply = api
                        .finish_upload(&location, &blobs[4].digest, blobs[0].bytes.clone())
                        .await;
                    c.refused(&reply, 400, "DIGEST_INVALID");
                }
            },
        )
        .await;
    report
        .case(
            PUSH,
            SHA512,
            "sha512 blob: mount from another repository returns 201 with the blob there, or 202",
            async |c| {
                let blob = &blobs[4];
                if !push_blob_checked(c, api, source, blob).await {
                    return;
                }
                let reply = api
                    .request(Method::POST, &format!("/v2/{repo}/blobs/uploads/"))
                    .query(&[("mount", blob.digest.as_str()), ("from", source.as_str())])
                    .fetch()
                    .await;
                c.status(&reply, &[201, 202]);
                // A 201 says the blob <digest> is now in the repository.
                if reply.status == 201 {
                    c.blob_is(api, repo, blob).await;
                }
                let cleanup = api.delete(&blob_path(source, &blob.digest)).await;
                c.status(&cleanup, &[202, 404, 405]);
            },
        )
        .await;
    blobs.into_iter().map(|blob| blob.digest).collect()
}

/// The empty blob (size 0) and the empty JSON blob `{}`.
async fn small_blobs(api: &Api, repo: &str, report: &mut Report) -> Vec<String> {
    let blobs = [
        ("empty blob (size 0)", Blob::new(Vec::new())),
        ("empty JSON blob {}", Blob::empty_json()),
    ];
    for (label, blob) in &blobs {
        report
            .case(
                PUSH,
                Basis::Must("v1.1 §Pushing blobs; the newer harness's empty blobs"),
                &format!("{label}: push, HEAD and GET round-trip"),
                async |c| {
                    let reply = push_blob(api, repo, blob).await;
                    c.status(&reply, &[201]);
                    let path = blob_path(repo, &blob.digest);
                    let head = api.head(&path).await;
                    c.status(&head, &[200]);
                    c.content_headers(&head, &blob.bytes, &blob.digest);
                    let get = api.get(&path).await;
                    c.status(&get, &[200]);
                    c.body_eq(&get, &blob.bytes);
                },
            )
            .await;
    }
    blobs.into_iter().map(|(_, blob)| blob.digest).collect()
}

const CANCEL: Basis = Basis::Feature(Feature::UploadCancel, "main §Deleting an upload session");

/// `DELETE <upload location>` cancels an upload.
async fn upload_cancel(api: &Api, repo: &str, report: &mut Report) {
    let mut cancelled = None;
    report
        .case(
            PUSH,
            CANCEL,
            "DELETE of an upload session cancels it (204)",
            async |c| {
                let started = api.start_upload(repo).await;
                let Some(location) = c.location(&started) else {
                    return;
                };
                let reply = api.delete(&location).await;
                if (400..500).contains(&reply.status) {
                    return c.not_offered(
                        Feature::UploadCancel,
                        format!("DELETE of an upload session answered {}", reply.status),
                    );
                }
                c.status(&reply, &[204]);
                c.offered(Feature::UploadCancel);
                cancelled = Some(location);
            },
        )
        .await;
    report
        .case(
            PUSH,
            CANCEL,
            "GET of a cancelled upload session is refused (404 BLOB_UPLOAD_UNKNOWN)",
            async |c| {
                let Some(location) = &cancelled else {
                    return c.skip("no upload session was cancelled");
                };
                let reply = api.get(location).await;
                if c.refusal(&reply) {
                    c.should(REFUSAL_DETAIL, |c| {
                        c.error(&reply, 404, "BLOB_UPLOAD_UNKNOWN")
                    });
                }
            },
        )
        .await;
}

/// Chunk errors: malformed ranges, lengths that disagree, and bad digests at the end.
async fn chunk_errors(api: &Api, repo: &str, rng: &mut Rng, report: &mut Report) {
    let blob = Blob::random(rng, 2000);
    let wrong = Blob::random(rng, 10);
    report
        .case(
            PUSH_V1_1,
            CHUNK_FRAMING,
            "PATCH with a malformed Content-Range returns 416",
            async |c| {
                let started = api.start_upload(repo).await;
                if let Some(location) = c.location(&started) {
                    let reply = patch_chunk(api, &location, "bogus", &blob.bytes[..100]).await;
                    c.status(&reply, &[416]);
                }
            },
        )
        .await;
    report
        .case(
            PUSH,
            CHUNK_FRAMING,
            "PATCH whose body disagrees with its Content-Range returns 400 SIZE_INVALID or 416",
            async |c| {
                let started = api.start_upload(repo).await;
                if let Some(location) = c.location(&started) {
                    let reply = patch_chunk(api, &location, "0-999", &blob.bytes[..100]).await;
                    if c.status(&reply, &[400, 416]) && reply.status == 400 {
                        c.error_code(&reply, "SIZE_INVALID");
                    }
                }
            },
        )
        .await;
    report
        .case(
            PUSH,
            CONTENT_ADDRESSED,
            "Chunked upload ending with a wrong digest is refused (400 DIGEST_INVALID)",
            async |c| {
                let started = api.start_upload(repo).await;
                let Some(location) = c.location(&started) else {
                    return;
                };
                let patched = patch_chunk(api, &location, "0-1999", &blob.bytes).await;
                c.status(&patched, &[202]);
                let next = patched.location().unwrap_or(&location).to_string();
                let reply = api.finish_upload(&next, &wrong.digest, Vec::new()).await;
                c.refused(&reply, 400, "DIGEST_INVALID");
            },
        )
        .await;
    report
        .case(
            PUSH,
            CONTENT_ADDRESSED,
            "Streamed upload ending with a wrong digest is refused (400 DIGEST_INVALID) and nothing is stored",
            async |c| {
                let started = api.start_upload(repo).await;
                let Some(location) = c.location(&started) else {
                    return;
                };
                let patched = api
                    .request(Method::PATCH, &location)
                    .header(CONTENT_TYPE, OCTET_STREAM)
                    .body(blob.bytes.clone())
                    .fetch()
                    .await;
                c.status(&patched, &[202]);
                let next = patched.location().unwrap_or(&location).to_string();
                let reply = api.finish_upload(&next, &wrong.digest, Vec::new()).await;
                c.refused(&reply, 400, "DIGEST_INVALID");
                c.status(&api.head(&blob_path(repo, &wrong.digest)).await, &[404]);
            },
        )
        .await;
}
