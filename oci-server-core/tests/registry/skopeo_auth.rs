//! A real client logging in: `skopeo` pushes to and pulls from `oci-registry` run with
//! `--htpasswd` (Basic) and with `--auth-config` (the token flow through the registry's own
//! token endpoint), and is refused without (or with too weak) credentials.

use std::path::Path;

use oci_digest::Digest;
use oci_test_support::peers::{skopeo, skopeo_fails};

use crate::{process, skopeo::write_multi_arch_layout};

/// Asserts that pushing the layout's `v1` to `target` with `creds` fails.
pub fn push_fails(layout: &Path, creds: &str, target: &str) {
    skopeo_fails(&[
        "copy",
        "--all",
        "--dest-tls-verify=false",
        "--dest-creds",
        creds,
        &format!("oci:{}:v1", layout.display()),
        target,
    ]);
}

/// Pushes a two-platform layout with `creds` and checks the index comes back byte-identical.
pub fn push_and_inspect(layout: &Path, index: &Digest, remote: &str, creds: &str) {
    skopeo(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
        "--dest-creds",
        creds,
        &format!("oci:{}:v1", layout.display()),
        &format!("{remote}:v1"),
    ]);
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds",
        creds,
        &format!("{remote}:v1"),
    ]);
    assert_eq!(Digest::compute(raw.as_bytes()), *index);
}

/// The `[users]` of an auth config: erin (password `erin-pw`) writes `team/**`, finn
/// (`finn-pw`) only reads it.
pub fn erin_and_finn() -> String {
    let erin = bcrypt::hash("erin-pw", 4).unwrap();
    let finn = bcrypt::hash("finn-pw", 4).unwrap();
    format!(
        r#"
[users.erin]
password = "{erin}"
grants = [{{ repository = "team/**", actions = ["pull", "push", "delete"] }}]
[users.finn]
password = "{finn}"
grants = [{{ repository = "team/**", actions = ["pull"] }}]
"#
    )
}

#[test]
fn skopeo_logs_in_with_htpasswd_basic() {
    let work = tempfile::tempdir().unwrap();
    let htpasswd = work.path().join("htpasswd");
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    std::fs::write(&htpasswd, format!("dora:{hash}\n")).unwrap();
    let registry = process::start(
        &work.path().join("store"),
        &["--delete", "--htpasswd", htpasswd.to_str().unwrap()],
    );
    let layout = work.path().join("layout");
    let index = write_multi_arch_layout(&layout);
    let remote = format!("docker://{}/basic/app", registry.host());

    push_and_inspect(&layout, &index, &remote, "dora:s3cret");
    let refused = skopeo_fails(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("{remote}:v1"),
    ]);
    assert!(
        refused.contains("401") || refused.to_lowercase().contains("unauthorized"),
        "{refused}"
    );
    skopeo_fails(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds",
        "dora:wrong",
        &format!("{remote}:v1"),
    ]);
}

#[test]
fn skopeo_logs_in_through_the_token_endpoint() {
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("auth.toml");
    std::fs::write(
        &config,
        format!("service = \"skopeo-test\"\n{}", erin_and_finn()),
    )
    .unwrap();
    let registry = process::start(
        &work.path().join("store"),
        &["--delete", "--auth-config", config.to_str().unwrap()],
    );
    let layout = work.path().join("layout");
    let index = write_multi_arch_layout(&layout);
    let remote = format!("docker://{}/team/app", registry.host());

    push_and_inspect(&layout, &index, &remote, "erin:erin-pw");

    // finn may pull but not push.
    let tags = skopeo(&[
        "list-tags",
        "--tls-verify=false",
        "--creds",
        "finn:finn-pw",
        &remote,
    ]);
    assert!(tags.contains("\"v1\""), "{tags}");
    push_fails(
        &layout,
        "finn:finn-pw",
        &format!("docker://{}/team/other:v1", registry.host()),
    );
    // Nobody gets in anonymously.
    skopeo_fails(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("{remote}:v1"),
    ]);
}
