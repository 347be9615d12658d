//! Each route needs its scope: pull, push, delete, the catalog; mounts need pull on the
//! source; anonymous callers get a challenge.

use oci_digest::Digest;
use reqwest::{RequestBuilder, StatusCode};

use super::{assert_challenge, push_image, send, token, token_server};
use crate::common::{TestRegistry, error_code, header};

#[tokio::test]
async fn anonymous_base_gets_a_bearer_challenge() {
    let (server, _) = token_server().await;
    let answer = server.get("/v2/").await;
    assert_challenge(&answer, &server.base, None, None);
    assert_eq!(error_code(answer).await, "UNAUTHORIZED");
    let head = server.head("/v2/").await;
    assert_challenge(&head, &server.base, None, None);

    // An anonymous token (no credentials) opens /v2/ and the anonymous grants only.
    let anonymous = token(&server, None, &["repository:public/x:pull,push"]).await;
    let base = send(server.http.get(server.url("/v2/")), &anonymous).await;
    assert_eq!(base.status(), StatusCode::OK);
    let tags = send(
        server.http.get(server.url("/v2/public/x/tags/list")),
        &anonymous,
    )
    .await;
    assert_eq!(
        tags.status(),
        StatusCode::NOT_FOUND,
        "let in, nothing there"
    );
    let push = send(
        server.http.post(server.url("/v2/public/x/blobs/uploads/")),
        &anonymous,
    )
    .await;
    assert_challenge(
        &push,
        &server.base,
        Some("repository:public/x:pull,push"),
        Some("insufficient_scope"),
    );
}

#[tokio::test]
async fn pull_needs_pull_scope_and_push_needs_push_scope() {
    let (server, _) = token_server().await;
    let alice = token(
        &server,
        Some(("alice", "alice-pw")),
        &["repository:alice/app:pull,push"],
    )
    .await;
    push_image(&server, "alice/app", &alice).await;
    let manifest_url = server.url("/v2/alice/app/manifests/v1");

    let no_token = server.get("/v2/alice/app/manifests/v1").await;
    assert_challenge(
        &no_token,
        &server.base,
        Some("repository:alice/app:pull"),
        None,
    );

    // bob asks for pull and push but is granted pull only.
    let bob = token(
        &server,
        Some(("bob", "bob-pw")),
        &["repository:alice/app:pull,push"],
    )
    .await;
    assert_eq!(
        send(server.http.get(&manifest_url), &bob).await.status(),
        StatusCode::OK
    );
    let push = send(
        server.http.post(server.url("/v2/alice/app/blobs/uploads/")),
        &bob,
    )
    .await;
    assert_challenge(
        &push,
        &server.base,
        Some("repository:alice/app:pull,push"),
        Some("insufficient_scope"),
    );

    // A token for another repository does not open this one.
    let elsewhere = token(
        &server,
        Some(("alice", "alice-pw")),
        &["repository:alice/other:pull"],
    )
    .await;
    let pull = send(server.http.get(&manifest_url), &elsewhere).await;
    assert_challenge(
        &pull,
        &server.base,
        Some("repository:alice/app:pull"),
        Some("insufficient_scope"),
    );

    // Deleting needs the delete action, which pull,push does not include.
    let delete = send(server.http.delete(&manifest_url), &alice).await;
    assert_challenge(
        &delete,
        &server.base,
        Some("repository:alice/app:delete"),
        Some("insufficient_scope"),
    );
    let deleter = token(
        &server,
        Some(("alice", "alice-pw")),
        &["repository:alice/app:delete"],
    )
    .await;
    assert_eq!(
        send(server.http.delete(&manifest_url), &deleter)
            .await
            .status(),
        StatusCode::ACCEPTED
    );
}

#[tokio::test]
async fn catalog_needs_its_own_scope() {
    let (server, _) = token_server().await;
    let bob = token(&server, Some(("bob", "bob-pw")), &["registry:catalog:*"]).await;
    let refused = send(server.http.get(server.url("/v2/_catalog")), &bob).await;
    assert_challenge(
        &refused,
        &server.base,
        Some("registry:catalog:*"),
        Some("insufficient_scope"),
    );
    let alice = token(
        &server,
        Some(("alice", "alice-pw")),
        &["registry:catalog:*"],
    )
    .await;
    let listed = send(server.http.get(server.url("/v2/_catalog")), &alice).await;
    assert_eq!(listed.status(), StatusCode::OK);
}

/// A token server where alice has pushed `alice/app` (which bob may read) and `alice/private`
/// (which he may not), with the digests of their config blobs.
async fn alice_pushes_app_and_private() -> (TestRegistry, Digest, Digest) {
    let (server, _) = token_server().await;
    let alice = token(
        &server,
        Some(("alice", "alice-pw")),
        &[
            "repository:alice/app:pull,push",
            "repository:alice/private:pull,push",
        ],
    )
    .await;
    let app = push_image(&server, "alice/app", &alice).await;
    let private = push_image(&server, "alice/private", &alice).await;
    (server, app, private)
}

/// A mount of `digest` from `from` into `bob/app`.
fn mount_into_bob_app(server: &TestRegistry, digest: &Digest, from: &str) -> RequestBuilder {
    server.http.post(server.url(&format!(
        "/v2/bob/app/blobs/uploads/?mount={digest}&from={from}"
    )))
}

#[tokio::test]
async fn cross_repo_mount_needs_pull_on_the_source() {
    let (server, public, private) = alice_pushes_app_and_private().await;

    let bob = token(
        &server,
        Some(("bob", "bob-pw")),
        &[
            "repository:bob/app:pull,push",
            "repository:alice/app:pull",
            "repository:alice/private:pull",
        ],
    )
    .await;
    let mount = |digest: &Digest, from: &str| mount_into_bob_app(&server, digest, from);
    // bob may not read alice/private: no mount, a plain upload instead.
    let fallback = send(mount(&private, "alice/private"), &bob).await;
    assert_eq!(fallback.status(), StatusCode::ACCEPTED);
    assert!(header(&fallback, "location").contains("/blobs/uploads/"));
    let missing = send(
        server
            .http
            .head(server.url(&format!("/v2/bob/app/blobs/{private}"))),
        &bob,
    )
    .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    // Without `from`, mounting would search every repository: not for bob either.
    let anywhere = send(
        server
            .http
            .post(server.url(&format!("/v2/bob/app/blobs/uploads/?mount={private}"))),
        &bob,
    )
    .await;
    assert_eq!(anywhere.status(), StatusCode::ACCEPTED);

    // bob may read alice/app: mounted.
    let mounted = send(mount(&public, "alice/app"), &bob).await;
    assert_eq!(mounted.status(), StatusCode::CREATED);
    let present = send(
        server
            .http
            .head(server.url(&format!("/v2/bob/app/blobs/{public}"))),
        &bob,
    )
    .await;
    assert_eq!(present.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_mount_token_without_pull_on_the_source_is_challenged_for_it() {
    let (server, shared, private) = alice_pushes_app_and_private().await;
    let mount = |digest: &Digest, from: &str| mount_into_bob_app(&server, digest, from);

    // bob's token names only the target, as a client that follows challenges gets it; bob's
    // account may pull alice/app, so the answer asks for both scopes.
    let narrow = token(
        &server,
        Some(("bob", "bob-pw")),
        &["repository:bob/app:pull,push"],
    )
    .await;
    let challenged = send(mount(&shared, "alice/app"), &narrow).await;
    assert_challenge(
        &challenged,
        &server.base,
        Some("repository:bob/app:pull,push repository:alice/app:pull"),
        Some("insufficient_scope"),
    );
    // Following the challenge: a token for both, and the mount.
    let wide = token(
        &server,
        Some(("bob", "bob-pw")),
        &["repository:bob/app:pull,push", "repository:alice/app:pull"],
    )
    .await;
    let mounted = send(mount(&shared, "alice/app"), &wide).await;
    assert_eq!(mounted.status(), StatusCode::CREATED);

    // bob's account may not pull alice/private: an upload, never a challenge or an error.
    let fallback = send(mount(&private, "alice/private"), &narrow).await;
    assert_eq!(fallback.status(), StatusCode::ACCEPTED);
    // Nor is there a challenge for a blob the source does not hold.
    let absent = Digest::compute(b"in no repository");
    let fallback = send(mount(&absent, "alice/app"), &narrow).await;
    assert_eq!(fallback.status(), StatusCode::ACCEPTED);
}

#[tokio::test]
async fn a_mount_without_from_follows_the_account_that_may_pull_everything() {
    let (server, _, private) = alice_pushes_app_and_private().await;
    let mount_anywhere = |repository: &str| {
        server
            .http
            .post(server.url(&format!("/v2/{repository}/blobs/uploads/?mount={private}")))
    };
    // dora's token names only the target (no scope can name every repository), but her
    // account may pull everything: the blob is found wherever it is.
    let dora = token(
        &server,
        Some(("dora", "dora-pw")),
        &["repository:dora/app:pull,push"],
    )
    .await;
    let mounted = send(mount_anywhere("dora/app"), &dora).await;
    assert_eq!(mounted.status(), StatusCode::CREATED);
    let present = send(
        server
            .http
            .head(server.url(&format!("/v2/dora/app/blobs/{private}"))),
        &dora,
    )
    .await;
    assert_eq!(present.status(), StatusCode::OK);

    // bob's account may not read alice/private: an upload, whatever his token names.
    let bob = token(
        &server,
        Some(("bob", "bob-pw")),
        &["repository:bob/app:pull,push"],
    )
    .await;
    let fallback = send(mount_anywhere("bob/app"), &bob).await;
    assert_eq!(fallback.status(), StatusCode::ACCEPTED);
}
