//! Manifest features newer than v1.1.1 (spec main and the newer harness): tag parameters on
//! manifest PUT, sha512 manifests, the data sets of [`super::dataset_builders`], and stricter
//! manifest validation.

use reqwest::Method;

use super::Ctx;
use super::basis::{Basis, Feature};
use super::client::{Api, manifest_path};
use super::data::{
    Algorithm, Image, Manifest, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST, Rng, image_index,
    image_manifest, pretty,
};
use super::dataset_builders::all_sets;
use super::datasets::run_set;
use super::pull::DELETING;
use super::report::{Report, Scope, Workflow};
use super::steps::{delete_all, push_blob_checked};

const PUSH: Scope = Scope::newer(Workflow::Push);
const TAG_PARAMETERS: Basis = Basis::Feature(
    Feature::TagParameters,
    "main §Pushing Manifests: tag parameters",
);
/// What a registry refuses to store, though the spec does not make it validate manifests.
const VALIDATION: Basis = Basis::Should("interoperability: what clients reject must not be stored");

/// Runs the newer manifest checks.
pub async fn run(ctx: &Ctx, rng: &mut Rng, report: &mut Report) {
    let api = &ctx.api;
    let repo = &ctx.repo("newer-manifests");
    for set in all_sets(rng) {
        run_set(api, repo, &set, report).await;
    }
    // Only push checks below: their setups are not needed otherwise.
    if !report.selects_any(&[Workflow::Push]) {
        return;
    }
    for algorithm in [Algorithm::Sha256, Algorithm::Sha512] {
        report.group(&format!("Newer: tag parameters ({})", algorithm.name()));
        tag_parameters(api, repo, rng, algorithm, report).await;
    }
    report.group("Newer: manifest validation");
    validation(api, repo, rng, report).await;
}

/// `PUT /v2/<name>/manifests/<digest>?tag=a&tag=b` tags in one request and answers `OCI-Tag`.
async fn tag_parameters(
    api: &Api,
    repo: &str,
    rng: &mut Rng,
    algorithm: Algorithm,
    report: &mut Report,
) {
    let image = Image::generate(rng, 1, algorithm);
    let index = Manifest::raw(
        algorithm,
        OCI_INDEX,
        pretty(&image_index(vec![
            image.manifest.platform_descriptor("linux", "amd64"),
        ])),
    );
    let alg = algorithm.name();
    let tags = [format!("tag-param-{alg}-0"), format!("tag-param-{alg}-1")];
    let mut answered = None;
    let setup_basis = match algorithm {
        Algorithm::Sha256 => Basis::Must("v1.1 §Pushing Manifests"),
        Algorithm::Sha512 => {
            Basis::Feature(Feature::Sha512Manifests, "image-spec §Digests: sha512")
        }
    };
    report
        .setup(
            PUSH,
            setup_basis,
            &format!("{alg} tag parameters: setup: push the image by digest"),
            async |c| {
                for blob in image.blobs() {
                    push_blob_checked(c, api, repo, blob).await;
                }
                let manifest = &image.manifest;
                let reply = api
                    .put_manifest(
                        repo,
                        &manifest.digest,
                        manifest.media_type,
                        manifest.bytes.clone(),
                    )
                    .await;
                if algorithm == Algorithm::Sha512 && (400..500).contains(&reply.status) {
                    let reason = format!("a PUT by sha512 digest answered {}", reply.status);
                    return c.not_offered(Feature::Sha512Manifests, reason);
                }
                c.status(&reply, &[201]);
            },
        )
        .await;
    report
        .case(
            PUSH,
            TAG_PARAMETERS,
            &format!("{alg} tag parameters: PUT by digest with ?tag=&tag= returns 201 and OCI-Tag"),
            async |c| {
                let query: Vec<(&str, &str)> =
                    tags.iter().map(|tag| ("tag", tag.as_str())).collect();
                let reply = api
                    .request(Method::PUT, &manifest_path(repo, &index.digest))
                    .query(&query)
                    .header(reqwest::header::CONTENT_TYPE, index.media_type)
                    .body(index.bytes.clone())
                    .fetch()
                    .await;
                c.status(&reply, &[201]);
                c.header_eq_if_present(&reply, "docker-content-digest", &index.digest);
                let answered_tags = reply.header_values("oci-tag");
                // Clients learn that the parameters were honoured from OCI-Tag, and push the
                // tags one by one when it is missing.
                if reply.status == 201 && answered_tags.is_empty() {
                    c.not_offered(
                        Feature::TagParameters,
                        "a PUT with ?tag= answered no OCI-Tag",
                    );
                    return;
                }
                c.offered(Feature::TagParameters);
                for tag in &tags {
                    c.check(answered_tags.contains(tag), || {
                        format!("OCI-Tag headers {answered_tags:?} do not name {tag}")
                    });
                }
                answered = Some(reply);
            },
        )
        .await;
    report
        .case(
            PUSH,
            TAG_PARAMETERS,
            &format!("{alg} tag parameters: each tag resolves to the manifest"),
            async |c| {
                if answered.as_ref().is_none_or(|reply| reply.status != 201) {
                    return c.skip("the tagged PUT failed");
                }
                for tag in &tags {
                    let reply = api.get_manifest(repo, tag).await;
                    c.status(&reply, &[200]);
                    c.body_eq(&reply, &index.bytes);
                    c.header_eq(&reply, "docker-content-digest", &index.digest);
                }
            },
        )
        .await;
    report
        .teardown(
            PUSH,
            DELETING,
            &format!("{alg} tag parameters: teardown"),
            async |c| {
                let blobs: Vec<&str> = image.blobs().map(|blob| blob.digest.as_str()).collect();
                delete_all(
                    c,
                    api,
                    repo,
                    &[&index.digest, &image.manifest.digest],
                    &blobs,
                )
                .await;
            },
        )
        .await;
}

/// Manifest PUTs a registry should refuse, and one it must.
async fn validation(api: &Api, repo: &str, rng: &mut Rng, report: &mut Report) {
    let image = Image::generate(rng, 1, Algorithm::Sha256);
    // Never pushed as it is: the digest check below must find nothing stored under its digest.
    let unpushed = Manifest::from_json(
        OCI_MANIFEST,
        &image_manifest(image.config.descriptor(OCI_CONFIG), Vec::new()),
    );
    report
        .setup(
            PUSH,
            Basis::Must("v1.1 §Pushing blobs"),
            "manifest validation: setup: push an image's blobs",
            async |c| {
                for blob in image.blobs() {
                    push_blob_checked(c, api, repo, blob).await;
                }
            },
        )
        .await;
    report
        .case(
            PUSH,
            // "If a manifest includes a mediaType field, clients MUST set the Content-Type
            // header to the value": the MUST binds clients, not the registry.
            Basis::Should("v1.1 §Pushing Manifests: mediaType and Content-Type agree"),
            "PUT manifest whose mediaType disagrees with Content-Type returns 400 MANIFEST_INVALID",
            async |c| {
                let manifest = &image.manifest;
                let reply = api
                    .put_manifest(repo, "mismatch", OCI_INDEX, manifest.bytes.clone())
                    .await;
                c.error(&reply, 400, "MANIFEST_INVALID");
            },
        )
        .await;
    report
        .case(
            PUSH,
            Basis::Must("v1.1 §Pushing Manifests: the digest MUST be the client's"),
            "PUT manifest with bytes changed after digesting is refused (400 DIGEST_INVALID) and not stored",
            async |c| {
                let mut bytes = unpushed.bytes.clone();
                bytes.extend_from_slice(b"  ");
                let reply = api
                    .put_manifest(repo, &unpushed.digest, unpushed.media_type, bytes)
                    .await;
                c.refused(&reply, 400, "DIGEST_INVALID");
                let stored = api.head_manifest(repo, &unpushed.digest).await;
                c.status(&stored, &[404]);
            },
        )
        .await;
    report
        .case(PUSH, VALIDATION, "PUT manifest with schemaVersion 1 content under an OCI type returns 400 MANIFEST_INVALID", async |c| {
            let body = br#"{"schemaVersion":1,"name":"x","tag":"y","fsLayers":[],"history":[]}"#;
            let reply = api
                .put_manifest(repo, "schema1", OCI_MANIFEST, body.to_vec())
                .await;
            c.error(&reply, 400, "MANIFEST_INVALID");
        })
        .await;
    report
        .teardown(PUSH, DELETING, "manifest validation: teardown", async |c| {
            let blobs: Vec<&str> = image.blobs().map(|blob| blob.digest.as_str()).collect();
            delete_all(c, api, repo, &[&image.manifest.digest], &blobs).await;
        })
        .await;
}
