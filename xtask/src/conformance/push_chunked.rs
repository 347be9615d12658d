//! The Push workflow, chunked uploads: the v1.1 suite's flow (out-of-order and repeated chunks
//! answer 416, the session reports its Range), sized to honour `OCI-Chunk-Min-Length`.

use reqwest::Method;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE};

use super::basis::{Basis, Feature};
use super::checks::Checks;
use super::client::{Api, OCTET_STREAM, Reply};
use super::data::{Blob, Rng};
use super::report::{Report, Scope, Workflow};

const PUSH: Scope = Scope::v1_1(Workflow::Push);

/// A blob cut in two chunks; the first honours the registry's `OCI-Chunk-Min-Length`.
struct ChunkPlan {
    blob: Blob,
    first: usize,
}

impl ChunkPlan {
    fn head(&self) -> &[u8] {
        &self.blob.bytes[..self.first]
    }

    fn tail(&self) -> &[u8] {
        &self.blob.bytes[self.first..]
    }

    fn head_range(&self) -> String {
        format!("0-{}", self.first - 1)
    }

    fn tail_range(&self) -> String {
        format!("{}-{}", self.first, self.blob.bytes.len() - 1)
    }
}

const NO_PLAN: &str = "the chunked upload could not start";
const CHUNKS: Basis = Basis::Must("v1.1 §Pushing a blob in chunks");

/// The chunked flow of the v1.1 suite; returns the digests it stored. As there, the first
/// chunk is resent to, and the session's status read from, the `Location` of the `POST`: the
/// spec lets a client use the location "obtained from any preceding POST or PATCH request".
pub async fn chunked_upload(
    api: &Api,
    repo: &str,
    rng: &mut Rng,
    report: &mut Report,
) -> Vec<String> {
    let mut plan: Option<ChunkPlan> = None;
    let mut first_location = String::new();
    let mut current = String::new();
    report
        .case(
            PUSH,
            CHUNKS,
            "POST for a chunked upload returns 202 with Location",
            async |c| {
                let reply = api.start_upload(repo).await;
                c.status(&reply, &[202]);
                if let Some(location) = c.location(&reply) {
                    let first = first_chunk_len(c, &reply);
                    plan = Some(ChunkPlan {
                        blob: Blob::random(rng, first + 500),
                        first,
                    });
                    first_location = location;
                }
            },
        )
        .await;
    report
        .case(
            PUSH,
            CHUNKS,
            "PATCH of an out-of-order first chunk returns 416",
            async |c| {
                let Some(plan) = &plan else {
                    return c.skip(NO_PLAN);
                };
                let started = api.start_upload(repo).await;
                if let Some(fresh) = c.location(&started) {
                    let reply = patch_chunk(api, &fresh, &plan.tail_range(), plan.tail()).await;
                    c.status(&reply, &[416]);
                }
            },
        )
        .await;
    report
        .case(
            PUSH,
            CHUNKS,
            "PATCH of the first chunk returns 202 with Location and Range 0-<end>",
            async |c| {
                let Some(plan) = &plan else {
                    return c.skip(NO_PLAN);
                };
                let reply =
                    patch_chunk(api, &first_location, &plan.head_range(), plan.head()).await;
                c.status(&reply, &[202]);
                c.header_eq(&reply, "range", &plan.head_range());
                current = c.location(&reply).unwrap_or_else(|| first_location.clone());
            },
        )
        .await;
    report
        .case(
            PUSH,
            CHUNKS,
            "PATCH resending the first chunk to the POST's Location returns 416",
            async |c| {
                let Some(plan) = &plan else {
                    return c.skip(NO_PLAN);
                };
                let reply =
                    patch_chunk(api, &first_location, &plan.head_range(), plan.head()).await;
                c.status(&reply, &[416]);
            },
        )
        .await;
    report
        .case(
            PUSH,
            CHUNKS,
            "GET of the upload session at the POST's Location returns 204 with Location and Range",
            async |c| {
                let Some(plan) = &plan else {
                    return c.skip(NO_PLAN);
                };
                let reply = api.get(&first_location).await;
                c.status(&reply, &[204]);
                c.header_eq(&reply, "range", &plan.head_range());
                if let Some(next) = c.location(&reply)
                    && reply.status == 204
                {
                    current = next;
                }
            },
        )
        .await;
    report
        .case(
            PUSH,
            CHUNKS,
            "PATCH of the second chunk returns 202 with Location",
            async |c| {
                let Some(plan) = &plan else {
                    return c.skip(NO_PLAN);
                };
                let reply = patch_chunk(api, &current, &plan.tail_range(), plan.tail()).await;
                c.status(&reply, &[202]);
                if let Some(next) = c.location(&reply) {
                    current = next;
                }
            },
        )
        .await;
    report
        .case(
            PUSH,
            CHUNKS,
            "PUT with digest and no body completes a chunked upload (201)",
            async |c| {
                let Some(plan) = &plan else {
                    return c.skip(NO_PLAN);
                };
                let reply = api
                    .finish_upload(&current, &plan.blob.digest, Vec::new())
                    .await;
                c.status(&reply, &[201]);
                c.location(&reply);
                c.blob_is(api, repo, &plan.blob).await;
            },
        )
        .await;
    let mut last_on_put: Option<ChunkPlan> = None;
    report
        .case(
            PUSH,
            CHUNKS,
            "PUT carrying the last chunk and the digest completes an upload (201)",
            async |c| {
                let Some(plan) = &plan else {
                    return c.skip(NO_PLAN);
                };
                let other = ChunkPlan {
                    blob: Blob::random(rng, plan.blob.bytes.len()),
                    first: plan.first,
                };
                let started = api.start_upload(repo).await;
                let Some(location) = c.location(&started) else {
                    return;
                };
                let patched = patch_chunk(api, &location, &other.head_range(), other.head()).await;
                if c.status(&patched, &[202]) {
                    let next = patched.location().unwrap_or(&location).to_string();
                    let reply = api
                        .request(Method::PUT, &next)
                        .query(&[("digest", &other.blob.digest)])
                        .header(CONTENT_TYPE, OCTET_STREAM)
                        .header(CONTENT_RANGE, other.tail_range())
                        .body(other.tail().to_vec())
                        .fetch()
                        .await;
                    c.status(&reply, &[201]);
                    c.blob_is(api, repo, &other.blob).await;
                }
                last_on_put = Some(other);
            },
        )
        .await;
    [plan, last_on_put]
        .into_iter()
        .flatten()
        .map(|plan| plan.blob.digest)
        .collect()
}

/// The first chunk's length: 1000 bytes, or the registry's `OCI-Chunk-Min-Length` if larger.
/// Records whether the registry announces a minimum.
fn first_chunk_len(c: &mut Checks, reply: &Reply) -> usize {
    match reply.header("oci-chunk-min-length") {
        None => {
            c.not_offered(Feature::ChunkMinimum, "no OCI-Chunk-Min-Length announced");
            1000
        }
        Some(text) => {
            c.offered(Feature::ChunkMinimum);
            match text.parse::<usize>() {
                Ok(min) => min.max(1000),
                Err(_) => {
                    c.fail(format!("OCI-Chunk-Min-Length is not a number: {text:?}"));
                    1000
                }
            }
        }
    }
}

/// `PATCH <location>` with `Content-Range: <range>` and `chunk` as body.
pub async fn patch_chunk(api: &Api, location: &str, range: &str, chunk: &[u8]) -> Reply {
    api.request(Method::PATCH, location)
        .header(CONTENT_TYPE, OCTET_STREAM)
        .header(CONTENT_RANGE, range)
        .header(CONTENT_LENGTH, chunk.len())
        .body(chunk.to_vec())
        .fetch()
        .await
}
