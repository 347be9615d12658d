//! `cargo xtask package-check`: every publishable crate must package on its own.
//!
//! The list comes from `cargo metadata` (every member whose `publish` is not `false`). A crate
//! whose dependencies are all on crates.io is packaged *and verified* (built from the tarball);
//! a crate with workspace path dependencies gets `--no-verify`, because verification would fetch
//! those dependencies from crates.io, where they are not published yet. Even without
//! verification cargo resolves the packaged crate's dependencies, so such a crate is packaged in
//! one invocation together with its workspace dependencies (`-p crate -p dep ...`): cargo then
//! resolves them from the packages it is building instead of from crates.io.

use std::collections::{BTreeMap, BTreeSet};
use std::process::{ExitCode, Stdio};

use crate::cargo::cargo_command;
use crate::error::XtaskError;

/// One crate to package, with its workspace dependencies (transitive, sorted).
#[derive(Debug, PartialEq, Eq)]
struct Publishable {
    name: String,
    workspace_dependencies: Vec<String>,
}

impl Publishable {
    /// Only a crate with no workspace dependency can be verified before they are published.
    fn verify(&self) -> bool {
        self.workspace_dependencies.is_empty()
    }
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
        command.args(["package", "--allow-dirty", "--package", &krate.name]);
        for dependency in &krate.workspace_dependencies {
            command.args(["--package", dependency]);
        }
        let mode = if krate.verify() {
            "verified".to_string()
        } else {
            command.arg("--no-verify");
            format!(
                "--no-verify, with {}",
                krate.workspace_dependencies.join(", ")
            )
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
        let mode = if krate.verify() {
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
    let packages = packages.unwrap_or_default();
    // Direct workspace (path) dependencies of every member, build and normal kinds only.
    let direct: BTreeMap<&str, Vec<&str>> = packages
        .iter()
        .filter_map(|package| {
            let dependencies = package["dependencies"].as_array().map(Vec::as_slice);
            let paths = dependencies
                .unwrap_or_default()
                .iter()
                .filter(|dep| dep["kind"].is_null() || dep["kind"] == "build")
                .filter(|dep| dep["path"].is_string())
                .filter_map(|dep| dep["name"].as_str())
                .collect();
            Some((package["name"].as_str()?, paths))
        })
        .collect();
    packages
        .iter()
        // `publish: null` means "anywhere"; `[]` is how cargo spells `publish = false`.
        .filter(|package| {
            package["publish"]
                .as_array()
                .is_none_or(|to| !to.is_empty())
        })
        .filter_map(|package| package["name"].as_str())
        .map(|name| Publishable {
            name: name.to_string(),
            workspace_dependencies: transitive(&direct, name),
        })
        .collect()
}

/// Every workspace crate `name` depends on, directly or not.
fn transitive(direct: &BTreeMap<&str, Vec<&str>>, name: &str) -> Vec<String> {
    let mut found = BTreeSet::new();
    let mut pending = vec![name];
    while let Some(current) = pending.pop() {
        for dependency in direct.get(current).into_iter().flatten() {
            if found.insert(dependency.to_string()) {
                pending.push(dependency);
            }
        }
    }
    found.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_unpublished_and_lists_transitive_workspace_dependencies() {
        let metadata = serde_json::json!({"packages": [
            {"name": "oci-digest", "publish": null, "dependencies": [
                {"name": "sha2", "kind": null},
                {"name": "proptest", "kind": "dev", "path": "/somewhere"}
            ]},
            {"name": "oci-spec-types", "publish": null, "dependencies": [
                {"name": "oci-digest", "kind": null, "path": "/w/oci-digest"}
            ]},
            {"name": "oci-copy", "publish": null, "dependencies": [
                {"name": "oci-spec-types", "kind": null, "path": "/w/oci-spec-types"}
            ]},
            {"name": "xtask", "publish": [], "dependencies": []}
        ]});
        let crates = publishable_from_metadata(&metadata);
        let names: Vec<&str> = crates.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["oci-digest", "oci-spec-types", "oci-copy"]);
        assert!(crates[0].verify());
        assert_eq!(crates[1].workspace_dependencies, ["oci-digest"]);
        assert_eq!(
            crates[2].workspace_dependencies,
            ["oci-digest", "oci-spec-types"]
        );
        assert!(!crates[2].verify());
    }
}
