//! Another registry trusts `oci-registry`'s tokens: Debian's `docker-registry` (CNCF
//! distribution 2.8) configured with `auth.token` (realm = our `/token`, our service and
//! issuer, `rootcertbundle` = the CA of our signing certificate) lets skopeo and podman log
//! in, push and pull with the JWTs our token endpoint issues, and refuses what our grants
//! refuse.

use std::process::Command;

use oci_digest::Digest;
use oci_test_support::peers::OciRegistry;
use oci_test_support::peers::{
    Distribution, DistributionAuth, DistributionOptions, podman, skopeo, skopeo_fails,
};
use reqwest::StatusCode;
use serde_json::json;

use super::pki::{KeyKind, Signer, ca, chain, leaf, mint, now};
use crate::{
    podman::{podman_import, write_rootfs_tar},
    process,
    skopeo::write_multi_arch_layout,
    skopeo_auth::{erin_and_finn, push_and_inspect, push_fails},
};

const ISSUER: &str = "oci-registry-issuer";
const SERVICE: &str = "distribution-behind-oci-registry";

/// `oci-registry` issuing JWTs signed by a `kind` key under an EC CA, for erin (who writes
/// `team/**`) and finn (who only reads it), and a `docker-registry` that trusts the CA.
struct Pair {
    dir: tempfile::TempDir,
    root: Signer,
    _issuer: OciRegistry,
    distribution: Distribution,
}

fn start_pair(kind: KeyKind) -> Pair {
    let dir = tempfile::tempdir().unwrap();
    let root = ca(dir.path(), "token-ca", KeyKind::Ec);
    let signer = leaf(dir.path(), "token-signer", kind, &root);
    let chain = chain(dir.path(), "token-signer", &signer, &root);
    let config = dir.path().join("auth.toml");
    std::fs::write(
        &config,
        format!(
            "service = \"{SERVICE}\"\nissuer = \"{ISSUER}\"\njwt_key = \"{}\"\njwt_certificate = \"{}\"\n{}",
            signer.key.display(),
            chain.display(),
            erin_and_finn()
        ),
    )
    .unwrap();
    let issuer = process::start(
        &dir.path().join("issuer-store"),
        &["--auth-config", config.to_str().unwrap()],
    );
    let realm = format!("{}/token", issuer.base());
    let distribution = Distribution::start_with(DistributionOptions {
        auth: Some(DistributionAuth::Token {
            realm,
            service: SERVICE.to_owned(),
            issuer: ISSUER.to_owned(),
            root_bundle: root.cert.clone(),
        }),
        ..DistributionOptions::default()
    });
    Pair {
        dir,
        root,
        _issuer: issuer,
        distribution,
    }
}

/// skopeo pushes and pulls as erin, reads as finn, and is refused a push as finn, a read
/// without credentials and a read with a wrong password.
fn skopeo_round(pair: &Pair) {
    let layout = pair.dir.path().join("layout");
    let index = write_multi_arch_layout(&layout);
    let host = pair.distribution.host();
    let remote = format!("docker://{host}/team/app");
    push_and_inspect(&layout, &index, &remote, "erin:erin-pw");
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds",
        "finn:finn-pw",
        &format!("{remote}:v1"),
    ]);
    assert_eq!(
        Digest::compute(raw.as_bytes()),
        index,
        "finn reads what erin pushed"
    );
    push_fails(
        &layout,
        "finn:finn-pw",
        &format!("docker://{host}/team/finns:v1"),
    );
    for creds in [None, Some("erin:wrong")] {
        let mut args = vec!["inspect", "--raw", "--tls-verify=false"];
        if let Some(creds) = creds {
            args.extend(["--creds", creds]);
        }
        let target = format!("{remote}:v1");
        args.push(&target);
        skopeo_fails(&args);
    }
}

#[test]
fn docker_registry_takes_our_es256_tokens_from_skopeo() {
    let pair = start_pair(KeyKind::Ec);
    skopeo_round(&pair);
}

#[test]
fn docker_registry_takes_our_rs256_tokens_from_skopeo() {
    let pair = start_pair(KeyKind::Rsa);
    skopeo_round(&pair);
}

#[tokio::test]
async fn docker_registry_and_we_agree_on_libtrust_key_ids() {
    let pair = start_pair(KeyKind::Ec);
    let http = reqwest::Client::new();
    let tags = format!("http://{}/v2/team/app/tags/list", pair.distribution.host());
    // A token of `signer` naming its key only by `kid` (computed by Python).
    let read_tags = |signer: &Signer| {
        let token = mint(&json!({
            "alg": "ES256", "key": signer.key, "libtrust_kid": signer.cert,
            "claims": {
                "iss": ISSUER, "sub": "erin", "aud": SERVICE, "exp": now() + 300,
                "nbf": now(),
                "access": [{"type": "repository", "name": "team/app", "actions": ["pull"]}],
            },
        }));
        http.get(&tags).bearer_auth(token).send()
    };
    // distribution finds the CA key in its bundle by the id our registry computes for its
    // `kid` headers (checked against Python's in the issuer tests).
    let answer = read_tags(&pair.root).await.unwrap();
    assert_eq!(
        answer.status(),
        StatusCode::NOT_FOUND,
        "let in, nothing there"
    );
    // A key outside the bundle is refused: the id is what matched.
    let outsider = leaf(pair.dir.path(), "outsider", KeyKind::Ec, &pair.root);
    let refused = read_tags(&outsider).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn podman_logs_in_pushes_and_pulls_through_docker_registry_with_our_tokens() {
    let pair = start_pair(KeyKind::Ec);
    let work = pair.dir.path();
    let state = work.join("podman");
    let auth_file = work.join("podman-auth.json");
    let auth = auth_file.to_str().unwrap();
    let host = pair.distribution.host();
    let tarball = write_rootfs_tar(work);
    let remote = format!("{host}/team/greeting:v1");

    podman(
        &state,
        &[
            "login",
            "--tls-verify=false",
            "--authfile",
            auth,
            "-u",
            "erin",
            "-p",
            "erin-pw",
            host,
        ],
    );
    let image_id = podman_import(&state, &tarball, "localhost/greeting:v1");
    podman(
        &state,
        &[
            "push",
            "--quiet",
            "--tls-verify=false",
            "--authfile",
            auth,
            "localhost/greeting:v1",
            &format!("docker://{remote}"),
        ],
    );
    podman(&state, &["rmi", "localhost/greeting:v1"]);
    podman(
        &state,
        &[
            "pull",
            "--quiet",
            "--tls-verify=false",
            "--creds",
            "finn:finn-pw",
            &remote,
        ],
    );
    let pulled = podman(
        &state,
        &["image", "inspect", "--format", "{{.Id}}", &remote],
    );
    assert_eq!(
        pulled.trim(),
        image_id,
        "the image that came back is the one pushed"
    );

    // finn's grants do not push: distribution refuses finn's token.
    let refused = Command::new("podman")
        .arg("--root")
        .arg(state.join("root"))
        .arg("--runroot")
        .arg(state.join("run"))
        .args(["--storage-driver", "vfs", "push", "--tls-verify=false"])
        .args(["--creds", "finn:finn-pw", &remote])
        .arg(format!("docker://{host}/team/finns:v1"))
        .output()
        .unwrap();
    assert!(!refused.status.success(), "finn pushed");
}
