//! Pull requests with references and paths that cannot name content: malformed digests, and
//! paths with dot-segments.

use super::Ctx;
use super::basis::Basis;
use super::client::Api;
use super::data::OCI_MANIFEST;
use super::report::{Report, Scope, Workflow};

const PULL: Scope = Scope::v1_1(Workflow::Pull);

/// A digest reference that is not a digest (`sha256:totallywrong`): the v1.1 suite reads it
/// (older versions pushed "blablabla" to it) and wants 400 with a spec error body, or 404.
pub async fn malformed_references(api: &Api, repo: &str, report: &mut Report) {
    const MALFORMED: &str = "sha256:totallywrong";
    let basis = Basis::Must("v1.1 §Error Codes; the v1.1 suite's \"400 response body\" check");
    report
        .case(
            PULL,
            basis,
            "GET manifest by the malformed digest sha256:totallywrong returns 400 (with a spec error body) or 404",
            async |c| {
                let reply = api.get_manifest(repo, MALFORMED).await;
                if c.status(&reply, &[400, 404]) {
                    if reply.status == 400 {
                        c.error_codes(&reply);
                    } else {
                        c.json_error_shape(&reply);
                    }
                }
            },
        )
        .await;
    report
        .case(
            PULL,
            basis,
            "PUT of \"blablabla\" to the malformed digest sha256:totallywrong returns 400 (with a spec error body) or 404",
            async |c| {
                let reply = api
                    .put_manifest(repo, MALFORMED, OCI_MANIFEST, b"blablabla".to_vec())
                    .await;
                if c.status(&reply, &[400, 404]) && reply.status == 400 {
                    c.error_codes(&reply);
                }
            },
        )
        .await;
}

/// Paths with `..` segments, plain or percent-encoded. Nothing in the spec covers them, so this
/// is a safety expectation: a registry may resolve dot-segments as RFC 3986 does (and serve
/// what the resolved path names) or refuse them, but must not answer 5xx, and a path that
/// resolves to nothing in the API must be refused.
pub async fn dot_segments(ctx: &Ctx, tag: &str, digest: &str, report: &mut Report) {
    let basis = Basis::Should("safety: dot-segments resolved as in RFC 3986 or refused");
    report
        .case(
            PULL,
            basis,
            "Paths with .. or %2e%2e segments are resolved or refused, never served outside the API",
            async |c| {
                let repo = ctx.repo("pull");
                let name = repo.rsplit('/').next().unwrap_or_default();
                // (path, whether it resolves to the pushed manifest)
                let paths = [
                    (format!("/v2/{repo}/../{name}/manifests/{tag}"), true),
                    (format!("/v2/{repo}/%2e%2e/{name}/manifests/{tag}"), true),
                    (format!("/v2/{repo}/manifests/..%2f..%2f..%2f..%2fetc%2fpasswd"), false),
                    (format!("/v2/{repo}/blobs/..%2f{digest}"), false),
                    (format!("/v2/..%2f..%2f{repo}/blobs/{digest}"), false),
                ];
                for (path, resolves) in paths {
                    match ctx.api.raw_get_status(&path).await {
                        Ok(200) if resolves => {}
                        Ok(status) => {
                            c.check((300..500).contains(&status), || {
                                format!("GET {path}: expected a 3xx or 4xx refusal, got {status}")
                            });
                        }
                        Err(error) if ctx.api.base().scheme() != "http" => {
                            c.skip(error);
                            return;
                        }
                        Err(error) => c.fail(format!("GET {path}: {error}")),
                    }
                }
            },
        )
        .await;
}
