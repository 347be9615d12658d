//! The Push workflow, blob uploads: streamed and monolithic (POST+PUT and POST alone), with
//! their error answers. Chunked uploads are in [`super::push_chunked`], mounts and manifests in
//! [`super::push_manifests`].

use bytes::Bytes;
use reqwest::Method;
use reqwest::header::CONTENT_TYPE;

use super::Ctx;
use super::basis::{Basis, Feature};
use super::client::{Api, OCTET_STREAM, blob_path};
use super::data::{Blob, Rng};
use super::pull::DELETING;
use super::report::{Report, Scope, Workflow};
use super::steps::delete_all;

const PUSH: Scope = Scope::v1_1(Workflow::Push);
/// The sections the blob uploads rest on.
const POST_THEN_PUT: Basis = Basis::Must("v1.1 §POST then PUT");
const CHUNKS: Basis = Basis::Must("v1.1 §Pushing a blob in chunks");
/// A streamed PATCH (no `Content-Range`) is what the v1.1 suite's "Blob Upload Streamed" sends.
const STREAMED: Basis =
    Basis::Must("v1.1 §Pushing a blob in chunks; the v1.1 suite's streamed upload");
/// What an upload session that is no longer active answers: the endpoint table lists 404
/// (end-5, end-6, end-13), but no sentence makes it a MUST.
const CLOSED_SESSION: &str = "v1.1 §Endpoints end-13: 404, BLOB_UPLOAD_UNKNOWN";

/// Runs the blob-upload half of the Push workflow.
pub async fn run(ctx: &Ctx, rng: &mut Rng, report: &mut Report) {
    let api = &ctx.api;
    let repo = &ctx.repo("push");
    let streamed = Blob::random(rng, 1500);
    let monolithic_post = Blob::image_config(rng, super::data::Algorithm::Sha256);
    let config = Blob::image_config(rng, super::data::Algorithm::Sha256);
    let layer = Blob::random(rng, 3000);
    let mut created: Vec<String> = Vec::new();

    report.group("Push: streamed upload");
    streamed_upload(api, repo, &streamed, report).await;
    created.push(streamed.digest.clone());

    report.group("Push: monolithic upload");
    let mut post_status = 0;
    let single_post = Basis::Must("v1.1 §Single POST: 201, or 202 where not supported");
    report
        .case(
            PUSH,
            single_post,
            "POST with digest and body (monolithic POST) returns 201 or 202",
            async |c| {
                let reply = api
                    .request(Method::POST, &format!("/v2/{repo}/blobs/uploads/"))
                    .query(&[("digest", &monolithic_post.digest)])
                    .header(CONTENT_TYPE, OCTET_STREAM)
                    .body(monolithic_post.bytes.clone())
                    .fetch()
                    .await;
                c.status(&reply, &[201, 202]);
                c.location(&reply);
                post_status = reply.status;
                match reply.status {
                    201 => c.offered(Feature::SinglePost),
                    202 => c.not_offered(
                        Feature::SinglePost,
                        "a POST with the blob answered 202 and opened an upload session",
                    ),
                    _ => {}
                }
            },
        )
        .await;
    report
        .case(
            PUSH,
            single_post,
            "GET blob after a monolithic POST returns 200 when it answered 201, 404 when 202",
            async |c| match post_status {
                201 => c.blob_is(api, repo, &monolithic_post).await,
                202 => {
                    let reply = api.get(&blob_path(repo, &monolithic_post.digest)).await;
                    c.status(&reply, &[404]);
                }
                _ => c.skip("the monolithic POST failed"),
            },
        )
        .await;
    created.push(monolithic_post.digest.clone());

    for (name, blob) in [
        (
            "POST then PUT with digest uploads a config blob (201)",
            &config,
        ),
        (
            "POST then PUT with digest uploads a layer blob (201)",
            &layer,
        ),
    ] {
        report
            .case(PUSH, POST_THEN_PUT, name, async |c| {
                let started = api.start_upload(repo).await;
                c.status(&started, &[202]);
                let Some(location) = c.location(&started) else {
                    return;
                };
                let reply = api
                    .finish_upload(&location, &blob.digest, blob.bytes.clone())
                    .await;
                c.status(&reply, &[201]);
                c.header_eq_if_present(&reply, "docker-content-digest", &blob.digest);
                if let Some(location) = c.location(&reply) {
                    let fetched = api.get(&location).await;
                    c.status(&fetched, &[200]);
                    c.body_eq(&fetched, &blob.bytes);
                }
            })
            .await;
        created.push(blob.digest.clone());
    }

    report.group("Push: upload errors");
    upload_errors(api, repo, rng, report).await;
    report.group("Push: chunked upload");
    let chunked = super::push_chunked::chunked_upload(api, repo, rng, report).await;
    created.extend(chunked);

    report
        .teardown(
            PUSH,
            DELETING,
            "teardown: delete uploaded blobs",
            async |c| {
                let blobs: Vec<&str> = created.iter().map(String::as_str).collect();
                delete_all(c, api, repo, &[], &blobs).await;
            },
        )
        .await;
}

/// POST, one streamed PATCH (no length announced: chunked transfer encoding), PUT with digest.
async fn streamed_upload(api: &Api, repo: &str, blob: &Blob, report: &mut Report) {
    let mut location = None;
    report
        .case(
            PUSH,
            POST_THEN_PUT,
            "POST starts an upload: 202 with Location",
            async |c| {
                let reply = api.start_upload(repo).await;
                c.status(&reply, &[202]);
                location = c.location(&reply);
            },
        )
        .await;
    report
        .case(
            PUSH,
            STREAMED,
            "PATCH with a streamed body returns 202 with Location and Range",
            async |c| {
                let Some(target) = location.take() else {
                    return c.skip("no upload session");
                };
                let pieces: Vec<Result<Bytes, std::io::Error>> = blob
                    .bytes
                    .chunks(500)
                    .map(|piece| Ok(Bytes::copy_from_slice(piece)))
                    .collect();
                let body = reqwest::Body::wrap_stream(futures_util::stream::iter(pieces));
                let reply = api
                    .request(Method::PATCH, &target)
                    .header(CONTENT_TYPE, OCTET_STREAM)
                    .body(body)
                    .fetch()
                    .await;
                c.status(&reply, &[202]);
                c.header_eq(&reply, "range", &format!("0-{}", blob.bytes.len() - 1));
                location = c.location(&reply);
            },
        )
        .await;
    let mut closed_session = None;
    report
        .case(
            PUSH,
            CHUNKS,
            "PUT with digest closes a streamed upload: 201 with Location",
            async |c| {
                let Some(target) = location.take() else {
                    return c.skip("no upload session");
                };
                let reply = api.finish_upload(&target, &blob.digest, Vec::new()).await;
                c.status(&reply, &[201]);
                c.header_eq_if_present(&reply, "docker-content-digest", &blob.digest);
                if let Some(location) = c.location(&reply) {
                    let fetched = api.get(&location).await;
                    c.body_eq(&fetched, &blob.bytes);
                }
                closed_session = Some(target);
            },
        )
        .await;
    report
        .case(
            PUSH,
            Basis::Must("v1.1 §Pushing a blob in chunks: only an active upload answers 204"),
            "GET of a completed upload session is refused (404 BLOB_UPLOAD_UNKNOWN)",
            async |c| {
                let Some(target) = closed_session.take() else {
                    return c.skip("the streamed upload did not complete");
                };
                let reply = api.get(&target).await;
                if c.refusal(&reply) {
                    c.should(CLOSED_SESSION, |c| {
                        c.error(&reply, 404, "BLOB_UPLOAD_UNKNOWN")
                    });
                }
            },
        )
        .await;
}

/// Wrong digests, malformed digests and unknown sessions.
async fn upload_errors(api: &Api, repo: &str, rng: &mut Rng, report: &mut Report) {
    let blob = Blob::random(rng, 700);
    let other = Blob::random(rng, 700);
    // Storing content under a digest it does not have breaks content addressing itself.
    let content_addressed = Basis::Must("v1.1 §Single POST: the digest MUST match the blob");
    report
        .case(
            PUSH,
            content_addressed,
            "PUT with a digest that does not match the body is refused (400 DIGEST_INVALID) and nothing is stored",
            async |c| {
                let started = api.start_upload(repo).await;
                let Some(location) = c.location(&started) else {
                    return;
                };
                let reply = api
                    .finish_upload(&location, &other.digest, blob.bytes.clone())
                    .await;
                c.refused(&reply, 400, "DIGEST_INVALID");
                let stored = api.head(&blob_path(repo, &other.digest)).await;
                c.check(stored.status == 404, || {
                    format!(
                        "the rejected blob must not be stored: HEAD gave {}",
                        stored.describe()
                    )
                });
            },
        )
        .await;
    report
        .case(
            PUSH,
            content_addressed,
            "PUT with a malformed digest is refused (400 DIGEST_INVALID)",
            async |c| {
                let started = api.start_upload(repo).await;
                let Some(location) = c.location(&started) else {
                    return;
                };
                let reply = api
                    .finish_upload(&location, "sha256:nothex", blob.bytes.clone())
                    .await;
                c.refused(&reply, 400, "DIGEST_INVALID");
            },
        )
        .await;
    report
        .case(
            PUSH,
            Basis::Must("v1.1 §Pushing a blob in chunks: an upload needs its session"),
            "PUT to an unknown upload session is refused (404 BLOB_UPLOAD_UNKNOWN)",
            async |c| {
                let unknown = format!("/v2/{repo}/blobs/uploads/{}", rng.token(32));
                let reply = api
                    .finish_upload(&unknown, &blob.digest, blob.bytes.clone())
                    .await;
                if c.refusal(&reply) {
                    c.should(CLOSED_SESSION, |c| {
                        c.error(&reply, 404, "BLOB_UPLOAD_UNKNOWN")
                    });
                }
            },
        )
        .await;
}
