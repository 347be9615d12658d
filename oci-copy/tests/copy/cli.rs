//! The `oci-copy` binary: output and exit codes.

use std::process::{Command, Output};

use oci_copy::end::LayoutSink;

use crate::common::fixtures::{self, two_platforms};
use crate::common::processes::OciRegistry;
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
    fixtures::write(
        &LayoutSink::create(&layout).await.unwrap(),
        &images,
        Some(&index),
        "v1",
    )
    .await;
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
