//! Each caller sees only what it may pull: `/v2/_catalog` (and its pages) and `/v1/search`
//! list the repositories on which the caller's account has `pull`, even when its token carries
//! only the catalog (or search) scope.

use reqwest::StatusCode;
use serde_json::Value;

use super::{assert_challenge, push_image, send, token, token_server};
use crate::common::{TestServer, header};

/// alice pushes two repositories of hers, carol two of hers and a public one.
async fn populated() -> TestServer {
    let (server, _) = token_server().await;
    for (user, password, repo) in [
        ("alice", "alice-pw", "alice/app"),
        ("alice", "alice-pw", "alice/private"),
        ("carol", "carol-pw", "carol/one"),
        ("carol", "carol-pw", "carol/two"),
        ("carol", "carol-pw", "public/x"),
    ] {
        let scope = format!("repository:{repo}:pull,push");
        let pusher = token(&server, Some((user, password)), &[&scope]).await;
        push_image(&server, repo, &pusher).await;
    }
    server
}

async fn json_of(server: &TestServer, path: &str, token: &str) -> (Value, Option<String>) {
    let answer = send(server.http.get(server.url(path)), token).await;
    assert_eq!(answer.status(), StatusCode::OK, "{path}");
    let link = answer
        .headers()
        .get("link")
        .map(|v| v.to_str().unwrap().to_owned());
    (answer.json().await.unwrap(), link)
}

fn names(list: &Value, field: &str) -> Vec<String> {
    list[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            item.as_str()
                .or_else(|| item["name"].as_str())
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn the_catalog_lists_only_what_the_caller_may_pull() {
    let server = populated().await;
    let alice = token(&server, Some(("alice", "alice-pw")), &["registry:catalog:*"]).await;
    let carol = token(&server, Some(("carol", "carol-pw")), &["registry:catalog:*"]).await;

    let (seen, _) = json_of(&server, "/v2/_catalog", &alice).await;
    assert_eq!(names(&seen, "repositories"), ["alice/app", "alice/private"]);
    let (seen, _) = json_of(&server, "/v2/_catalog", &carol).await;
    assert_eq!(
        names(&seen, "repositories"),
        ["carol/one", "carol/two", "public/x"]
    );

    // Pages cut the visible list, not the whole one: carol's three names, one a page.
    let mut path = "/v2/_catalog?n=1".to_owned();
    let mut pages = Vec::new();
    loop {
        let (page, link) = json_of(&server, &path, &carol).await;
        pages.push(names(&page, "repositories"));
        match link {
            Some(link) => {
                path = link
                    .strip_prefix('<')
                    .and_then(|l| l.split_once('>'))
                    .unwrap()
                    .0
                    .to_owned();
            }
            None => break,
        }
    }
    assert_eq!(pages, [["carol/one"], ["carol/two"], ["public/x"]]);
    // A cursor past alice's names is not a way to see carol's.
    let (seen, link) = json_of(&server, "/v2/_catalog?n=5&last=alice/private", &alice).await;
    assert!(names(&seen, "repositories").is_empty());
    assert_eq!(link, None);
}

#[tokio::test]
async fn search_finds_what_the_caller_may_pull_in_the_docker_hub_format() {
    let server = populated().await;
    let alice = token(&server, Some(("alice", "alice-pw")), &["registry:catalog:search"]).await;
    let carol = token(&server, Some(("carol", "carol-pw")), &["registry:catalog:search"]).await;
    let anonymous = token(&server, None, &["registry:catalog:search"]).await;

    let (found, _) = json_of(&server, "/v1/search?q=app", &alice).await;
    assert_eq!(names(&found, "results"), ["alice/app"]);
    assert_eq!(found["num_results"], 1);
    assert_eq!(found["num_pages"], 1);
    assert_eq!(found["page"], 1);
    assert_eq!(found["page_size"], 25);
    assert_eq!(found["query"], "app");
    let first = &found["results"][0];
    assert_eq!(first["description"], "");
    assert_eq!(first["star_count"], 0);
    assert_eq!(first["is_official"], false);
    assert_eq!(first["is_automated"], false);

    // The same query, another user: carol cannot pull alice/app.
    let (found, _) = json_of(&server, "/v1/search?q=app", &carol).await;
    assert_eq!(found["num_results"], 0);
    let (found, _) = json_of(&server, "/v1/search?q=O", &carol).await;
    assert_eq!(names(&found, "results"), ["carol/one", "carol/two"]);
    let (found, _) = json_of(&server, "/v1/search?q=&n=2&page=2", &carol).await;
    assert_eq!(names(&found, "results"), ["public/x"]);
    assert_eq!(found["num_results"], 3);
    assert_eq!(found["num_pages"], 2);
    let (found, _) = json_of(&server, "/v1/search?q=x&n=1000", &anonymous).await;
    assert_eq!(names(&found, "results"), ["public/x"]);
    assert_eq!(found["page_size"], 100);

    let bad = send(server.http.get(server.url("/v1/search?q=a&n=0")), &alice).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let bad = send(server.http.get(server.url("/v1/search?page=x")), &alice).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    // Without a token: the challenge names the scope Docker clients ask for.
    let refused = server.get("/v1/search?q=app").await;
    assert_challenge(
        &refused,
        &server.base,
        Some("registry:catalog:search"),
        None,
    );
    assert!(header(&refused, "www-authenticate").starts_with("Bearer "));
}
