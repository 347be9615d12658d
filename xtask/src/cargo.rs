//! Running cargo (and other commands) from a task.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::error::XtaskError;

/// The cargo that runs this task (`$CARGO`), falling back to `cargo` on `PATH`.
pub fn cargo_command() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(workspace_root());
    command
}

/// The workspace root: the parent of this crate's folder.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}

/// Runs `cargo <args>` with inherited output and fails unless it succeeds.
pub fn run_cargo(args: &[&str]) -> Result<(), XtaskError> {
    let mut command = cargo_command();
    command.args(args);
    let status = command.status().map_err(|source| XtaskError::Spawn {
        command: describe(args),
        source,
    })?;
    if status.success() {
        Ok(())
    } else {
        Err(XtaskError::CommandFailed {
            command: describe(args),
            status,
        })
    }
}

/// Builds `binary` of `package` and returns the path cargo reports for the executable, read from
/// `--message-format=json` so that any target directory layout works.
pub fn build_binary(package: &str, binary: &str, release: bool) -> Result<PathBuf, XtaskError> {
    let mut args = vec![
        "build",
        "--package",
        package,
        "--bin",
        binary,
        "--message-format=json-render-diagnostics",
    ];
    if release {
        args.push("--release");
    }
    let mut command = cargo_command();
    command
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let output = command.output().map_err(|source| XtaskError::Spawn {
        command: describe(&args),
        source,
    })?;
    if !output.status.success() {
        return Err(XtaskError::CommandFailed {
            command: describe(&args),
            status: output.status,
        });
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    executable_from_messages(&stdout, binary).ok_or_else(|| XtaskError::BinaryNotFound {
        binary: binary.to_string(),
    })
}

/// Finds the `executable` of the `compiler-artifact` message for `binary` in cargo's JSON lines.
fn executable_from_messages(messages: &str, binary: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter(|message| message["target"]["name"] == binary)
        .find_map(|message| message["executable"].as_str().map(PathBuf::from))
}

fn describe(args: &[&str]) -> String {
    format!("cargo {}", args.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_executable_of_the_named_binary() {
        let messages = concat!(
            r#"{"reason":"compiler-artifact","target":{"name":"other"},"executable":"/t/other"}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"name":"oci-registry"},"executable":"/t/debug/oci-registry"}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
        );
        assert_eq!(
            executable_from_messages(messages, "oci-registry"),
            Some(PathBuf::from("/t/debug/oci-registry"))
        );
        assert_eq!(executable_from_messages(messages, "missing"), None);
    }
}
