//! The `OCI_CONFORMANCE_BIN` path, driven by a stand-in for the official binary: a shell script
//! that records the environment it was given and writes a junit.xml like the real suites do.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

const FAKE_SUITE: &str = r#"#!/bin/sh
env | grep '^OCI_' | sort > "$OCI_RESULTS_DIR/env.txt"
cat > "$OCI_REPORT_DIR/junit.xml" <<'XML'
<testsuites><testsuite name="conformance tests" tests="3">
<testcase name="[It] Pull Pull blobs GET nonexistent blob should result in 404 response" status="passed"></testcase>
<testcase name="[It] Push Blob Upload Chunked Out-of-order blob upload should return 416" status="failed"><failure message="x">x</failure></testcase>
<testcase name="[It] Content Management Setup Populate registry with test tag" status="skipped"><skipped message="skipped"/></testcase>
</testsuite></testsuites>
XML
exit 1
"#;

#[test]
fn runs_the_official_binary_with_both_harness_environments_and_summarises_junit() {
    let work = tempfile::tempdir().unwrap();
    let script = work.path().join("conformance.test");
    std::fs::write(&script, FAKE_SUITE).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let target = work.path().join("target");

    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["conformance", "--url", "http://127.0.0.1:9"])
        .env("OCI_CONFORMANCE_BIN", &script)
        .env("CARGO_TARGET_DIR", &target)
        .env("OCI_DATA_SPARSE", "false")
        .output()
        .unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success());
    assert_eq!(
        stdout.lines().last(),
        Some("conformance: 1 passed, 1 failed, 1 skipped"),
        "{stdout}"
    );
    assert!(stdout.contains("Push"), "{stdout}");
    let env = std::fs::read_to_string(target.join("conformance-report/env.txt")).unwrap();
    for expected in [
        "OCI_ROOT_URL=http://127.0.0.1:9",
        "OCI_REGISTRY=127.0.0.1:9",
        "OCI_TLS=disabled",
        "OCI_TEST_CONTENT_MANAGEMENT=1",
        "OCI_API_BLOBS_UPLOAD_CANCEL=true",
        "OCI_DATA_SHA512=true",
        // A value the caller set is kept.
        "OCI_DATA_SPARSE=false",
    ] {
        assert!(
            env.lines().any(|line| line == expected),
            "{expected} not in\n{env}"
        );
    }
}
