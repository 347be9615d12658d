//! Real clients over HTTPS with mutual TLS: skopeo and podman push and pull trusting the test
//! CA (`--cert-dir` with `ca.crt`, plus `client.cert`/`client.key` for the client's own
//! certificate), with TLS verification on.

use std::process::Command;

use oci_digest::Digest;
use oci_test_support::peers::{podman, podman_output, skopeo, skopeo_fails};

use super::{Pki, certs::KeyKind, path_text};
use crate::{
    podman::write_rootfs_tar, skopeo::write_multi_arch_layout, skopeo_auth::erin_and_finn,
};

#[test]
fn skopeo_pushes_and_pulls_over_mutual_tls() {
    let pki = Pki::new(KeyKind::Rsa);
    let work = tempfile::tempdir().unwrap();
    let registry = pki.serve(work.path(), true, &[]);
    let certs = path_text(&pki.cert_dir(true));
    let layout = work.path().join("layout");
    let index = write_multi_arch_layout(&layout);
    let remote = format!("docker://{}/tls/app:v1", registry.host());

    skopeo(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-cert-dir",
        &certs,
        &format!("oci:{}:v1", layout.display()),
        &remote,
    ]);
    let raw = skopeo(&["inspect", "--raw", "--cert-dir", &certs, &remote]);
    assert_eq!(Digest::compute(raw.as_bytes()), index);

    let copied = work.path().join("copied");
    skopeo(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--src-cert-dir",
        &certs,
        &remote,
        &format!("oci:{}:v1", copied.display()),
    ]);
    let copied_index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(copied.join("index.json")).unwrap()).unwrap();
    assert_eq!(copied_index["manifests"][0]["digest"], index.to_string());

    // Without its client certificate skopeo is refused, even trusting the CA.
    let cert_dir = path_text(&pki.cert_dir(false));
    skopeo_fails(&["inspect", "--raw", "--cert-dir", &cert_dir, &remote]);
}

#[test]
fn podman_pushes_and_pulls_over_mutual_tls() {
    let work = tempfile::tempdir().unwrap();
    let state = work.path().join("podman");
    let usable = Command::new("podman").arg("--version").output().is_ok()
        && podman_output(&state, &["info"]).status.success();
    if !usable {
        eprintln!(
            "skipped: podman cannot run here (`bash .ci/install-peers` installs it; it runs as root)"
        );
        return;
    }
    let pki = Pki::new(KeyKind::Ecdsa);
    let registry = pki.serve(work.path(), true, &[]);
    let certs = path_text(&pki.cert_dir(true));
    let tarball = write_rootfs_tar(work.path());
    let remote = format!("{}/podman/tls:v1", registry.host());

    let imported = podman(
        &state,
        &[
            "import",
            "--quiet",
            &path_text(&tarball),
            "localhost/tls:v1",
        ],
    );
    let image_id = imported.trim().trim_start_matches("sha256:").to_owned();
    let pushed = format!("docker://{remote}");
    podman(
        &state,
        &[
            "push",
            "--quiet",
            "--cert-dir",
            &certs,
            "localhost/tls:v1",
            &pushed,
        ],
    );
    podman(&state, &["rmi", "localhost/tls:v1"]);
    podman(&state, &["pull", "--quiet", "--cert-dir", &certs, &remote]);
    let pulled = podman(
        &state,
        &["image", "inspect", "--format", "{{.Id}}", &remote],
    );
    assert_eq!(pulled.trim(), image_id);
}

/// Token auth over HTTPS with no realm configured: the challenge's realm is the registry's
/// own `https://` URL, so skopeo fetches its token over TLS too (an `http://` realm on a TLS
/// port is a dead end for every client).
#[test]
fn skopeo_follows_the_token_realm_of_a_tls_registry() {
    let pki = Pki::new(KeyKind::Ecdsa);
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("auth.toml");
    std::fs::write(
        &config,
        format!("service = \"tls-test\"\n{}", erin_and_finn()),
    )
    .unwrap();
    let registry = pki.serve(
        work.path(),
        false,
        &["--auth-config", config.to_str().unwrap()],
    );
    let challenge = pki
        .https_client()
        .get(format!("https://{}/v2/", registry.host()));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let answer = runtime.block_on(challenge.send()).unwrap();
    let realm = answer.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        realm.starts_with(&format!(
            "Bearer realm=\"https://{}/token\"",
            registry.host()
        )),
        "{realm}"
    );

    let certs = path_text(&pki.cert_dir(false));
    let layout = work.path().join("layout");
    let index = write_multi_arch_layout(&layout);
    let remote = format!("docker://{}/team/app:v1", registry.host());
    skopeo(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-cert-dir",
        &certs,
        "--dest-creds",
        "erin:erin-pw",
        &format!("oci:{}:v1", layout.display()),
        &remote,
    ]);
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--cert-dir",
        &certs,
        "--creds",
        "finn:finn-pw",
        &remote,
    ]);
    assert_eq!(Digest::compute(raw.as_bytes()), index);
}
