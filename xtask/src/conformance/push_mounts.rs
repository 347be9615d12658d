//! The Push workflow, cross-repository mounts: with `from` (an optional feature: a registry
//! that does not mount answers 202 and opens an upload), without `from` (anonymous mounts,
//! also optional), and of blobs the source does not have. The target repositories live in the
//! mount namespace (`--mount-namespace`).

use reqwest::Method;

use super::Ctx;
use super::basis::{Basis, Feature};
use super::client::{Api, Reply, blob_path};
use super::data::{Blob, Rng};
use super::pull::DELETING;
use super::report::{Report, Scope, Workflow};
use super::steps::{delete_all, push_blob_checked};

const PUSH: Scope = Scope::v1_1(Workflow::Push);
const MOUNTING: Basis = Basis::Must("v1.1 §Mounting a blob from another repository");
/// A mount that cannot mount: "it SHOULD return a 202", an upload session.
const FALLBACK: &str = "v1.1 §Mounting a blob: a registry unable to mount SHOULD answer 202";

/// `POST /v2/<target>/blobs/uploads/?mount=<digest>[&from=<source>]`.
async fn mount(api: &Api, target: &str, digest: &str, from: Option<&str>) -> Reply {
    let mut query = vec![("mount", digest)];
    query.extend(from.map(|from| ("from", from)));
    api.request(Method::POST, &format!("/v2/{target}/blobs/uploads/"))
        .query(&query)
        .header(reqwest::header::CONTENT_LENGTH, "0")
        .fetch()
        .await
}

/// Runs the mount checks.
pub async fn run(ctx: &Ctx, rng: &mut Rng, report: &mut Report) {
    let api = &ctx.api;
    let source = &ctx.repo("mount-source");
    let target = &ctx.mount_repo("mount-target");
    let blob = Blob::random(rng, 800);
    let missing = Blob::random(rng, 100);
    let upload_prefix = format!("/v2/{target}/blobs/uploads/");
    report.group("Push: cross-repository mount");
    report
        .case(
            PUSH,
            MOUNTING,
            "POST mount of an unknown blob without from opens an upload (202 with Location)",
            async |c| {
                let reply = mount(api, target, &missing.digest, None).await;
                // Nothing can have been mounted: a 201 would claim a blob that is not there.
                c.check(reply.status != 201, || {
                    format!(
                        "a blob nobody pushed was reported mounted: {}",
                        reply.describe()
                    )
                });
                c.should(FALLBACK, |c| {
                    c.status(&reply, &[202]);
                    c.location(&reply);
                });
            },
        )
        .await;
    report
        .setup(
            PUSH,
            MOUNTING,
            "setup: push the blob to mount into the source repository",
            async |c| {
                push_blob_checked(c, api, source, &blob).await;
            },
        )
        .await;
    let mut mounted: Option<Reply> = None;
    report
        .case(
            PUSH,
            MOUNTING,
            "POST mount from another repository returns 201, or 202 where the registry does not mount",
            async |c| {
                let reply = mount(api, target, &blob.digest, Some(source)).await;
                c.status(&reply, &[201, 202]);
                c.location(&reply);
                match reply.status {
                    201 => c.offered(Feature::CrossMount),
                    202 => c.not_offered(Feature::CrossMount, "a mount with from answered 202"),
                    _ => {}
                }
                mounted = Some(reply);
            },
        )
        .await;
    report
        .case(
            PUSH,
            Basis::Feature(
                Feature::CrossMount,
                "v1.1 §Mounting a blob: 201 with Location",
            ),
            "A 201 mount answers the blob's Location, and the blob is there",
            async |c| {
                let Some(reply) = mounted.as_ref().filter(|reply| reply.status == 201) else {
                    return c.skip("the mount did not answer 201");
                };
                let location = reply.location().unwrap_or_default();
                c.header_eq_if_present(reply, "docker-content-digest", &blob.digest);
                let expected = blob_path(target, &blob.digest);
                c.check(api.url(location) == api.url(&expected), || {
                    format!("Location {location:?} should name {expected}")
                });
                let fetched = api.get(location).await;
                c.status(&fetched, &[200]);
                c.body_eq(&fetched, &blob.bytes);
            },
        )
        .await;
    let mut fallback: Option<Reply> = None;
    report
        .case(
            PUSH,
            MOUNTING,
            "POST mount of a blob missing from the source opens an upload (202)",
            async |c| {
                let reply = mount(api, target, &missing.digest, Some(source)).await;
                c.check(reply.status != 201, || {
                    format!(
                        "a blob the source lacks was reported mounted: {}",
                        reply.describe()
                    )
                });
                c.should(FALLBACK, |c| {
                    c.status(&reply, &[202]);
                    if let Some(location) = c.location(&reply) {
                        c.check(
                            api.url(&location).starts_with(&api.url(&upload_prefix)),
                            || format!("Location {location:?} should start with {upload_prefix}"),
                        );
                    }
                });
                fallback = Some(reply);
            },
        )
        .await;
    report
        .case(
            PUSH,
            Basis::Must("v1.1 §Mounting a blob: a 202 means the upload session has begun"),
            "A 202 mount fallback's upload session takes the blob",
            async |c| {
                let Some(reply) = fallback.as_ref().filter(|reply| reply.status == 202) else {
                    return c.skip("the mount did not answer 202");
                };
                let Some(location) = reply.location() else {
                    return c.fail("the 202 answered no upload Location");
                };
                let finished = api
                    .finish_upload(location, &missing.digest, missing.bytes.clone())
                    .await;
                c.status(&finished, &[201]);
                c.blob_is(api, target, &missing).await;
            },
        )
        .await;
    let anonymous_target = &ctx.mount_repo("mount-anonymous");
    report
        .case(
            PUSH,
            MOUNTING,
            "POST mount of a known blob without from returns 201, or 202 where not supported",
            async |c| {
                let reply = mount(api, anonymous_target, &blob.digest, None).await;
                c.status(&reply, &[201, 202]);
                c.location(&reply);
                match reply.status {
                    201 => c.offered(Feature::AnonymousMount),
                    202 => {
                        c.not_offered(Feature::AnonymousMount, "a mount without from answered 202")
                    }
                    _ => {}
                }
            },
        )
        .await;
    report
        .case(
            PUSH,
            Basis::Feature(
                Feature::AnonymousMount,
                "v1.1 §Mounting a blob: the registry MAY treat from as optional",
            ),
            "An anonymous mount leaves the blob in the target repository",
            async |c| c.blob_is(api, anonymous_target, &blob).await,
        )
        .await;
    report
        .teardown(
            PUSH,
            DELETING,
            "teardown: delete the mounted blobs",
            async |c| {
                delete_all(c, api, source, &[], &[&blob.digest]).await;
                delete_all(c, api, target, &[], &[&blob.digest, &missing.digest]).await;
                delete_all(c, api, anonymous_target, &[], &[&blob.digest]).await;
            },
        )
        .await;
}
