//! The Content Discovery workflow, listings: tags (order, `n`, `last`, `Link`) and the catalog.
//! The referrers API is in [`super::referrers`].

use super::Ctx;
use super::client::{Api, Reply};
use super::data::{Algorithm, Image, Rng};
use super::report::{Checks, Report, Scope, Workflow};
use super::steps::{delete_all, push_image_checked, push_manifest_checked};

const DISCOVERY: Scope = Scope::v1_1(Workflow::ContentDiscovery);

/// Tags pushed in this (unsorted) order; their lexical order puts `v10` before `v2`.
const TAGS: [&str; 8] = ["v2", "gamma", "alpha", "zeta", "v10", "beta", "v1", "delta"];

/// Runs the listing half of the Content Discovery workflow.
pub async fn run(ctx: &Ctx, rng: &mut Rng, report: &mut Report) {
    let api = &ctx.api;
    let repo = &ctx.repo("discovery");
    let image = Image::generate(rng, 1, Algorithm::Sha256);
    let mut sorted: Vec<&str> = TAGS.to_vec();
    sorted.sort_unstable();
    let tags_path = format!("/v2/{repo}/tags/list");
    report.group("Content Discovery: tags and catalog");

    report
        .setup(
            DISCOVERY,
            "setup: push an image under eight tags",
            async |c| {
                if push_image_checked(c, api, repo, TAGS[0], &image).await {
                    for tag in &TAGS[1..] {
                        push_manifest_checked(c, api, repo, tag, &image.manifest).await;
                    }
                }
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            "GET tags/list returns 200 with the name and every tag",
            async |c| {
                let reply = api.get(&tags_path).await;
                c.status(&reply, &[200]);
                if let Some(json) = c.json(&reply) {
                    c.equal("name", &serde_json::json!(repo), &json["name"]);
                }
                let mut listed = tag_list(c, &reply);
                listed.sort_unstable();
                c.equal(
                    "tags",
                    &sorted,
                    &listed.iter().map(String::as_str).collect(),
                );
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            "GET tags/list returns tags in lexical order",
            async |c| {
                let listed = tag_list(c, &api.get(&tags_path).await);
                c.equal(
                    "tag order",
                    &sorted,
                    &listed.iter().map(String::as_str).collect(),
                );
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            "GET tags/list?n=4 returns the first four tags",
            async |c| {
                let listed = tag_list(c, &api.get(&format!("{tags_path}?n=4")).await);
                c.equal(
                    "tags",
                    &sorted[..4],
                    &listed.iter().map(String::as_str).collect::<Vec<_>>()[..],
                );
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            "GET tags/list?n=4 answers a Link to the next page",
            async |c| {
                let reply = api.get(&format!("{tags_path}?n=4")).await;
                let Some(next) = c.next_link(&reply) else {
                    return;
                };
                let listed = tag_list(c, &api.get(&next).await);
                c.equal(
                    "tags on the next page",
                    &sorted[4..],
                    &listed.iter().map(String::as_str).collect::<Vec<_>>()[..],
                );
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            "GET tags/list?last=<tag> lists only the tags after it",
            async |c| {
                let last = sorted[3];
                let listed = tag_list(c, &api.get(&format!("{tags_path}?last={last}")).await);
                c.equal(
                    "tags",
                    &sorted[4..],
                    &listed.iter().map(String::as_str).collect::<Vec<_>>()[..],
                );
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            "GET tags/list?n=2&last=<tag> returns the following two tags",
            async |c| {
                let last = sorted[1];
                let listed = tag_list(c, &api.get(&format!("{tags_path}?n=2&last={last}")).await);
                c.equal(
                    "tags",
                    &sorted[2..4],
                    &listed.iter().map(String::as_str).collect::<Vec<_>>()[..],
                );
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            "Following Link headers with n=3 visits every tag once, in order",
            async |c| {
                let visited = follow_pages(c, api, &format!("{tags_path}?n=3"), "tags").await;
                c.equal(
                    "tags",
                    &sorted,
                    &visited.iter().map(String::as_str).collect(),
                );
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            "GET tags/list with n above the tag count lists every tag and no Link",
            async |c| {
                let reply = api.get(&format!("{tags_path}?n=100")).await;
                let listed = tag_list(c, &reply);
                c.equal(
                    "tags",
                    &sorted,
                    &listed.iter().map(String::as_str).collect(),
                );
                c.check(reply.next_link().is_none(), || {
                    "a complete list must not link to a next page".to_string()
                });
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            "GET tags/list of an unknown repository returns 404 NAME_UNKNOWN",
            async |c| {
                let unknown = ctx.repo("never-pushed");
                let reply = api.get(&format!("/v2/{unknown}/tags/list")).await;
                c.error(&reply, 404, "NAME_UNKNOWN");
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            "GET /v2/_catalog lists the repository (extension)",
            async |c| {
                let listed = follow_pages(c, api, "/v2/_catalog?n=1000", "repositories").await;
                c.check(listed.contains(repo), || {
                    format!("{repo} missing from {listed:?}")
                });
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            "GET /v2/_catalog?n=1 answers one repository and a Link (extension)",
            async |c| {
                let reply = api.get("/v2/_catalog?n=1").await;
                c.status(&reply, &[200]);
                let listed = c.json(&reply).map(|json| json["repositories"].clone());
                let count = listed
                    .as_ref()
                    .and_then(|list| list.as_array())
                    .map(Vec::len);
                c.equal("number of repositories", &Some(1), &count);
                c.next_link(&reply);
            },
        )
        .await;

    report
        .teardown(DISCOVERY, "teardown: delete the image", async |c| {
            let blobs: Vec<&str> = image.blobs().map(|blob| blob.digest.as_str()).collect();
            delete_all(c, api, repo, &[&image.manifest.digest], &blobs).await;
        })
        .await;
}

/// The `tags` of a tag-list answer, asserting status 200 and the shape.
fn tag_list(c: &mut Checks, reply: &Reply) -> Vec<String> {
    c.status(reply, &[200]);
    string_list(c, reply, "tags")
}

fn string_list(c: &mut Checks, reply: &Reply, field: &str) -> Vec<String> {
    let Some(json) = c.json(reply) else {
        return Vec::new();
    };
    match json[field].as_array() {
        Some(items) => items
            .iter()
            .filter_map(|item| item.as_str().map(str::to_string))
            .collect(),
        // An empty page may omit the list or set it to null.
        None => Vec::new(),
    }
}

/// Follows `Link: <...>; rel="next"` from `first`, collecting `field` of every page.
async fn follow_pages(c: &mut Checks, api: &Api, first: &str, field: &str) -> Vec<String> {
    let mut collected = Vec::new();
    let mut next = Some(first.to_string());
    // A bound, so a registry that links in a circle cannot hang the run.
    for _ in 0..1000 {
        let Some(target) = next.take() else {
            return collected;
        };
        let reply = api.get(&target).await;
        if !c.status(&reply, &[200]) {
            return collected;
        }
        collected.extend(string_list(c, &reply, field));
        next = reply.next_link();
    }
    c.fail("more than 1000 pages: the Link headers loop");
    collected
}
