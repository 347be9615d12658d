//! The Push workflow, manifests: uploads by tag and digest, and the pushes a registry refuses.

use reqwest::Method;

use super::Ctx;
use super::basis::{Basis, Feature};
use super::client::{Api, manifest_path};
use super::data::{
    Algorithm, Blob, Image, Manifest, OCI_CONFIG, OCI_MANIFEST, Rng, image_manifest,
};
use super::pull::DELETING;
use super::report::{Report, Scope, Workflow};
use super::steps::{delete_all, push_blob_checked};

const PUSH: Scope = Scope::v1_1(Workflow::Push);
const PUSHING_MANIFESTS: Basis = Basis::Must("v1.1 §Pushing Manifests");
/// The `Docker-Content-Digest` of a manifest push "MUST be equal to the client provided
/// digest"; the spec does not say the header must be there.
const DIGEST_HEADER: &str = "v1.1 §Pushing Manifests: Docker-Content-Digest";

/// Runs the manifest half of the Push workflow.
pub async fn run(ctx: &Ctx, rng: &mut Rng, report: &mut Report) {
    let api = &ctx.api;
    let source = &ctx.repo("push-manifests");
    let image = Image::generate(rng, 1, Algorithm::Sha256);
    let no_layers = Manifest::from_json(
        OCI_MANIFEST,
        &image_manifest(image.config.descriptor(OCI_CONFIG), Vec::new()),
    );
    report.group("Push: manifests");
    report
        .setup(
            PUSH,
            PUSHING_MANIFESTS,
            "setup: push an image's config and layer",
            async |c| {
                for blob in image.blobs() {
                    push_blob_checked(c, api, source, blob).await;
                }
            },
        )
        .await;
    report
        .case(
            PUSH,
            Basis::Must("v1.1 §Pulling manifests"),
            "GET nonexistent manifest returns 404",
            async |c| {
                let reply = api.get_manifest(source, "test0").await;
                c.status(&reply, &[404]);
            },
        )
        .await;
    report
        .case(
            PUSH,
            PUSHING_MANIFESTS,
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
        .case(
            PUSH,
            // The v1.1 suite only warns when this is refused.
            Basis::Should("v1.1 §Pushing Manifests: the list of blobs MAY be empty"),
            "PUT manifest with no layers returns 201",
            async |c| {
                let reply = put(api, source, "emptylayer", &no_layers).await;
                c.status(&reply, &[201]);
                c.location(&reply);
            },
        )
        .await;
    report
        .case(
            PUSH,
            PUSHING_MANIFESTS,
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
            PUSHING_MANIFESTS,
            "PUT manifest by digest returns 201 with Location and Docker-Content-Digest",
            async |c| {
                let reply = put(api, source, &no_layers.digest, &no_layers).await;
                c.status(&reply, &[201]);
                c.header_eq_if_present(&reply, "docker-content-digest", &no_layers.digest);
                c.should(DIGEST_HEADER, |c| c.header(&reply, "docker-content-digest"));
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
            DELETING,
            "teardown: delete manifests and blobs",
            async |c| {
                let blobs: Vec<&str> = image.blobs().map(|blob| blob.digest.as_str()).collect();
                let manifests = [image.manifest.digest.as_str(), no_layers.digest.as_str()];
                delete_all(c, api, source, &manifests, &blobs).await;
            },
        )
        .await;
}

async fn put(api: &Api, repo: &str, reference: &str, manifest: &Manifest) -> super::client::Reply {
    api.put_manifest(repo, reference, manifest.media_type, manifest.bytes.clone())
        .await
}
/// Manifest pushes the registry refuses, or may refuse: what must be refused is a MUST, the
/// status and code of the refusal a SHOULD ([`super::expect::REFUSAL_DETAIL`]).
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
            Basis::Must("v1.1 §Pushing Manifests: the digest MUST be the client's"),
            "PUT manifest under a digest that does not match is refused (400 DIGEST_INVALID)",
            async |c| {
                let other = Blob::random(rng, 10);
                let reply = put(api, repo, &other.digest, &image.manifest).await;
                c.refused(&reply, 400, "DIGEST_INVALID");
                c.status(&api.head_manifest(repo, &other.digest).await, &[404]);
            },
        )
        .await;
    report
        .case(
            PUSH,
            Basis::Must("v1.1 §Push: a manifest refused for unknown blobs MUST give MANIFEST_BLOB_UNKNOWN"),
            "PUT manifest naming a blob never pushed is accepted (sparse image), or refused with MANIFEST_BLOB_UNKNOWN",
            async |c| {
                let reply = put(api, repo, "dangling", &dangling).await;
                if c.sparse_answer(&reply, Feature::SparseImage) {
                    // Cleanup only: whether deletes work is checked elsewhere.
                    api.delete(&manifest_path(repo, &dangling.digest)).await;
                }
            },
        )
        .await;
    report
        .case(
            PUSH,
            // The spec does not make a registry validate what it stores; every client expects it.
            Basis::Should("interoperability: a manifest is JSON (image-spec)"),
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
            Basis::Must("v1.1 §Pulling manifests: <name> MUST match the name grammar"),
            "PUT manifest to an invalid repository name is refused (400 NAME_INVALID)",
            async |c| {
                let reply = api
                    .request(Method::PUT, &manifest_path("invalid/UPPERCASE", "latest"))
                    .header(reqwest::header::CONTENT_TYPE, OCI_MANIFEST)
                    .body(image.manifest.bytes.clone())
                    .fetch()
                    .await;
                c.refused(&reply, 400, "NAME_INVALID");
            },
        )
        .await;
    report
        .case(
            PUSH,
            Basis::Must("v1.1 §Pulling manifests: a tag MUST be at most 128 characters"),
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
            // v1.1 only says registries "should avoid" names past the clients' limit.
            Basis::Should("v1.1 §Pulling manifests: the 255-character limit of clients"),
            "POST upload to a repository name of 256 characters returns 400 NAME_INVALID",
            async |c| {
                // Grammatical, but longer than the 255 characters clients can name.
                let long_name = vec!["abcdefghij".repeat(5); 5].join("/") + "/a";
                let reply = api.start_upload(&long_name).await;
                c.error(&reply, 400, "NAME_INVALID");
            },
        )
        .await;
}
