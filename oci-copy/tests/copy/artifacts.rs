//! `artifact push|pull` (oras-style files as layers) and `search`, against `oci-registry`
//! and Debian's `docker-registry`.

use oci_test_support::peers::{Distribution, OciRegistry};

use crate::common::fixtures::{self, layout_with_image};
use crate::common::processes::run_oci_copy;
use crate::common::{copy, text};

const SBOM: &str = "application/vnd.example.sbom";

/// Pushes two files as a referrer of an image, lists it, pulls the files back; pushes a
/// tagged artifact without subject; refuses to write a layer titled outside the folder.
pub(crate) async fn push_and_pull(host: &str, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let (layout, index, _) = layout_with_image(dir.path(), seed).await;
    let repository = format!("{host}/verbs/artifacts");
    copy(&layout, &format!("{repository}:v1")).await;
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let report = files.join("report.json");
    let data = files.join("data.bin");
    std::fs::write(&report, br#"{"packages":[]}"#).unwrap();
    std::fs::write(&data, fixtures::noise(seed, 1024 * 1024 + 3)).unwrap();

    let report_spec = format!("{}:application/json", text(&report));
    let (code, stdout, stderr) = run_oci_copy(&[
        "artifact",
        "push",
        &repository,
        &report_spec,
        text(&data),
        "--artifact-type",
        SBOM,
        "--subject",
        "v1",
        "--annotation",
        "org.example.origin=test",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let digest = stdout.trim().to_owned();
    let (_, stdout, _) = run_oci_copy(&[
        "referrers",
        "--artifact-type",
        SBOM,
        &format!("{repository}:v1"),
    ]);
    assert_eq!(stdout.trim(), format!("{digest} {SBOM}"));
    let (_, manifest, _) = run_oci_copy(&["manifest", "get", &format!("{repository}@{digest}")]);
    let mut manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(manifest["artifactType"], SBOM);
    assert_eq!(
        manifest["subject"]["digest"],
        index.descriptor.digest.as_str()
    );
    assert_eq!(manifest["annotations"]["org.example.origin"], "test");
    assert_eq!(manifest["layers"][0]["mediaType"], "application/json");

    let pulled = dir.path().join("pulled");
    let (code, stdout, stderr) = run_oci_copy(&[
        "artifact",
        "pull",
        &format!("{repository}@{digest}"),
        "-o",
        text(&pulled),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    for original in [&report, &data] {
        let name = original.file_name().unwrap();
        assert!(
            std::fs::read(pulled.join(name)).unwrap() == std::fs::read(original).unwrap(),
            "{name:?} differs"
        );
    }

    let (code, _, stderr) = run_oci_copy(&[
        "artifact",
        "push",
        &format!("{repository}:notes"),
        text(&report),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let again = dir.path().join("again");
    let (code, _, stderr) = run_oci_copy(&[
        "artifact",
        "pull",
        &format!("{repository}:notes"),
        "-o",
        text(&again),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(again.join("report.json").is_file());

    // A manifest whose layer title climbs out of the folder is refused, nothing written.
    manifest["layers"][0]["annotations"]["org.opencontainers.image.title"] = "../escaped".into();
    let crafted = dir.path().join("crafted.json");
    std::fs::write(&crafted, serde_json::to_vec(&manifest).unwrap()).unwrap();
    let crafted_ref = format!("{repository}:crafted");
    let (code, _, stderr) = run_oci_copy(&["manifest", "put", &crafted_ref, text(&crafted)]);
    assert_eq!(code, Some(0), "{stderr}");
    let inside = dir.path().join("inside");
    let (code, _, stderr) = run_oci_copy(&["artifact", "pull", &crafted_ref, "-o", text(&inside)]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("plain file name"), "{stderr}");
    assert!(!dir.path().join("escaped").exists());
}

/// Finds repositories by a part of their names, with and without a limit.
pub(crate) async fn search_finds_by_substring(host: &str, seed: u64) {
    let dir = tempfile::tempdir().unwrap();
    let (layout, _, _) = layout_with_image(dir.path(), seed).await;
    for name in ["search/alpha", "search/beta", "other/alphabet"] {
        copy(&layout, &format!("{host}/{name}:v1")).await;
    }
    let (code, stdout, stderr) = run_oci_copy(&["search", host, "ALPHA", "--json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let mut found: Vec<String> = serde_json::from_str(&stdout).unwrap();
    found.sort_unstable();
    assert_eq!(
        found,
        [
            format!("{host}/other/alphabet"),
            format!("{host}/search/alpha")
        ]
    );
    let (code, stdout, _) = run_oci_copy(&["search", host, "alpha", "--limit", "1"]);
    assert_eq!(code, Some(0));
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let (_, stdout, _) = run_oci_copy(&["search", host, "nothing-like-it"]);
    assert_eq!(stdout, "");
}

#[tokio::test(flavor = "multi_thread")]
async fn artifacts_and_search_on_oci_registry() {
    let registry = OciRegistry::start();
    push_and_pull(registry.host(), 120).await;
    // oci-registry answers /v1/search itself.
    search_finds_by_substring(registry.host(), 121).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn artifacts_and_search_on_docker_registry() {
    if !Distribution::available() {
        eprintln!("skipped: /usr/bin/docker-registry is not installed");
        return;
    }
    let registry = Distribution::start();
    // No referrers API there: the referrer goes into the subject's fallback tag.
    push_and_pull(registry.host(), 122).await;
    // No /v1/search there (404): the catalog is filtered.
    search_finds_by_substring(registry.host(), 123).await;
}
