//! The `oci-registry` binary: the listening line, serving, graceful stop on SIGTERM.

use reqwest::StatusCode;

use crate::process::RegistryProcess;

#[tokio::test]
async fn prints_its_address_serves_and_stops_on_sigterm() {
    let root = tempfile::tempdir().unwrap();
    let registry = RegistryProcess::start(root.path(), &["--delete"]);
    let base = registry.base().to_owned();
    assert!(
        base.starts_with("http://127.0.0.1:") && !base.ends_with(":0"),
        "{base}"
    );

    let answer = reqwest::get(format!("{base}/v2/")).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(root.path().join("blobs").is_dir());

    let exit = registry.terminate();
    assert!(exit.success(), "exit status {exit:?}");
}
