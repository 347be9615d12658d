//! The Push workflow, second half: cross-repository mounts and manifest uploads with their
//! error answers.

use reqwest::Method;

use super::Ctx;
use super::client::{Api, Fetch, blob_path, manifest_path};
use super::data::{
    Algorithm, Blob, Image, Manifest, OCI_CONFIG, OCI_MANIFEST, Rng, image_manifest,
};
use super::report::{Report, Scope, Workflow};
use super::steps::{delete_all, push_blob_checked};

const PUSH: Scope = Scope::v1_1(Workflow::Push);

/// Runs the mount and manifest half of the Push workflow.
pub async fn run(ctx: &Ctx, rng: &mut Rng, report: &mut Report) {
    let api = &ctx.api;
    let source = &ctx.repo("push-manifests");
    let target = &ctx.repo("push-mount-target");
    let mounted = Blob::random(rng, 800);
    report.group("Push: cross-repository mount");
    mounts(api, source, target, &mounted, rng, report).await;

    let image = Image::generate(rng, 1, Algorithm::Sha256);
    let no_layers = Manifest::from_json(
        OCI_MANIFEST,
        &image_manifest(image.config.descriptor(OCI_CONFIG), Vec::new()),
    );
    report.group("Push: manifests");
    report
        .setup(PUSH, "setup: push an image's config and layer", async |c| {
            for blob in image.blobs() {
                push_blob_checked(c, api, source, blob).await;
            }
        })
        .await;
    report
        .case(PUSH, "GET nonexistent manifest returns 404", async |c| {
            let reply = api.get_manifest(source, "test0").await;
            c.status(&reply, &[404]);
        })
        .await;
    report
        .case(
            PUSH,
            "PUT manifest under four tags returns 201 with Location",
            async |c| {
                for tag in ["test0", "test1", "test2", "test3"] {
                    let reply = put(api, source, tag, &image.manifest).await;
                    c.status(&reply, &[201]);
                    c.location(&reply);
                    c.header_eq_if_present(&reply, "docker-content-digest", &image.manifest.digest);
                }
            },
        )
        .await;
    report
        .case(PUSH, "PUT manifest with no layers returns 201", async |c| {
            let reply = put(api, source, "emptylayer", &no_layers).await;
            c.status(&reply, &[201]);
            c.location(&reply);
        })
        .await;
    report
        .case(
            PUSH,
            "GET manifest by digest returns the pushed bytes",
            async |c| {
                let reply = api.get_manifest(source, &image.manifest.digest).await;
                c.status(&reply, &[200]);
                c.body_eq(&reply, &image.manifest.bytes);
            },
        )
        .await;
    report
        .case(
            PUSH,
            "PUT manifest by digest returns 201 with Location and Docker-Content-Digest",
            async |c| {
                let reply = put(api, source, &no_layers.digest, &no_layers).await;
                c.status(&reply, &[201]);
                c.header_eq(&reply, "docker-content-digest", &no_layers.digest);
                if let Some(location) = c.location(&reply) {
                    let fetched = api
                        .request(Method::GET, &location)
                        .header(reqwest::header::ACCEPT, OCI_MANIFEST)
                        .fetch()
                        .await;
                    c.status(&fetched, &[200]);
                    c.body_eq(&fetched, &no_layers.bytes);
                }
            },
        )
        .await;
    manifest_errors(api, source, &image, rng, report).await;

    report
        .teardown(
            PUSH,
            "teardown: delete manifests, blobs and the mounted blob",
            async |c| {
                let blobs: Vec<&str> = image.blobs().map(|blob| blob.digest.as_str()).collect();
                let manifests = [image.manifest.digest.as_str(), no_layers.digest.as_str()];
                delete_all(c, api, source, &manifests, &blobs).await;
                delete_all(c, api, source, &[], &[&mounted.digest]).await;
                delete_all(c, api, target, &[], &[&mounted.digest]).await;
            },
        )
        .await;
}

async fn put(api: &Api, repo: &str, reference: &str, manifest: &Manifest) -> super::client::Reply {
    api.put_manifest(repo, reference, manifest.media_type, manifest.bytes.clone())
        .await
}

/// Cross-repository mounts: success (201), fallbacks (202) and mounts without `from`.
async fn mounts(
    api: &Api,
    source: &str,
    target: &str,
    blob: &Blob,
    rng: &mut Rng,
    report: &mut Report,
) {
    let missing = Blob::random(rng, 100);
    let mount = async |digest: &str, from: Option<&str>| {
        let mut query = vec![("mount", digest)];
        query.extend(from.map(|from| ("from", from)));
        api.request(Method::POST, &format!("/v2/{target}/blobs/uploads/"))
            .query(&query)
            .header(reqwest::header::CONTENT_LENGTH, "0")
            .fetch()
            .await
    };
    let upload_prefix = format!("/v2/{target}/blobs/uploads/");
    report
        .case(
            PUSH,
            "POST mount without from returns 202 with an upload Location",
            async |c| {
                let reply = mount(&missing.digest, None).await;
                c.status(&reply, &[202]);
                c.location(&reply);
            },
        )
        .await;
    report
        .setup(
            PUSH,
            "setup: push the blob to mount into the source repository",
            async |c| {
                push_blob_checked(c, api, source, blob).await;
            },
        )
        .await;
    let mut mounted: Option<super::client::Reply> = None;
    let mut fallback: Option<super::client::Reply> = None;
    report
        .case(
            PUSH,
            "POST mount from another repository returns 201 or 202",
            async |c| {
                let reply = mount(&blob.digest, Some(source)).await;
                c.status(&reply, &[201, 202]);
                c.location(&reply);
                if reply.status == 202 {
                    c.note("the registry does not mount; it opened an upload session instead");
                }
                mounted = Some(reply);
            },
        )
        .await;
    report
        .case(
            PUSH,
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
    report
        .case(
            PUSH,
            "POST mount of a blob missing from the source falls back to 202",
            async |c| {
                let reply = mount(&missing.digest, Some(source)).await;
                c.status(&reply, &[202]);
                if let Some(location) = c.location(&reply) {
                    c.check(
                        api.url(&location).starts_with(&api.url(&upload_prefix)),
                        || format!("Location {location:?} should start with {upload_prefix}"),
                    );
                }
                fallback = Some(reply);
            },
        )
        .await;
    report
        .case(
            PUSH,
            "A 202 mount fallback's upload session takes the blob",
            async |c| {
                let Some(location) = fallback.as_ref().and_then(|reply| reply.location()) else {
                    return c.fail("the mount fallback answered no upload Location");
                };
                let finished = api
                    .finish_upload(location, &missing.digest, missing.bytes.clone())
                    .await;
                c.status(&finished, &[201]);
                c.blob_is(api, target, &missing).await;
            },
        )
        .await;
    report
        .case(
            PUSH,
            "POST mount of a known blob without from returns 201 or 202",
            async |c| {
                let reply = mount(&blob.digest, None).await;
                c.status(&reply, &[201, 202]);
                c.location(&reply);
                if reply.status == 201 {
                    c.note("the registry mounts automatically when from is missing");
                }
            },
        )
        .await;
}

/// Manifest pushes the registry must refuse, each with its spec error code.
async fn manifest_errors(api: &Api, repo: &str, image: &Image, rng: &mut Rng, report: &mut Report) {
    let missing_blob = Blob::random(rng, 300);
    let dangling = Manifest::from_json(
        OCI_MANIFEST,
        &image_manifest(
            image.config.descriptor(OCI_CONFIG),
            vec![missing_blob.descriptor(super::data::OCI_LAYER_GZIP)],
        ),
    );
    report
        .case(
            PUSH,
            "PUT manifest under a digest that does not match returns 400 DIGEST_INVALID",
            async |c| {
                let other = Blob::random(rng, 10);
                let reply = put(api, repo, &other.digest, &image.manifest).await;
                c.error(&reply, 400, "DIGEST_INVALID");
            },
        )
        .await;
    report
        .case(
            PUSH,
            "PUT manifest referencing a missing blob returns 400 MANIFEST_BLOB_UNKNOWN",
            async |c| {
                let reply = put(api, repo, "dangling", &dangling).await;
                c.error(&reply, 400, "MANIFEST_BLOB_UNKNOWN");
            },
        )
        .await;
    report
        .case(
            PUSH,
            "PUT manifest that is not JSON returns 400 MANIFEST_INVALID",
            async |c| {
                let reply = api
                    .put_manifest(repo, "garbage", OCI_MANIFEST, b"blablabla".to_vec())
                    .await;
                c.error(&reply, 400, "MANIFEST_INVALID");
            },
        )
        .await;
    report
        .case(
            PUSH,
            "PUT manifest to an invalid repository name returns 400 NAME_INVALID",
            async |c| {
                let reply = api
                    .request(Method::PUT, &manifest_path("invalid/UPPERCASE", "latest"))
                    .header(reqwest::header::CONTENT_TYPE, OCI_MANIFEST)
                    .body(image.manifest.bytes.clone())
                    .fetch()
                    .await;
                c.error(&reply, 400, "NAME_INVALID");
            },
        )
        .await;
    report
        .case(
            PUSH,
            "PUT manifest under a 129-character tag is refused (400 or 404) and not listed",
            async |c| {
                let tag = format!("t{}", "a".repeat(128));
                let reply = put(api, repo, &tag, &image.manifest).await;
                c.status(&reply, &[400, 404]);
                let listed = api.get(&format!("/v2/{repo}/tags/list")).await;
                let tags = listed.json().unwrap_or_default()["tags"].clone();
                let stored = tags.as_array().into_iter().flatten().any(|t| *t == *tag);
                c.check(!stored, || format!("the over-long tag was stored: {tags}"));
            },
        )
        .await;
    report
        .case(
            PUSH,
            "POST upload to a repository name of 256 characters returns 400 NAME_INVALID",
            async |c| {
                // Grammatical, but longer than the spec's 255-character limit.
                let long_name = vec!["abcdefghij".repeat(5); 5].join("/") + "/a";
                let reply = api.start_upload(&long_name).await;
                c.error(&reply, 400, "NAME_INVALID");
            },
        )
        .await;
}
