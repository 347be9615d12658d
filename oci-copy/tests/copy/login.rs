//! `login` and `logout` against an `oci-registry` that wants a password (htpasswd): the
//! credentials are checked before they are stored, stored where podman and skopeo read
//! them, used by later commands, and removed again.

use std::path::Path;

use oci_auth::{AuthFile, Credentials};

use crate::common::fixtures::layout_with_image;
use crate::common::processes::{OciRegistry, run_oci_copy_fed};
use crate::common::{skopeo, text};

#[tokio::test(flavor = "multi_thread")]
async fn login_stores_checked_credentials_and_logout_removes_them() {
    let dir = tempfile::tempdir().unwrap();
    let (layout, _, _) = layout_with_image(dir.path(), 130).await;
    let htpasswd = dir.path().join("htpasswd");
    let hash = bcrypt::hash("secret", 4).unwrap();
    std::fs::write(&htpasswd, format!("alice:{hash}\n")).unwrap();
    let registry = OciRegistry::start_with(&["--htpasswd", text(&htpasswd)]);
    let host = registry.host();
    let repository = format!("{host}/guarded/app");
    let auth_file = dir.path().join("run/containers/auth.json");
    // Only the files of this test: no real home, no Docker config.
    let home = dir.path().join("home");
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
