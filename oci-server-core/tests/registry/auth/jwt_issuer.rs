//! The registry's own token endpoint issuing Docker-token JWTs (ES256 or RS256, the chain in
//! `x5c`), which it accepts itself and PyJWT verifies with the signing certificate; the token
//! endpoint's conventions (`account`, `client_id`, repeated `scope`, `offline_token`, the
//! OAuth2 grants); and the configurations that cannot work, refused at load.

use std::{path::Path, sync::Arc};

use base64::{Engine, engine::general_purpose};
use oci_server_core::auth::{AuthConfig, AuthConfigError};
use reqwest::StatusCode;
use rustls_pki_types::{CertificateDer, pem::PemObject};
use serde_json::{Value, json};

use super::{
    pki::{KeyKind, Signer, ca, chain, leaf, mint},
    post_form, push_image, send,
};
use crate::common::TestRegistry;

const ISSUER: &str = "oci-test-issuer";
const SERVICE: &str = "jwt-registry";

/// An auth config file with relative paths to the signing key and chain (they resolve
/// against the file's folder): alice owns `alice/**` and may list the catalog, anyone pulls
/// `public/**`.
fn write_config(dir: &Path, key: &Path, chain: &Path) -> std::path::PathBuf {
    let hash = bcrypt::hash("alice-pw", 4).unwrap();
    let relative = |p: &Path| p.file_name().unwrap().to_str().unwrap().to_owned();
    let path = dir.join("auth.toml");
    std::fs::write(
        &path,
        format!(
            r#"
service = "{SERVICE}"
issuer = "{ISSUER}"
jwt_key = "{}"
jwt_certificate = "{}"
anonymous = [{{ repository = "public/**", actions = ["pull"] }}]
[users.alice]
password = "{hash}"
catalog = true
grants = [{{ repository = "alice/**", actions = ["pull", "push", "delete"] }}]
"#,
            relative(key),
            relative(chain)
        ),
    )
    .unwrap();
    path
}

/// A registry issuing JWTs signed by a `kind` key whose certificate an EC CA issued.
async fn issuing_server(kind: KeyKind) -> (TestRegistry, tempfile::TempDir, Signer, Signer) {
    let dir = tempfile::tempdir().unwrap();
    let root = ca(dir.path(), "issuer-ca", KeyKind::Ec);
    let signer = leaf(dir.path(), "issuer", kind, &root);
    let chain = chain(dir.path(), "issuer", &signer, &root);
    let config = AuthConfig::load(&write_config(dir.path(), &signer.key, &chain)).unwrap();
    let authorizer = config.into_authorizer().unwrap();
    let server = TestRegistry::with_authorizer(Arc::new(authorizer)).await;
    (server, dir, root, signer)
}

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).unwrap();
    let json = general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap();
    serde_json::from_slice(&json).unwrap()
}

fn der_base64(pem: &Path) -> String {
    let cert = CertificateDer::from_pem_file(pem).unwrap();
    general_purpose::STANDARD.encode(cert)
}

async fn get_token(server: &TestRegistry, query: &[(&str, &str)], user: Option<&str>) -> Value {
    let mut request = server.http.get(server.url("/token")).query(query);
    if let Some(user) = user {
        request = request.basic_auth(user, Some("alice-pw"));
    }
    let answer = request.send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    answer.json().await.unwrap()
}

/// PyJWT's verdict on `token` with `cert`'s key: its claims.
fn pyjwt_verifies(token: &str, cert: &Path, alg: &str) -> Value {
    let claims = mint(&json!({
        "verify": token, "cert": cert, "alg": alg, "issuer": ISSUER, "audience": SERVICE,
    }));
    serde_json::from_str(&claims).unwrap()
}

#[tokio::test]
async fn es256_tokens_carry_the_chain_and_open_this_registry() {
    let (server, _dir, root, signer) = issuing_server(KeyKind::Ec).await;
    let body = get_token(
        &server,
        &[
            ("service", SERVICE),
            ("scope", "repository:alice/app:pull,push"),
            ("scope", "registry:catalog:*"),
            ("account", "alice"),
            ("client_id", "jwt-test"),
            ("offline_token", "true"),
        ],
        Some("alice"),
    )
    .await;
    let token = body["token"].as_str().unwrap();
    let header = decode_part(token, 0);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "JWT");
    assert_eq!(
        header["x5c"],
        json!([der_base64(&signer.cert), der_base64(&root.cert)])
    );
    // The libtrust id of the signing key, as Python computes it (and distribution matches).
    assert_eq!(
        header["kid"].as_str().unwrap(),
        mint(&json!({"libtrust_id": signer.cert}))
    );

    let claims = pyjwt_verifies(token, &signer.cert, "ES256");
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["aud"], SERVICE);
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        300
    );
    assert_eq!(claims["nbf"], claims["iat"]);
    assert_eq!(
        claims["access"],
        json!([
            {"type": "repository", "name": "alice/app", "actions": ["pull", "push"]},
            {"type": "registry", "name": "catalog", "actions": ["*"]},
        ])
    );

    push_image(&server, "alice/app", token).await;
    let catalog = send(server.http.get(server.url("/v2/_catalog")), token).await;
    let listed: Value = catalog.json().await.unwrap();
    assert_eq!(listed["repositories"], json!(["alice/app"]));

    // The refresh token is an HMAC token only this registry reads; it buys new JWTs.
    let refresh = body["refresh_token"].as_str().unwrap();
    assert_eq!(refresh.split('.').count(), 2);
    let renewed = post_form(
        &server,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("service", SERVICE),
            ("client_id", "jwt-test"),
            ("scope", "repository:alice/app:pull"),
        ],
    )
    .await;
    assert_eq!(renewed.status(), StatusCode::OK);
    let renewed: Value = renewed.json().await.unwrap();
    let access = renewed["access_token"].as_str().unwrap();
    assert_eq!(renewed["scope"], "repository:alice/app:pull");
    let manifest = send(
        server.http.get(server.url("/v2/alice/app/manifests/v1")),
        access,
    )
    .await;
    assert_eq!(manifest.status(), StatusCode::OK);

    // Anonymous callers get the anonymous grants and an empty subject.
    let anonymous = get_token(&server, &[("scope", "repository:public/x:pull,push")], None).await;
    let claims = decode_part(anonymous["token"].as_str().unwrap(), 1);
    assert_eq!(claims["sub"], "");
    assert_eq!(
        claims["access"],
        json!([{"type": "repository", "name": "public/x", "actions": ["pull"]}])
    );

    // Acting as another account than the one authenticated is refused.
    let answer = server
        .http
        .get(server.url("/token"))
        .query(&[("service", SERVICE), ("account", "mallory")])
        .basic_auth("alice", Some("alice-pw"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn rs256_tokens_from_an_rsa_key() {
    let (server, _dir, _root, signer) = issuing_server(KeyKind::Rsa).await;
    let body = post_form(
        &server,
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "alice-pw"),
            ("service", SERVICE),
            ("client_id", "jwt-test"),
            ("scope", "repository:alice/app:pull,push"),
        ],
    )
    .await;
    assert_eq!(body.status(), StatusCode::OK);
    let body: Value = body.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(decode_part(token, 0)["alg"], "RS256");
    pyjwt_verifies(token, &signer.cert, "RS256");
    push_image(&server, "alice/app", token).await;
}

#[test]
fn configurations_that_cannot_work_are_refused_at_load() {
    let dir = tempfile::tempdir().unwrap();
    let root = ca(dir.path(), "ca", KeyKind::Ec);
    let signer = leaf(dir.path(), "signer", KeyKind::Ec, &root);
    let other = leaf(dir.path(), "other", KeyKind::Ec, &root);
    let base = AuthConfig {
        issuer: Some(ISSUER.into()),
        jwt_key: Some(signer.key.clone()),
        jwt_certificate: Some(signer.cert.clone()),
        ..AuthConfig::default()
    };
    assert!(base.clone().into_authorizer().is_ok());

    let mismatched = AuthConfig {
        jwt_key: Some(other.key.clone()),
        ..base.clone()
    };
    assert!(matches!(
        mismatched.into_authorizer(),
        Err(AuthConfigError::KeyMismatch { .. })
    ));
    let no_issuer = AuthConfig {
        issuer: None,
        ..base.clone()
    };
    assert!(matches!(
        no_issuer.into_authorizer(),
        Err(AuthConfigError::Missing {
            needed: "issuer",
            ..
        })
    ));
    let no_chain = AuthConfig {
        jwt_certificate: None,
        ..base.clone()
    };
    assert!(matches!(
        no_chain.into_authorizer(),
        Err(AuthConfigError::Missing {
            needed: "jwt_certificate",
            ..
        })
    ));
    // Verifying only, the challenges must send clients somewhere.
    let no_realm = AuthConfig {
        issuer: Some(ISSUER.into()),
        rootcertbundle: Some(root.cert.clone()),
        ..AuthConfig::default()
    };
    assert!(matches!(
        no_realm.into_authorizer(),
        Err(AuthConfigError::Missing {
            needed: "realm",
            ..
        })
    ));
    let not_pem = AuthConfig {
        jwt_certificate: Some(signer.key.clone()),
        ..base
    };
    assert!(matches!(
        not_pem.into_authorizer(),
        Err(AuthConfigError::Pem { .. })
    ));
}
