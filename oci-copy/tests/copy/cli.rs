//! The `oci-copy` binary: output and exit codes.

use std::process::{Command, Output};

use oci_test_support::peers::{OciRegistry, write_htpasswd};

use crate::common::fixtures::{self, two_platforms};
use crate::common::text;

fn oci_copy(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_oci-copy"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn commands_report_through_output_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let (index, images) = two_platforms(400, 16 * 1024);
    let layout = dir.path().join("layout");
    fixtures::write_layout(&layout, &images, &index).await;
    let registry = OciRegistry::start();
    let source = format!("oci:{}:v1", text(&layout));
    let destination = format!("{}/cli/app:v1", registry.host());

    // `plan --json` prints a plan that parses, and writes nothing.
    let planned = oci_copy(&["plan", "--json", &source, &destination]);
    assert_eq!(
        planned.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&planned.stderr)
    );
    let plan: serde_json::Value = serde_json::from_slice(&planned.stdout).unwrap();
    assert_eq!(
        plan["steps"].as_array().unwrap().len(),
        9,
        "5 blobs, 3 manifests and a tag: {plan}"
    );

    // `copy` prints the destination and the digest.
    let copied = oci_copy(&["copy", &source, &destination]);
    assert_eq!(
        copied.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&copied.stderr)
    );
    assert!(String::from_utf8_lossy(&copied.stdout).contains(index.descriptor.digest.as_str()));

    // `inspect` shows the platforms of the index.
    let inspected = oci_copy(&["inspect", &destination]);
    let shown = String::from_utf8_lossy(&inspected.stdout);
    assert!(
        shown.contains("linux/amd64") && shown.contains("linux/arm64"),
        "{shown}"
    );

    // A tag that is not there: the copy fails (1). A malformed reference or flag: usage (2).
    let missing = oci_copy(&["copy", &format!("oci:{}:nope", text(&layout)), &destination]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nope"));
    assert_eq!(
        oci_copy(&["copy", "ftp://x/y", &destination]).status.code(),
        Some(2)
    );
    assert_eq!(
        oci_copy(&["copy", "--no-such-flag", &source, &destination])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        oci_copy(&["copy", "--tags-regex", "(", &source, &destination])
            .status
            .code(),
        Some(2)
    );

    // `export` and `import` go through archives.
    let archive = dir.path().join("image.tar");
    let exported = oci_copy(&[
        "export",
        "--format",
        "docker",
        "--platform",
        "linux/arm64",
        &destination,
        text(&archive),
    ]);
    assert_eq!(
        exported.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );
    let imported = oci_copy(&[
        "import",
        text(&archive),
        &format!("{}/imported:v1", registry.host()),
    ]);
    assert_eq!(
        imported.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&imported.stderr)
    );
}

/// `--src-creds` and `--dest-creds` reach the registries a sync file names on each side; a
/// registry that wants a password refuses the same sync without them.
#[tokio::test(flavor = "multi_thread")]
async fn sync_sends_the_credentials_given_for_each_side() {
    let dir = tempfile::tempdir().unwrap();
    let (index, images) = two_platforms(400, 16 * 1024);
    let layout = dir.path().join("layout");
    fixtures::write_layout(&layout, &images, &index).await;
    let htpasswd = dir.path().join("htpasswd");
    write_htpasswd(&htpasswd, "alice", "secret");
    let guarded = OciRegistry::start_with(&["--htpasswd", text(&htpasswd)]);
    let open = OciRegistry::start();
    let sync_file = |name: &str, source: String, target: String| {
        let path = dir.path().join(name);
        let entry = format!("[[sync]]\nsource = \"{source}\"\ntarget = \"{target}\"\n");
        std::fs::write(&path, entry).unwrap();
        path
    };
    let exit_code = |args: &[&str]| {
        let output = oci_copy(args);
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        (output.status.code(), stderr)
    };

    let push = sync_file(
        "push.toml",
        format!("oci:{}:v1", text(&layout)),
        format!("{}/guarded/app", guarded.host()),
    );
    let (code, stderr) = exit_code(&["sync", text(&push)]);
    assert_eq!(code, Some(1), "{stderr}");
    let (code, stderr) = exit_code(&["sync", "--dest-creds", "alice:secret", text(&push)]);
    assert_eq!(code, Some(0), "{stderr}");

    let pull = sync_file(
        "pull.toml",
        format!("{}/guarded/app:v1", guarded.host()),
        format!("{}/open/app:v1", open.host()),
    );
    let (code, stderr) = exit_code(&["sync", text(&pull)]);
    assert_eq!(code, Some(1), "{stderr}");
    let (code, stderr) = exit_code(&["sync", "--src-creds", "alice:secret", text(&pull)]);
    assert_eq!(code, Some(0), "{stderr}");

    let inspected = oci_copy(&["inspect", &format!("{}/open/app:v1", open.host())]);
    let shown = String::from_utf8_lossy(&inspected.stdout);
    assert!(
        shown.contains("linux/amd64") && shown.contains("linux/arm64"),
        "{shown}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn registries_conf_and_certs_dir_flags_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let (index, images) = two_platforms(300, 8 * 1024);
    let layout = dir.path().join("layout");
    fixtures::write_layout(&layout, &images, &index).await;
    let registry = OciRegistry::start();
    let source = format!("oci:{}:v1", text(&layout));
    let conf = dir.path().join("registries.conf");
    let blocked = format!("{}/blocked", registry.host());
    std::fs::write(
        &conf,
        format!("[[registry]]\nprefix = \"{blocked}\"\nblocked = true\n"),
    )
    .unwrap();
    let certs = dir.path().join("certs.d");
    std::fs::create_dir_all(certs.join(registry.host())).unwrap();

    let refused = oci_copy(&[
        "copy",
        "--registries-conf",
        text(&conf),
        "--certs-dir",
        text(&certs),
        &source,
        &format!("{blocked}/app:v1"),
    ]);
    assert_eq!(refused.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("blocked by the registries.conf entry"),
        "{stderr}"
    );

    let allowed = oci_copy(&[
        "copy",
        "--registries-conf",
        text(&conf),
        &source,
        &format!("{}/open/app:v1", registry.host()),
    ]);
    assert_eq!(
        allowed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );

    // A certs.d directory whose CA file is not PEM is a configuration error, found at once.
    std::fs::write(certs.join(registry.host()).join("ca.crt"), "not PEM").unwrap();
    let broken = oci_copy(&[
        "copy",
        "--certs-dir",
        text(&certs),
        &source,
        &format!("{}/x/app:v1", registry.host()),
    ]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("ca.crt"));
}
