//! Blob Range GETs (spec main): 206 with `Content-Range`, suffix ranges, overlong ranges clipped
//! to the end, and 416 for inverted ranges or a start past the end.

use reqwest::Method;
use reqwest::header::RANGE;

use super::basis::{Basis, Feature};
use super::client::{Api, blob_path};
use super::data::{Blob, Rng};
use super::report::{Report, Scope, Workflow};
use super::steps::push_blob_checked;

const PULL: Scope = Scope::newer(Workflow::Pull);
/// Range requests are a SHOULD of v1.1; when a registry answers them, RFC 9110 says how.
const RANGES: Basis = Basis::Feature(Feature::Ranges, "v1.1 §Pulling blobs; RFC 9110 §14");

/// One Range GET: the request header and the inclusive span expected back (`None`: 416).
struct RangeCase {
    name: &'static str,
    header: &'static str,
    expected: Option<(usize, usize)>,
}

const RANGE_CASES: [RangeCase; 6] = [
    RangeCase {
        name: "Range bytes=500-1499 returns 206 with those 1000 bytes",
        header: "bytes=500-1499",
        expected: Some((500, 1499)),
    },
    RangeCase {
        name: "Range bytes=500- returns 206 with the rest of the blob",
        header: "bytes=500-",
        expected: Some((500, 2047)),
    },
    RangeCase {
        name: "Range bytes=-500 (suffix) returns 206 with the last 500 bytes",
        header: "bytes=-500",
        expected: Some((1548, 2047)),
    },
    RangeCase {
        name: "Range bytes=2000-5000 is clipped to the blob's end (206)",
        header: "bytes=2000-5000",
        expected: Some((2000, 2047)),
    },
    RangeCase {
        name: "Range bytes=500-0 returns 416",
        header: "bytes=500-0",
        expected: None,
    },
    RangeCase {
        name: "Range bytes=5000-10000 (start past the end) returns 416",
        header: "bytes=5000-10000",
        expected: None,
    },
];

/// Range GETs on a 2048-byte blob (the spans of [`RANGE_CASES`] assume that size).
pub async fn ranges(api: &Api, repo: &str, rng: &mut Rng, report: &mut Report) -> Vec<String> {
    let blob = Blob::random(rng, 2048);
    let bytes = &blob.bytes;
    report
        .setup(
            PULL,
            Basis::Must("v1.1 §Pushing blobs"),
            "range requests: setup: push a 2048-byte blob",
            async |c| {
                push_blob_checked(c, api, repo, &blob).await;
            },
        )
        .await;
    for RangeCase {
        name,
        header,
        expected,
    } in RANGE_CASES
    {
        report
            .case(PULL, RANGES, name, async |c| {
                let reply = api
                    .request(Method::GET, &blob_path(repo, &blob.digest))
                    .header(RANGE, header)
                    .fetch()
                    .await;
                // A server that ignores Range answers 200 with everything (RFC 9110 allows it).
                if reply.status == 200 && reply.body.as_ref() == bytes.as_slice() {
                    return c.not_offered(
                        Feature::Ranges,
                        "a Range GET answered 200 with the whole blob",
                    );
                }
                c.offered(Feature::Ranges);
                let Some((first, last)) = expected else {
                    c.status(&reply, &[416]);
                    return;
                };
                if !c.status(&reply, &[206]) {
                    return;
                }
                c.body_eq(&reply, &bytes[first..=last]);
                c.header_eq(&reply, "content-length", &(last - first + 1).to_string());
                let content_range = reply.header("content-range").unwrap_or_default();
                let exact = format!("bytes {first}-{last}/{}", bytes.len());
                let unknown_total = format!("bytes {first}-{last}/*");
                c.check(
                    content_range == exact || content_range == unknown_total,
                    || format!("Content-Range: expected {exact:?}, got {content_range:?}"),
                );
            })
            .await;
    }
    vec![blob.digest.clone()]
}
