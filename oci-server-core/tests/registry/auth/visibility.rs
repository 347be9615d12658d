//! Each caller sees only what it may pull: `/v2/_catalog` (and its pages) and `/v1/search`
//! list the repositories on which the caller's account has `pull`, even when its token carries
//! only the catalog (or search) scope.

use oci_test_support::peers::podman;
use reqwest::StatusCode;
use serde_json::Value;

use super::{assert_challenge, push_image, send, token, token_server};
use crate::common::{TestRegistry, header};

/// alice pushes two repositories of hers, carol two of hers and a public one.
async fn populated() -> TestRegistry {
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

async fn json_of(server: &TestRegistry, path: &str, token: &str) -> (Value, Option<String>) {
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
    let alice = token(
        &server,
        Some(("alice", "alice-pw")),
        &["registry:catalog:*"],
    )
    .await;
    let carol = token(
        &server,
        Some(("carol", "carol-pw")),
        &["registry:catalog:*"],
    )
    .await;

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
    let alice = token(
        &server,
        Some(("alice", "alice-pw")),
        &["registry:catalog:search"],
    )
    .await;
    let carol = token(
        &server,
        Some(("carol", "carol-pw")),
        &["registry:catalog:search"],
    )
    .await;
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

/// `podman search HOST/term`, logged in first as `user` (same password pattern as the
/// fixture: `<user>-pw`) when given: the names it lists.
async fn podman_search(server: &TestRegistry, term: &str, user: Option<&str>) -> Vec<String> {
    let host = server.base.trim_start_matches("http://").to_owned();
    let term = term.to_owned();
    let user = user.map(str::to_owned);
    // podman blocks; the registry answering it runs on this test's runtime meanwhile.
    let out = tokio::task::spawn_blocking(move || {
        let state = tempfile::tempdir().unwrap();
        let auth_file = state.path().join("auth.json");
        let auth = auth_file.to_str().unwrap();
        std::fs::write(&auth_file, "{}").unwrap();
        if let Some(user) = &user {
            let password = format!("{user}-pw");
            let login = [
                "login",
                "--tls-verify=false",
                "--authfile",
                auth,
                "-u",
                user,
            ];
            let mut args = login.to_vec();
            args.extend(["-p", &password, &host]);
            podman(state.path(), &args);
        }
        let target = format!("{host}/{term}");
        let search = [
            "search",
            "--tls-verify=false",
            "--authfile",
            auth,
            "--format",
            "{{.Name}}",
            &target,
        ];
        podman(state.path(), &search)
    })
    .await
    .unwrap();
    let mut names: Vec<String> = out.lines().map(str::to_owned).collect();
    names.sort();
    names
}

#[tokio::test]
async fn podman_search_lists_what_each_user_may_pull() {
    let server = populated().await;
    let host = server.base.trim_start_matches("http://").to_owned();
    let named =
        |repos: &[&str]| -> Vec<String> { repos.iter().map(|r| format!("{host}/{r}")).collect() };
    assert_eq!(
        podman_search(&server, "o", Some("carol")).await,
        named(&["carol/one", "carol/two"])
    );
    assert_eq!(
        podman_search(&server, "app", Some("alice")).await,
        named(&["alice/app"])
    );
    assert!(
        podman_search(&server, "app", Some("carol"))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn podman_search_uses_v1_search_on_an_open_registry() {
    let server = TestRegistry::start().await;
    for repo in ["tools/hammer", "tools/saw", "food/apple"] {
        server.push_image(repo, "v1", serde_json::json!({})).await;
    }
    let names = podman_search(&server, "tools", None).await;
    let host = server.base.trim_start_matches("http://");
    assert_eq!(
        names,
        [format!("{host}/tools/hammer"), format!("{host}/tools/saw")]
    );
    // It was /v1/search that answered, not podman's fallback to the catalog.
    let metrics = server.get("/metrics").await.text().await.unwrap();
    let searched = metrics.lines().any(|line| {
        line.starts_with("oci_registry_http_requests_total")
            && line.contains(r#"route="search""#)
            && line.contains(r#"status="200""#)
    });
    assert!(searched, "{metrics}");
    assert!(!metrics.contains(r#"route="catalog""#), "{metrics}");
}
