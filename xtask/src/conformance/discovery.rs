//! The Content Discovery workflow, listings: tags (order, `n`, `last`, `Link`) and the catalog.
//! The referrers API is in [`super::referrers`].

use super::Ctx;
use super::basis::{Basis, Feature};
use super::checks::Checks;
use super::client::{Api, Reply};
use super::data::{Algorithm, Image, Rng};
use super::pull::DELETING;
use super::report::{Report, Scope, Workflow};
use super::steps::{delete_all, push_image_checked, push_manifest_checked};

const DISCOVERY: Scope = Scope::v1_1(Workflow::ContentDiscovery);

/// Tags pushed in this (unsorted) order; their lexical order puts `v10` before `v2`.
const TAGS: [&str; 8] = ["v2", "gamma", "alpha", "zeta", "v10", "beta", "v1", "delta"];

const LISTING_TAGS: Basis = Basis::Must("v1.1 §Listing Tags");
const CATALOG: Basis = Basis::Feature(Feature::Catalog, "Docker registry API: catalog");

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
            Basis::Must("v1.1 §Pushing Manifests"),
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
            LISTING_TAGS,
            "GET tags/list returns 200 with the name and every tag",
            async |c| {
                let reply = api.get(&tags_path).await;
                c.status(&reply, &[200]);
                if let Some(json) = c.json(&reply) {
                    c.equal("name", &serde_json::json!(repo), &json["name"]);
                }
                let mut listed = tag_list(c, &reply);
                listed.sort_unstable();
                c.equal("tags", &sorted, &as_strs(&listed));
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            LISTING_TAGS,
            "GET tags/list returns tags in lexical order",
            async |c| {
                let listed = tag_list(c, &api.get(&tags_path).await);
                c.equal("tag order", &sorted, &as_strs(&listed));
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            LISTING_TAGS,
            "GET tags/list?n=4 returns the first four tags (fewer only with a Link)",
            async |c| {
                let reply = api.get(&format!("{tags_path}?n=4")).await;
                let listed = tag_list(c, &reply);
                // "MAY return fewer than <int> results, but only when ... a Link header is
                // provided".
                let expected = match reply.next_link() {
                    Some(_) if listed.len() < 4 => &sorted[..listed.len()],
                    _ => &sorted[..4],
                };
                c.equal("tags", expected, &as_strs(&listed)[..]);
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            LISTING_TAGS,
            "GET tags/list?n=0 returns an empty list and no Link",
            async |c| {
                let reply = api.get(&format!("{tags_path}?n=0")).await;
                let listed = tag_list(c, &reply);
                c.equal("tags", &Vec::<&str>::new(), &as_strs(&listed));
                c.check(reply.next_link().is_none(), || {
                    "n=0 must not link to a next page".to_string()
                });
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            LISTING_TAGS,
            "GET tags/list?last=<tag> lists only the tags after it",
            async |c| {
                let last = sorted[3];
                let listed = tag_list(c, &api.get(&format!("{tags_path}?last={last}")).await);
                c.equal("tags", &sorted[4..], &as_strs(&listed)[..]);
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            LISTING_TAGS,
            "GET tags/list?n=2&last=<tag> returns the following two tags",
            async |c| {
                let last = sorted[1];
                let listed = tag_list(c, &api.get(&format!("{tags_path}?n=2&last={last}")).await);
                c.equal("tags", &sorted[2..4], &as_strs(&listed)[..]);
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            LISTING_TAGS,
            "Paging with n=3 (by Link, or by last when there is none) visits every tag once, in order",
            async |c| {
                let visited = page_through(c, api, &tags_path, 3, "tags").await;
                c.equal("tags", &sorted, &as_strs(&visited));
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            LISTING_TAGS,
            "GET tags/list with n above the tag count lists every tag",
            async |c| {
                let reply = api.get(&format!("{tags_path}?n=100")).await;
                let mut listed = tag_list(c, &reply);
                listed.sort_unstable();
                c.equal("tags", &sorted, &as_strs(&listed));
                c.should(
                    "v1.1 §Listing Tags: a Link \"when additional tags are available\"",
                    |c| {
                        c.check(reply.next_link().is_none(), || {
                            "a complete list links to a next page".to_string()
                        })
                    },
                );
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            // v1.1 only says "assuming a repository is found"; the endpoint table lists 404.
            Basis::Should("v1.1 §Endpoints end-8a: 404, NAME_UNKNOWN"),
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
            CATALOG,
            "GET /v2/_catalog lists the repository",
            async |c| {
                let first = api.get("/v2/_catalog?n=1000").await;
                if [401, 403, 404, 405].contains(&first.status) {
                    return c.not_offered(
                        Feature::Catalog,
                        format!("GET /v2/_catalog answered {}", first.status),
                    );
                }
                c.offered(Feature::Catalog);
                let listed = follow_links(c, api, "/v2/_catalog?n=1000", "repositories").await;
                c.check(listed.contains(repo), || {
                    format!("{repo} missing from {listed:?}")
                });
            },
        )
        .await;
    report
        .case(
            DISCOVERY,
            CATALOG,
            "GET /v2/_catalog?n=1 answers one repository, and a Link when there are more",
            async |c| {
                let reply = api.get("/v2/_catalog?n=1").await;
                c.status(&reply, &[200]);
                let listed = c.json(&reply).map(|json| json["repositories"].clone());
                let count = listed
                    .as_ref()
                    .and_then(|list| list.as_array())
                    .map(Vec::len);
                c.equal("number of repositories", &Some(1), &count);
                // A Link when there is more: the catalog may hold this run's repository alone.
                let all = follow_links(c, api, "/v2/_catalog?n=1000", "repositories").await;
                if all.len() > 1 {
                    c.check(reply.next_link().is_some(), || {
                        format!(
                            "missing Link header with rel=\"next\" though {} repositories exist ({})",
                            all.len(),
                            reply.describe()
                        )
                    });
                }
            },
        )
        .await;

    report
        .teardown(
            DISCOVERY,
            DELETING,
            "teardown: delete the image",
            async |c| {
                let blobs: Vec<&str> = image.blobs().map(|blob| blob.digest.as_str()).collect();
                delete_all(c, api, repo, &[&image.manifest.digest], &blobs).await;
            },
        )
        .await;
}

fn as_strs(items: &[String]) -> Vec<&str> {
    items.iter().map(String::as_str).collect()
}

/// Pages through `path` `n` items at a time: by the `Link` header when the registry sends
/// one, otherwise with `last=<the last item of the page>` (v1.1 §Listing Tags allows both).
async fn page_through(c: &mut Checks, api: &Api, path: &str, n: usize, field: &str) -> Vec<String> {
    let mut collected: Vec<String> = Vec::new();
    let mut next = format!("{path}?n={n}");
    // A bound, so a registry that pages in a circle cannot hang the run.
    for _ in 0..100 {
        let reply = api.get(&next).await;
        if !c.status(&reply, &[200]) {
            return collected;
        }
        let page = string_list(c, &reply, field);
        if !c.check(page.len() <= n, || {
            format!("a page of n={n} held {} items: {page:?}", page.len())
        }) {
            return collected;
        }
        let full = page.len() == n;
        let last = page.last().cloned();
        collected.extend(page);
        next = match (reply.next_link(), last) {
            (Some(link), _) => link,
            // Without a Link, a full page may have more after it.
            (None, Some(last)) if full => {
                format!("{path}?n={n}&last={}", encode(&last))
            }
            _ => return collected,
        };
    }
    c.fail("more than 100 pages: the pages loop");
    collected
}

/// A tag or repository name in a query (names hold only `[a-z0-9._/-]`, tags `[A-Za-z0-9._-]`).
fn encode(value: &str) -> String {
    value.replace('/', "%2F")
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
async fn follow_links(c: &mut Checks, api: &Api, first: &str, field: &str) -> Vec<String> {
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
