//! The Content Management workflow: deleting tags, manifests and blobs, and what must (and must
//! not) disappear with them.

use super::Ctx;
use super::basis::{Basis, Feature};
use super::checks::Checks;
use super::client::{Api, Reply, blob_path, manifest_path};
use super::data::{
    Algorithm, Blob, Image, Manifest, OCI_CONFIG, OCI_MANIFEST, Rng, image_manifest,
};
use super::expect::REFUSAL_DETAIL;
use super::pull::DELETING;
use super::report::{Report, Scope, Workflow};
use super::steps::{delete_all, push_blob_checked, push_image_checked, push_manifest_checked};

const MANAGEMENT: Scope = Scope::v1_1(Workflow::ContentManagement);
const DELETING_TAGS: Basis = Basis::Must("v1.1 §Deleting tags");
const DELETING_MANIFESTS: Basis = Basis::Must("v1.1 §Deleting Manifests");
const DELETING_BLOBS: Basis = Basis::Must("v1.1 §Deleting Blobs");

/// Judges the answer to a `DELETE`: 202 (`feature` is offered; returns true), or 400 or 405
/// when deletion is disabled (v1.1 §Content Management: the registry "MUST respond with either
/// a 400 Bad Request or a 405 Method Not Allowed"); anything else fails.
pub fn deleted(c: &mut Checks, reply: &Reply, feature: Feature) -> bool {
    match reply.status {
        202 => {
            c.offered(feature);
            true
        }
        400 | 405 => {
            c.json_error_shape(reply);
            c.not_offered(feature, format!("DELETE answered {}", reply.status));
            false
        }
        _ => {
            c.status(reply, &[202, 400, 405]);
            false
        }
    }
}

/// Runs the Content Management workflow.
pub async fn run(ctx: &Ctx, rng: &mut Rng, report: &mut Report) {
    let api = &ctx.api;
    let repo = &ctx.repo("management");
    let other_repo = &ctx.repo("management-other");
    let image = Image::generate(rng, 1, Algorithm::Sha256);
    // A second manifest over the same config, with its own tags, deleted by digest.
    let doomed = Manifest::from_json(
        OCI_MANIFEST,
        &image_manifest(image.config.descriptor(OCI_CONFIG), Vec::new()),
    );
    let shared = Blob::random(rng, 900);
    let missing = Blob::random(rng, 10);
    report.group("Content Management: deletes");

    report
        .setup(MANAGEMENT, Basis::Must("v1.1 §Pushing Manifests"), "setup: push an image tagged tagtest0 and keep, and a manifest tagged gone-a and gone-b", async |c| {
            if push_image_checked(c, api, repo, "tagtest0", &image).await {
                push_manifest_checked(c, api, repo, "keep", &image.manifest).await;
                for tag in ["gone-a", "gone-b"] {
                    push_manifest_checked(c, api, repo, tag, &doomed).await;
                }
            }
        })
        .await;

    report
        .case(
            MANAGEMENT,
            // The spec allows 400 or 405 when tag deletion is disabled; a 400 must say so
            // (UNSUPPORTED, as the v1.1 suite requires), or it reads as a bad request.
            DELETING_TAGS,
            "DELETE of a tag returns 202, or 400 UNSUPPORTED or 405 when tag deletion is disabled",
            async |c| {
                let reply = api.delete(&manifest_path(repo, "tagtest0")).await;
                if !deleted(c, &reply, Feature::TagDelete) && reply.status == 400 {
                    c.error_code(&reply, "UNSUPPORTED");
                }
            },
        )
        .await;
    report
        .case(
            MANAGEMENT,
            Basis::Feature(Feature::TagDelete, "v1.1 §Deleting tags"),
            "A deleted tag is gone, its manifest stays reachable",
            async |c| {
                c.status(&api.head_manifest(repo, "tagtest0").await, &[404]);
                c.status(&api.get_manifest(repo, "tagtest0").await, &[404]);
                c.status(&api.get_manifest(repo, "keep").await, &[200]);
                c.status(
                    &api.get_manifest(repo, &image.manifest.digest).await,
                    &[200],
                );
                let tags = tags_of(c, api, repo).await;
                c.check(!tags.iter().any(|tag| tag == "tagtest0"), || {
                    format!("tagtest0 still listed: {tags:?}")
                });
            },
        )
        .await;
    report
        .case(
            MANAGEMENT,
            DELETING_MANIFESTS,
            "DELETE of a manifest by digest returns 202, or 400 or 405 when disabled",
            async |c| {
                let reply = api.delete(&manifest_path(repo, &doomed.digest)).await;
                deleted(c, &reply, Feature::ManifestDelete);
            },
        )
        .await;
    let manifest_delete = Basis::Feature(Feature::ManifestDelete, "v1.1 §Deleting Manifests");
    report
        .case(
            MANAGEMENT,
            manifest_delete,
            "GET and HEAD of a deleted manifest return 404",
            async |c| {
                c.status(&api.get_manifest(repo, &doomed.digest).await, &[404]);
                c.status(&api.head_manifest(repo, &doomed.digest).await, &[404]);
            },
        )
        .await;
    report
        .case(
            MANAGEMENT,
            manifest_delete,
            "Deleting a manifest by digest deletes its tags",
            async |c| {
                let tags = tags_of(c, api, repo).await;
                c.check(!tags.iter().any(|tag| tag.starts_with("gone-")), || {
                    format!("the deleted manifest's tags are still listed: {tags:?}")
                });
                c.check(tags.iter().any(|tag| tag == "keep"), || {
                    format!("the tag of the other manifest vanished: {tags:?}")
                });
                c.status(&api.get_manifest(repo, "gone-a").await, &[404]);
            },
        )
        .await;
    report
        .case(
            MANAGEMENT,
            manifest_delete,
            "DELETE of an unknown manifest is refused (404 MANIFEST_UNKNOWN)",
            async |c| {
                let reply = api.delete(&manifest_path(repo, &missing.digest)).await;
                c.refused(&reply, 404, "MANIFEST_UNKNOWN");
            },
        )
        .await;

    let layer = &image.layers[0];
    report
        .case(
            MANAGEMENT,
            DELETING_BLOBS,
            "DELETE of a blob returns 202, or 400 or 405 when disabled",
            async |c| {
                let reply = api.delete(&blob_path(repo, &layer.digest)).await;
                deleted(c, &reply, Feature::BlobDelete);
            },
        )
        .await;
    let blob_delete = Basis::Feature(Feature::BlobDelete, "v1.1 §Deleting Blobs");
    report
        .case(
            MANAGEMENT,
            blob_delete,
            "GET and HEAD of a deleted blob return 404",
            async |c| {
                let path = blob_path(repo, &layer.digest);
                let get = api.get(&path).await;
                if c.status(&get, &[404]) {
                    c.json_error_shape(&get);
                    c.should(REFUSAL_DETAIL, |c| c.error_code(&get, "BLOB_UNKNOWN"));
                }
                c.status(&api.head(&path).await, &[404]);
            },
        )
        .await;
    report
        .case(
            MANAGEMENT,
            blob_delete,
            "DELETE of an unknown blob returns 404 BLOB_UNKNOWN",
            async |c| {
                let reply = api.delete(&blob_path(repo, &missing.digest)).await;
                if c.status(&reply, &[404]) {
                    c.json_error_shape(&reply);
                    c.should(REFUSAL_DETAIL, |c| c.error_code(&reply, "BLOB_UNKNOWN"));
                }
            },
        )
        .await;
    report
        .case(
            MANAGEMENT,
            blob_delete,
            "Deleting a blob in one repository leaves it in another",
            async |c| {
                if !(push_blob_checked(c, api, repo, &shared).await
                    && push_blob_checked(c, api, other_repo, &shared).await)
                {
                    return;
                }
                c.status(&api.delete(&blob_path(repo, &shared.digest)).await, &[202]);
                c.status(&api.head(&blob_path(repo, &shared.digest)).await, &[404]);
                c.blob_is(api, other_repo, &shared).await;
            },
        )
        .await;

    report
        .teardown(
            MANAGEMENT,
            DELETING,
            "teardown: delete what is left",
            async |c| {
                let blobs: Vec<&str> = image.blobs().map(|blob| blob.digest.as_str()).collect();
                delete_all(
                    c,
                    api,
                    repo,
                    &[&image.manifest.digest, &doomed.digest],
                    &blobs,
                )
                .await;
                delete_all(c, api, other_repo, &[], &[&shared.digest]).await;
            },
        )
        .await;
}

/// The repository's tags (status 200 asserted).
async fn tags_of(c: &mut Checks, api: &Api, repo: &str) -> Vec<String> {
    let reply = api.get(&format!("/v2/{repo}/tags/list")).await;
    c.status(&reply, &[200]);
    let json = c.json(&reply).unwrap_or_default();
    json["tags"]
        .as_array()
        .map(|tags| {
            tags.iter()
                .filter_map(|tag| tag.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
