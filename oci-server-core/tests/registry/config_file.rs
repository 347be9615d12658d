//! `--config FILE` and `oci-registry config check`: the README's example is valid, flags win
//! over the file, and a key that names no setting is refused with its line.

use std::process::Command;

use reqwest::StatusCode;

use crate::process;

/// The TOML block of the README's "Configuration file" section.
fn readme_example() -> String {
    let readme = include_str!("../../README.md");
    let section = readme
        .split("### Configuration file")
        .nth(1)
        .expect("the README has a Configuration file section");
    let block = section
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the section has a TOML block");
    block.to_owned()
}

fn check(file: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_oci-registry"))
        .args(["config", "check"])
        .arg(file)
        .output()
        .unwrap()
}

#[test]
fn the_readme_example_is_a_valid_configuration() {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), readme_example()).unwrap();
    let output = check(file.path());
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for line in [
        "listen = \"127.0.0.1:5000\"  # from the file",
        "gc_interval = \"6h\"  # from the file",
        "metrics_listen = \"127.0.0.1:9090\"  # from the file",
        "max_manifest_size = 4194304  # from the file",
    ] {
        assert!(printed.contains(line), "{line:?} missing from:\n{printed}");
    }
}

#[test]
fn unknown_keys_and_bad_values_are_refused() {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        "listen = \"127.0.0.1:0\"\n[gc]\nintervall = \"1h\"\n",
    )
    .unwrap();
    let output = check(file.path());
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("line 3") && said.contains("gc.intervall"),
        "{said}"
    );

    std::fs::write(file.path(), "max_manifest_size = \"big\"\n").unwrap();
    let output = check(file.path());
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("max-manifest-size"),
        "a bad value names its setting"
    );
}

#[tokio::test]
async fn the_server_reads_the_file_and_flags_win() {
    let root = tempfile::tempdir().unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        format!(
            "storage = {:?}\nmax_manifest_size = 64\n",
            root.path().display().to_string()
        ),
    )
    .unwrap();
    let config = file.path().as_os_str();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [],
        "annotations": {"padding": "x".repeat(100)},
    }))
    .unwrap();
    let put = |base: String| {
        let manifest = manifest.clone();
        async move {
            reqwest::Client::new()
                .put(format!("{base}/v2/app/manifests/v1"))
                .header("content-type", "application/vnd.oci.image.index.v1+json")
                .body(manifest)
                .send()
                .await
                .unwrap()
                .status()
        }
    };

    let from_file = process::spawn(&["--config".as_ref(), config], &[]);
    assert_eq!(
        put(from_file.base().to_owned()).await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    drop(from_file);
    let overridden = process::spawn(
        &[
            "--config".as_ref(),
            config,
            "--max-manifest-size".as_ref(),
            "100000".as_ref(),
        ],
        &[],
    );
    assert_eq!(put(overridden.base().to_owned()).await, StatusCode::CREATED);
}
