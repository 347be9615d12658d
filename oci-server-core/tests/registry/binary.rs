//! The `oci-registry` binary: the listening line, serving, graceful stop on SIGTERM.

use reqwest::StatusCode;

use crate::process;

#[tokio::test]
async fn prints_its_address_serves_and_stops_on_sigterm() {
    let root = tempfile::tempdir().unwrap();
    let registry = process::start(root.path(), &["--delete"]);
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

#[tokio::test]
async fn no_automatic_mount_makes_a_mount_without_from_upload() {
    let root = tempfile::tempdir().unwrap();
    let registry = process::start(root.path(), &["--no-automatic-mount"]);
    let base = registry.base().to_owned();
    let http = reqwest::Client::new();
    let layer = b"a layer another repository holds";
    let digest = oci_digest::Digest::compute(layer);
    let pushed = http
        .post(format!("{base}/v2/holder/blobs/uploads/?digest={digest}"))
        .body(layer.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), StatusCode::CREATED);

    let mount = |from: Option<&str>| {
        let from = from.map_or(String::new(), |repo| format!("&from={repo}"));
        http.post(format!(
            "{base}/v2/other/blobs/uploads/?mount={digest}{from}"
        ))
        .send()
    };
    assert_eq!(mount(None).await.unwrap().status(), StatusCode::ACCEPTED);
    let named = mount(Some("holder")).await.unwrap();
    assert_eq!(
        named.status(),
        StatusCode::CREATED,
        "a mount from a named repository still works"
    );
    assert!(registry.terminate().success());
}
