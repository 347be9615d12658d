//! Interop with a real container engine: podman imports an image into its own (temporary, vfs)
//! storage, pushes it to `oci-registry`, forgets it and pulls it back. The image that comes back
//! has the same image ID (its config digest), and the registry serves what podman pushed.
//!
//! Needs `podman` on PATH (`bash .ci/install-peers` installs it); runs rootful with the vfs
//! storage driver under a temporary root, so it touches no system image store.

use std::path::Path;
use std::process::Command;

use oci_test_support::peers::podman;

use crate::process;

/// Imports a root filesystem tarball as image `name`; returns the image ID (hex, no
/// algorithm prefix).
pub fn podman_import(state: &Path, tarball: &Path, name: &str) -> String {
    let imported = podman(
        state,
        &["import", "--quiet", tarball.to_str().unwrap(), name],
    );
    imported.trim().trim_start_matches("sha256:").to_owned()
}

/// A root filesystem tarball with one file, made by the system's `tar`.
pub fn write_rootfs_tar(work: &Path) -> std::path::PathBuf {
    let rootfs = work.join("rootfs");
    std::fs::create_dir_all(rootfs.join("etc")).unwrap();
    std::fs::write(rootfs.join("etc/greeting"), "hello from podman\n").unwrap();
    let tarball = work.join("rootfs.tar");
    let status = Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .arg("-cf")
        .arg(&tarball)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
    tarball
}

#[tokio::test]
async fn podman_pushes_and_pulls_back_the_same_image() {
    let work = tempfile::tempdir().unwrap();
    let registry = process::start(&work.path().join("store"), &[]);
    let state = work.path().join("podman");
    let tarball = write_rootfs_tar(work.path());
    let remote = format!("{}/podman/greeting:v1", registry.host());

    let image_id = podman_import(&state, &tarball, "localhost/greeting:v1");
    podman(
        &state,
        &[
            "push",
            "--quiet",
            "--tls-verify=false",
            "localhost/greeting:v1",
            &format!("docker://{remote}"),
        ],
    );
    podman(&state, &["rmi", "localhost/greeting:v1"]);

    podman(&state, &["pull", "--quiet", "--tls-verify=false", &remote]);
    let pulled_id = podman(
        &state,
        &["image", "inspect", "--format", "{{.Id}}", &remote],
    );
    assert_eq!(pulled_id.trim(), image_id);

    // The registry answers for the config podman pushed, under its digest.
    let config = format!("sha256:{image_id}");
    let answer = reqwest::Client::new()
        .head(format!(
            "{}/v2/podman/greeting/blobs/{config}",
            registry.base()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::OK);
}
