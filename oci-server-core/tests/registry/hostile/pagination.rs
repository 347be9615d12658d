//! A repository with 10,000 tags, listed at every pagination edge: `n=0`, `n=1`, `n` exactly
//! the count and beyond it, `last` between tags, at the final tag and past it, and `n` that is
//! no count. Following `Link` headers sees every tag once, in order.

use std::path::PathBuf;

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{expect::success_or_spec_error, guarded::GuardedStore};
use crate::common::{files_under, header};

const REPO: &str = "many/tags";
const TAGS: usize = 10_000;

/// Mixed case, digits, `_`, `.` and `-`, numbered without padding: lexical order is neither
/// push order nor numeric order.
fn tag_names() -> Vec<String> {
    let prefixes = ["v-", "A", "z", "_", "a", "b.", "0", "Z"];
    (0..TAGS)
        .map(|i| format!("{}{i}", prefixes[i % prefixes.len()]))
        .collect()
}

/// Tags the first name over HTTP, then links the tag object the server wrote under the
/// other names: 10,000 tagged PUTs would spend over a minute in fsync, and the listing is
/// what is under test here. (Hard links are cheapest, and safe: the store replaces objects by
/// rename, never in place.) Returns the names in lexical order.
async fn seed(store: &mut GuardedStore) -> Vec<String> {
    let mut tags = tag_names();
    let (bytes, _) = store.push_image(REPO, &tags[0], json!({})).await;
    let written: PathBuf = files_under(store.root())
        .into_iter()
        .find(|f| f.file_name().is_some_and(|n| n == tags[0].as_str()))
        .unwrap();
    let folder = written.parent().unwrap();
    for tag in &tags[1..] {
        std::fs::hard_link(&written, folder.join(tag)).unwrap();
    }
    let last = tags.last().unwrap();
    store.keep(&format!("/v2/{REPO}/manifests/{last}"), bytes);
    tags.sort();
    tags
}

/// One page: its tags and its `Link` target, if any.
async fn page(store: &GuardedStore, query: &str) -> (Vec<String>, Option<String>) {
    let answer = store.get(&format!("/v2/{REPO}/tags/list{query}")).await;
    assert_eq!(answer.status(), StatusCode::OK, "{query:.60}");
    let link = answer.headers().contains_key("link").then(|| {
        let link = header(&answer, "link");
        assert!(link.ends_with(">; rel=\"next\""), "{link}");
        link[1..link.find('>').unwrap()].to_owned()
    });
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["name"], REPO);
    let tags = serde_json::from_value(body["tags"].clone()).unwrap();
    (tags, link)
}

/// Follows `Link` headers from `?n=<n>` to the end; every page holds at most `n` tags.
async fn walk(store: &GuardedStore, n: usize) -> (Vec<String>, usize) {
    let (mut seen, mut next) = page(store, &format!("?n={n}")).await;
    let mut pages = 1;
    while let Some(target) = next {
        let query = target
            .strip_prefix(&format!("/v2/{REPO}/tags/list"))
            .unwrap_or_else(|| panic!("link to {target}"));
        let (tags, link) = page(store, query).await;
        assert!(tags.len() <= n && !tags.is_empty(), "{query}");
        seen.extend(tags);
        next = link;
        pages += 1;
    }
    (seen, pages)
}

#[tokio::test]
async fn ten_thousand_tags_at_every_pagination_edge() {
    let mut store = GuardedStore::start().await;
    let all = seed(&mut store).await;
    let (first, last) = (&all[0], &all[TAGS - 1]);

    assert_eq!(page(&store, "").await, (all.clone(), None));
    assert_eq!(page(&store, "?n=0").await, (vec![], None));
    let link = format!("/v2/{REPO}/tags/list?n=1&last={first}");
    assert_eq!(
        page(&store, "?n=1").await,
        (vec![first.clone()], Some(link))
    );
    for n in [TAGS, TAGS + 1, usize::MAX] {
        assert_eq!(
            page(&store, &format!("?n={n}")).await,
            (all.clone(), None),
            "n={n}"
        );
    }

    // `last` need not be a tag: the page starts after where it would sort.
    let between = format!("{}\0", all[4999]);
    assert!(between > all[4999] && between < all[5000]);
    let (tags, link) = page(&store, &format!("?n=3&last={}%00", all[4999])).await;
    assert_eq!(tags, all[5000..5003]);
    assert_eq!(
        link,
        Some(format!("/v2/{REPO}/tags/list?n=3&last={}", all[5002]))
    );
    assert_eq!(page(&store, &format!("?last={last}")).await, (vec![], None));
    assert_eq!(
        page(&store, &format!("?n=5&last={last}")).await,
        (vec![], None)
    );
    assert_eq!(page(&store, "?n=5&last=~~~").await, (vec![], None));
    assert_eq!(page(&store, "?last=").await.0, all);
    let (tags, _) = page(&store, &format!("?n=2&last={}", all[TAGS - 2])).await;
    assert_eq!(tags, all[TAGS - 1..]);

    for n in [
        "-1",
        "abc",
        "1.5",
        "1e3",
        "0x10",
        "",
        "99999999999999999999999",
    ] {
        let answer = store.get(&format!("/v2/{REPO}/tags/list?n={n}")).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "n={n}");
        assert!(!success_or_spec_error(answer, &format!("n={n}")).await);
    }

    // Every tag exactly once, in order: pages that divide the count exactly (the last page
    // full, with no `Link`), and pages that leave a single tag for the last.
    for (n, pages) in [(2500, 4), (3333, 4)] {
        assert_eq!(walk(&store, n).await, (all.clone(), pages), "n={n}");
    }
    store.assert_intact().await;
}
