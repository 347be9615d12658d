//! `login` and `logout` against registries that want a password (htpasswd: `oci-registry`
//! and Debian's `docker-registry`): the credentials are checked before they are stored,
//! stored where podman and skopeo read them, used by later commands, and removed again.

use std::path::{Path, PathBuf};

use oci_auth::{AuthFile, Credentials};
use oci_test_support::peers::skopeo;
use oci_test_support::peers::{Distribution, OciRegistry, write_htpasswd};

use crate::common::fixtures::layout_with_image;
use crate::common::processes::{oci_copy_command, run_oci_copy_fed};
use crate::common::text;

/// A file letting `alice` in with the password `secret`.
fn htpasswd(dir: &Path) -> PathBuf {
    let path = dir.join("htpasswd");
    write_htpasswd(&path, "alice", "secret");
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn login_and_logout_with_oci_registry() {
    let dir = tempfile::tempdir().unwrap();
    let registry = OciRegistry::start_with(&["--htpasswd", text(&htpasswd(dir.path()))]);
    login_round_trip(registry.host(), dir.path(), 130).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn login_and_logout_with_docker_registry() {
    if !Distribution::available() {
        eprintln!("skipped: /usr/bin/docker-registry is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let registry = Distribution::start_with_htpasswd(&htpasswd(dir.path()));
    login_round_trip(registry.host(), dir.path(), 131).await;
}

/// Pushes an image with `--dest-creds`; a wrong password is refused and not stored; the
/// right one is stored (mode 0600, read back by oci-auth and skopeo) and used by `tags`;
/// `logout` removes it, and a second `logout` fails.
async fn login_round_trip(host: &str, dir: &Path, seed: u64) {
    let (layout, _, _) = layout_with_image(dir, seed).await;
    let repository = format!("{host}/guarded/app");
    let auth_file = dir.join("run/containers/auth.json");
    // Only the files of this test: no real home, no Docker config.
    let home = dir.join("home");
    let env: [(&str, &Path); 3] = [
        ("REGISTRY_AUTH_FILE", &auth_file),
        ("HOME", &home),
        ("DOCKER_CONFIG", &home),
    ];
    let run = |args: &[&str], input: &[u8]| run_oci_copy_fed(args, input, &env);

    let (code, _, stderr) = run(
        &[
            "copy",
            &layout,
            &format!("{repository}:v1"),
            "--dest-creds",
            "alice:secret",
        ],
        b"",
    );
    assert_eq!(code, Some(0), "{stderr}");
    let (code, _, _) = run(&["tags", &repository], b"");
    assert_eq!(code, Some(1), "anonymous is refused");

    let (code, _, stderr) = run(
        &["login", host, "-u", "alice", "--password-stdin"],
        b"wrong\n",
    );
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!auth_file.exists(), "refused credentials are not stored");
    let (code, _, stderr) = run(&["login", host, "-u", "alice"], b"");
    assert_eq!(code, Some(2), "no password given: {stderr}");

    let (code, _, stderr) = run(
        &["login", host, "-u", "alice", "--password-stdin"],
        b"secret\n",
    );
    assert_eq!(code, Some(0), "{stderr}");
    let stored = AuthFile::load(&auth_file).unwrap().unwrap();
    assert_eq!(
        stored.credentials_for(host, None).unwrap(),
        Some(Credentials::basic("alice", "secret"))
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&auth_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (code, stdout, stderr) = run(&["tags", &repository], b"");
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout, b"v1\n");
    if Path::new("/usr/bin/skopeo").exists() {
        // skopeo reads the same file.
        let docker_ref = format!("docker://{repository}");
        let listed = skopeo(&[
            "list-tags",
            "--tls-verify=false",
            "--authfile",
            text(&auth_file),
            &docker_ref,
        ]);
        assert!(listed.contains("\"v1\""), "{listed}");
    } else {
        eprintln!("skopeo not installed: its reading of the file is not checked");
    }

    let (code, _, stderr) = run(&["logout", host], b"");
    assert_eq!(code, Some(0), "{stderr}");
    let (code, _, _) = run(&["tags", &repository], b"");
    assert_eq!(code, Some(1), "logged out: anonymous again");
    let (code, _, stderr) = run(&["logout", host], b"");
    assert_eq!(code, Some(1), "not logged in any more: {stderr}");
    assert!(stderr.contains("not logged in"), "{stderr}");
}

/// With `--authfile` naming a Docker config whose `credsStore` is a helper, `login` hands
/// the checked credentials to `docker-credential-<name> store` (oci-auth's test helper, on
/// `PATH`) and `logout` asks it to erase them; no password is written to the file.
#[tokio::test(flavor = "multi_thread")]
async fn login_uses_the_credential_helper_the_config_names() {
    let dir = tempfile::tempdir().unwrap();
    let registry = OciRegistry::start_with(&["--htpasswd", text(&htpasswd(dir.path()))]);
    let host = registry.host();
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    // A link, so the script logs into `bin` beside the link.
    std::os::unix::fs::symlink(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../oci-auth/tests/fixtures/docker-credential-testhelper"
        ),
        bin.join("docker-credential-testhelper"),
    )
    .unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(&config, r#"{"credsStore":"testhelper"}"#).unwrap();
    let mut path = vec![bin.clone()];
    path.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap()));
    let run = |args: &[&str]| {
        let output = oci_copy_command(args)
            .args(["--authfile", text(&config)])
            .env("PATH", std::env::join_paths(&path).unwrap())
            .env("OCI_COPY_PASSWORD", "secret")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.code(), stdout, stderr)
    };

    let (code, stdout, stderr) = run(&["login", host, "-u", "alice"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("docker-credential-testhelper"), "{stdout}");
    let request: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(bin.join("store.log"))
            .unwrap()
            .trim(),
    )
    .unwrap();
    assert_eq!(request["ServerURL"], host);
    assert_eq!(request["Username"], "alice");
    assert_eq!(request["Secret"], "secret");
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(!written.contains("auth\""), "{written}");

    // The test helper knows only helper.example: nothing to erase, so logout fails.
    let (code, _, stderr) = run(&["logout", host]);
    assert_eq!(code, Some(1), "{stderr}");
    let erased = std::fs::read_to_string(bin.join("erase.log")).unwrap();
    assert_eq!(erased.trim(), host);
}
