//! `cargo xtask package-check`: every publishable crate must package on its own.
//!
//! The list comes from `cargo metadata` (every member whose `publish` is not `false`). A crate
//! whose dependencies are all on crates.io is packaged *and verified* (built from the tarball);
//! a crate with workspace path dependencies gets `--no-verify`, because verification would fetch
//! those dependencies from crates.io, where they are not published yet.

use std::process::{ExitCode, Stdio};

use crate::cargo::cargo_command;
use crate::error::XtaskError;

/// One crate to package, and whether its tarball can be verified.
#[derive(Debug, PartialEq, Eq)]
struct Publishable {
    name: String,
    verify: bool,
}

/// Entry point of `cargo xtask package-check`.
pub fn main(args: &[String]) -> Result<ExitCode, XtaskError> {
    if let Some(arg) = args.first() {
        return Err(XtaskError::Usage(format!(
            "usage: cargo xtask package-check\nunexpected argument {arg:?}\n"
        )));
    }
    let crates = publishable_crates()?;
    let mut failed = Vec::new();
    for krate in &crates {
        let mut command = cargo_command();
        command.args(["package", "--package", &krate.name, "--allow-dirty"]);
        if !krate.verify {
            command.arg("--no-verify");
        }
        let mode = if krate.verify {
            "verified"
        } else {
            "--no-verify"
        };
        eprintln!("==> cargo package -p {} ({mode})", krate.name);
        let status = command.status().map_err(|source| XtaskError::Spawn {
            command: format!("cargo package -p {}", krate.name),
            source,
        })?;
        if !status.success() {
            failed.push(krate.name.clone());
        }
    }
    println!();
    for krate in &crates {
        let verdict = if failed.contains(&krate.name) {
            "FAILED"
        } else {
            "ok"
        };
        let mode = if krate.verify {
            "verified"
        } else {
            "no-verify"
        };
        println!("  {verdict:<6} {:<28} {mode}", krate.name);
    }
    println!(
        "package-check: {} packaged, {} failed",
        crates.len() - failed.len(),
        failed.len()
    );
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Reads the workspace members from `cargo metadata --no-deps`.
fn publishable_crates() -> Result<Vec<Publishable>, XtaskError> {
    let mut command = cargo_command();
    command
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .stderr(Stdio::inherit());
    let output = command.output().map_err(|source| XtaskError::Spawn {
        command: "cargo metadata".to_string(),
        source,
    })?;
    if !output.status.success() {
        return Err(XtaskError::CommandFailed {
            command: "cargo metadata".to_string(),
            status: output.status,
        });
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|error| XtaskError::Report {
            path: "cargo metadata".into(),
            reason: error.to_string(),
        })?;
    Ok(publishable_from_metadata(&metadata))
}

fn publishable_from_metadata(metadata: &serde_json::Value) -> Vec<Publishable> {
    let packages = metadata["packages"].as_array().map(Vec::as_slice);
    packages
        .unwrap_or_default()
        .iter()
        // `publish: null` means "anywhere"; `[]` is how cargo spells `publish = false`.
        .filter(|package| {
            package["publish"]
                .as_array()
                .is_none_or(|to| !to.is_empty())
        })
        .filter_map(|package| {
            let name = package["name"].as_str()?.to_string();
            let has_path_dependency = package["dependencies"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .filter(|dep| dep["kind"].is_null() || dep["kind"] == "build")
                .any(|dep| dep["path"].is_string());
            Some(Publishable {
                name,
                verify: !has_path_dependency,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_unpublished_and_verifies_only_crates_without_path_dependencies() {
        let metadata = serde_json::json!({"packages": [
            {"name": "oci-digest", "publish": null, "dependencies": [
                {"name": "sha2", "kind": null},
                {"name": "proptest", "kind": "dev", "path": "/somewhere"}
            ]},
            {"name": "oci-spec-types", "publish": null, "dependencies": [
                {"name": "oci-digest", "kind": null, "path": "/w/oci-digest"}
            ]},
            {"name": "xtask", "publish": [], "dependencies": []}
        ]});
        assert_eq!(
            publishable_from_metadata(&metadata),
            vec![
                Publishable {
                    name: "oci-digest".into(),
                    verify: true
                },
                Publishable {
                    name: "oci-spec-types".into(),
                    verify: false
                },
            ]
        );
    }
}
