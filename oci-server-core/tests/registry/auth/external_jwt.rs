//! The registry behind an external token service: JWTs minted by PyJWT with keys and
//! certificates made by `openssl` are accepted when a trusted key signed them (an `x5c` chain
//! ending in the bundle, a `kid` naming a bundle key by its libtrust id, a `kid` of the JWKS)
//! and refused otherwise: wrong issuer or audience, expired, not yet valid, unknown key,
//! `alg: none`, HS256 "signed" with the public key, a chain that does not match the signer.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use oci_server_core::auth::AuthConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{
    pki::{KeyKind, Signer, ca, leaf, mint, now},
    push_image, send,
};
use crate::{
    common::{TestRegistry, header},
    process,
};

const ISSUER: &str = "external-token-service";
const SERVICE: &str = "external-registry";
const REALM: &str = "https://auth.example/token";

/// The token service's keys: an EC CA with a signing certificate under it, a self-signed RSA
/// certificate used directly, an Ed25519 key in a JWKS, and a stranger nobody trusts.
struct Keys {
    dir: tempfile::TempDir,
    ec_ca: Signer,
    ec_signer: Signer,
    rsa_root: Signer,
    ed: Signer,
    stranger: Signer,
}

impl Keys {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();
        let ec_ca = ca(path, "token-ca", KeyKind::Ec);
        let ec_signer = leaf(path, "token-signer", KeyKind::Ec, &ec_ca);
        let rsa_root = ca(path, "rsa-root", KeyKind::Rsa);
        let ed = ca(path, "ed-key", KeyKind::Ed25519);
        let stranger = ca(path, "stranger", KeyKind::Ec);
        Self {
            dir,
            ec_ca,
            ec_signer,
            rsa_root,
            ed,
            stranger,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A verify-only config: the bundle holds the EC CA and the RSA root, the JWKS the
    /// Ed25519 key.
    fn config(&self) -> AuthConfig {
        let bundle = self.path("bundle.pem");
        let mut text = std::fs::read_to_string(&self.ec_ca.cert).unwrap();
        text.push_str(&std::fs::read_to_string(&self.rsa_root.cert).unwrap());
        std::fs::write(&bundle, text).unwrap();
        let jwks = self.path("jwks.json");
        let keys = mint(&json!({"jwks": [{"key": self.ed.key, "kid": "ed-key-1"}]}));
        std::fs::write(&jwks, keys).unwrap();
        AuthConfig {
            service: Some(SERVICE.into()),
            realm: Some(REALM.into()),
            issuer: Some(ISSUER.into()),
            rootcertbundle: Some(bundle),
            jwks: Some(jwks),
            ..AuthConfig::default()
        }
    }
}

/// Valid claims for `team/app` (pull and push) and the catalog, changed by `edit`.
fn claims(edit: impl FnOnce(&mut Value)) -> Value {
    let now = now();
    let mut claims = json!({
        "iss": ISSUER, "sub": "dana", "aud": SERVICE,
        "exp": now + 300, "nbf": now - 10, "iat": now, "jti": "t-1",
        "access": [
            {"type": "repository", "name": "team/app", "actions": ["pull", "push"]},
            {"type": "registry", "name": "catalog", "actions": ["*"]},
        ],
    });
    edit(&mut claims);
    claims
}

/// A token of `signer` with `claims` and its chain `[signer, issuer]` in `x5c`.
fn chained(signer: &Signer, issuer: &Path, claims: Value) -> String {
    mint(&json!({
        "alg": "ES256", "key": signer.key, "claims": claims,
        "x5c": [signer.cert, issuer],
    }))
}

async fn server(keys: &Keys) -> TestRegistry {
    let authorizer = keys.config().into_authorizer().unwrap();
    TestRegistry::with_authorizer(std::sync::Arc::new(authorizer)).await
}

/// Whether `token` is let in to read `team/app`'s tags (404 before anything is pushed).
async fn let_in(server: &TestRegistry, token: &str) -> bool {
    let answer = send(server.http.get(server.url("/v2/team/app/tags/list")), token).await;
    match answer.status() {
        StatusCode::NOT_FOUND | StatusCode::OK => true,
        StatusCode::UNAUTHORIZED => {
            let challenge = header(&answer, "www-authenticate");
            assert!(
                challenge.starts_with(&format!(
                    r#"Bearer realm="{REALM}",service="{SERVICE}",scope="repository:team/app:pull""#
                )),
                "{challenge}"
            );
            assert!(
                challenge.ends_with(r#"error="invalid_token""#),
                "{challenge}"
            );
            false
        }
        other => panic!("unexpected {other}"),
    }
}

#[tokio::test]
async fn tokens_signed_by_trusted_keys_are_accepted() {
    let keys = Keys::new();
    let server = server(&keys).await;

    // ES256 by a certificate whose chain ends in the bundle; its grants push and list.
    let es256 = chained(&keys.ec_signer, &keys.ec_ca.cert, claims(|_| {}));
    assert!(let_in(&server, &es256).await);
    push_image(&server, "team/app", &es256).await;
    let catalog = send(server.http.get(server.url("/v2/_catalog")), &es256).await;
    assert_eq!(catalog.status(), StatusCode::OK);
    let listed: Value = catalog.json().await.unwrap();
    assert_eq!(listed["repositories"], json!(["team/app"]));

    // The bundle's own certificate as the whole chain (a self-signed signing certificate).
    let self_signed = mint(&json!({
        "alg": "ES256", "key": keys.ec_ca.key, "claims": claims(|_| {}),
        "x5c": [keys.ec_ca.cert],
    }));
    assert!(let_in(&server, &self_signed).await);

    // RS256 naming a bundle key by its libtrust id only.
    let rs256 = mint(&json!({
        "alg": "RS256", "key": keys.rsa_root.key, "claims": claims(|_| {}),
        "libtrust_kid": keys.rsa_root.cert,
    }));
    assert!(let_in(&server, &rs256).await);

    // EdDSA naming a JWKS key; an audience list that holds the service.
    let eddsa = mint(&json!({
        "alg": "EdDSA", "key": keys.ed.key, "headers": {"kid": "ed-key-1"},
        "claims": claims(|c| c["aud"] = json!(["another-service", SERVICE])),
    }));
    assert!(let_in(&server, &eddsa).await);

    // Expired 30 s ago and valid from 30 s ahead: inside the 60 s leeway.
    let skewed = chained(
        &keys.ec_signer,
        &keys.ec_ca.cert,
        claims(|c| {
            c["exp"] = json!(now() - 30);
            c["nbf"] = json!(now() + 30);
        }),
    );
    assert!(let_in(&server, &skewed).await);

    // Verify only: no token endpoint here.
    assert_eq!(server.get("/token").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn tokens_that_must_not_be_trusted_are_refused() {
    let keys = Keys::new();
    let server = server(&keys).await;
    let ca = &keys.ec_ca.cert;
    let signer = &keys.ec_signer;

    let refused = [
        (
            "wrong issuer",
            chained(signer, ca, claims(|c| c["iss"] = json!("someone-else"))),
        ),
        (
            "wrong audience",
            chained(signer, ca, claims(|c| c["aud"] = json!("other-registry"))),
        ),
        (
            "expired",
            chained(signer, ca, claims(|c| c["exp"] = json!(now() - 3600))),
        ),
        (
            "not yet valid",
            chained(signer, ca, claims(|c| c["nbf"] = json!(now() + 3600))),
        ),
        (
            "no expiry",
            chained(
                signer,
                ca,
                claims(|c| {
                    c.as_object_mut().unwrap().remove("exp");
                }),
            ),
        ),
        (
            "unknown key with its own self-signed chain",
            mint(&json!({
                "alg": "ES256", "key": keys.stranger.key, "claims": claims(|_| {}),
                "x5c": [keys.stranger.cert],
            })),
        ),
        (
            "unknown key named by its libtrust id",
            mint(&json!({
                "alg": "ES256", "key": keys.stranger.key, "claims": claims(|_| {}),
                "libtrust_kid": keys.stranger.cert,
            })),
        ),
        (
            "unknown JWKS kid",
            mint(&json!({
                "alg": "EdDSA", "key": keys.ed.key, "claims": claims(|_| {}),
                "headers": {"kid": "ed-key-2"},
            })),
        ),
        (
            "no key named at all",
            mint(&json!({"alg": "ES256", "key": signer.key, "claims": claims(|_| {})})),
        ),
        (
            "a trusted chain on a token the stranger signed",
            mint(&json!({
                "alg": "ES256", "key": keys.stranger.key, "claims": claims(|_| {}),
                "x5c": [signer.cert, ca],
            })),
        ),
        (
            "alg none",
            mint(&json!({
                "alg": "none", "claims": claims(|_| {}), "x5c": [signer.cert, ca],
            })),
        ),
        (
            "HS256 with the bundle certificate as the secret",
            mint(&json!({
                "alg": "HS256", "hmac_secret": ca, "claims": claims(|_| {}),
                "libtrust_kid": ca,
            })),
        ),
        (
            "RS256 with the key of an ES256 chain",
            mint(&json!({
                "alg": "RS256", "key": keys.rsa_root.key, "claims": claims(|_| {}),
                "x5c": [signer.cert, ca],
            })),
        ),
    ];
    for (case, token) in refused {
        assert!(!let_in(&server, &token).await, "{case} was let in");
    }

    // A valid token grants only what its access claim lists: no push on another repository.
    let valid = chained(signer, ca, claims(|_| {}));
    let push = send(
        server
            .http
            .post(server.url("/v2/team/other/blobs/uploads/")),
        &valid,
    )
    .await;
    assert_eq!(push.status(), StatusCode::UNAUTHORIZED);
    assert!(header(&push, "www-authenticate").ends_with(r#"error="insufficient_scope""#));
}

#[tokio::test]
async fn the_binary_takes_distribution_style_token_flags() {
    let keys = Keys::new();
    let config = keys.config();
    let bundle = config.rootcertbundle.unwrap();
    let jwks = config.jwks.unwrap();
    let store = keys.path("store");
    let registry = process::start(
        &store,
        &[
            "--token-realm",
            REALM,
            "--token-service",
            SERVICE,
            "--token-issuer",
            ISSUER,
            "--token-rootcertbundle",
            bundle.to_str().unwrap(),
            "--token-jwks",
            jwks.to_str().unwrap(),
        ],
    );
    let tags = format!("{}/v2/team/app/tags/list", registry.base());
    let http = reqwest::Client::new();
    let get = |token: String| http.get(&tags).bearer_auth(token).send();
    let valid = chained(&keys.ec_signer, &keys.ec_ca.cert, claims(|_| {}));
    assert_eq!(get(valid).await.unwrap().status(), StatusCode::NOT_FOUND);
    let eddsa = mint(&json!({
        "alg": "EdDSA", "key": keys.ed.key, "headers": {"kid": "ed-key-1"},
        "claims": claims(|_| {}),
    }));
    assert_eq!(get(eddsa).await.unwrap().status(), StatusCode::NOT_FOUND);
    let foreign = chained(
        &keys.ec_signer,
        &keys.ec_ca.cert,
        claims(|c| c["iss"] = json!("someone-else")),
    );
    let refused = get(foreign).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(
        header(&refused, "www-authenticate").starts_with(&format!(r#"Bearer realm="{REALM}""#))
    );

    // Without a bundle or JWKS the flags cannot work: the binary says so and stops.
    let output = Command::new(env!("CARGO_BIN_EXE_oci-registry"))
        .args(["--listen", "127.0.0.1:0", "--token-realm", REALM, "--root"])
        .arg(&store)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("token-rootcertbundle"), "{stderr}");
}
