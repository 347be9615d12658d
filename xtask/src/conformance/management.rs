//! The Content Management workflow: deleting tags, manifests and blobs, and what must (and must
//! not) disappear with them.

use super::Ctx;
use super::client::{Api, blob_path, manifest_path};
use super::data::{
    Algorithm, Blob, Image, Manifest, OCI_CONFIG, OCI_MANIFEST, Rng, image_manifest,
};
use super::report::{Checks, Report, Scope, Workflow};
use super::steps::{delete_all, push_blob_checked, push_image_checked, push_manifest_checked};

const MANAGEMENT: Scope = Scope::v1_1(Workflow::ContentManagement);

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
        .setup(MANAGEMENT, "setup: push an image tagged tagtest0 and keep, and a manifest tagged gone-a and gone-b", async |c| {
            if push_image_checked(c, api, repo, "tagtest0", &image).await {
                push_manifest_checked(c, api, repo, "keep", &image.manifest).await;
                for tag in ["gone-a", "gone-b"] {
                    push_manifest_checked(c, api, repo, tag, &doomed).await;
                }
            }
        })
        .await;

    let mut tag_deleted = false;
    report
        .case(
            MANAGEMENT,
            "DELETE of a tag returns 202 (or 400 UNSUPPORTED, or 405)",
            async |c| {
                let reply = api.delete(&manifest_path(repo, "tagtest0")).await;
                if c.status(&reply, &[202, 400, 405]) && reply.status == 400 {
                    c.error_code(&reply, "UNSUPPORTED");
                }
                tag_deleted = reply.status == 202;
            },
        )
        .await;
    report
        .case(
            MANAGEMENT,
            "A deleted tag is gone, its manifest stays reachable",
            async |c| {
                if !tag_deleted {
                    return c.skip("the registry does not delete tags");
                }
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
            "DELETE of a manifest by digest returns 202",
            async |c| {
                let reply = api.delete(&manifest_path(repo, &doomed.digest)).await;
                c.status(&reply, &[202]);
            },
        )
        .await;
    report
        .case(
            MANAGEMENT,
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
            "DELETE of an unknown manifest returns 404 MANIFEST_UNKNOWN",
            async |c| {
                let reply = api.delete(&manifest_path(repo, &missing.digest)).await;
                c.error(&reply, 404, "MANIFEST_UNKNOWN");
            },
        )
        .await;

    let layer = &image.layers[0];
    report
        .case(MANAGEMENT, "DELETE of a blob returns 202", async |c| {
            let reply = api.delete(&blob_path(repo, &layer.digest)).await;
            c.status(&reply, &[202]);
        })
        .await;
    report
        .case(
            MANAGEMENT,
            "GET and HEAD of a deleted blob return 404",
            async |c| {
                let path = blob_path(repo, &layer.digest);
                c.error(&api.get(&path).await, 404, "BLOB_UNKNOWN");
                c.status(&api.head(&path).await, &[404]);
            },
        )
        .await;
    report
        .case(
            MANAGEMENT,
            "DELETE of an unknown blob returns 404 BLOB_UNKNOWN",
            async |c| {
                let reply = api.delete(&blob_path(repo, &missing.digest)).await;
                c.error(&reply, 404, "BLOB_UNKNOWN");
            },
        )
        .await;
    report
        .case(
            MANAGEMENT,
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
        .teardown(MANAGEMENT, "teardown: delete what is left", async |c| {
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
        })
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
