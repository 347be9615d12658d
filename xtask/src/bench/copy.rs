//! The copy benchmark, which belongs to `oci-copy`: its `bench_copy` example compares
//! `oci-copy` with `regctl` and `skopeo` and prints a Markdown table. We run it and include what it prints.
//!
//! The hook: build the release binaries the example drives (`oci-registry`, `oci-copy`), then
//! `cargo run --release -p oci-copy --example bench_copy` on each image shape; its standard
//! output is taken as Markdown when it holds a table. The example picks its repetitions.

use std::process::Stdio;

use crate::cargo::{cargo_command, run_cargo};

const COMMAND: &str = "cargo run --release -p oci-copy --example bench_copy";

/// What the copy benchmark gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyOutcome {
    /// The example printed a table (its whole output, as Markdown).
    Table(String),
    /// The example ran but printed no table: it is not written yet.
    NoTable,
    /// The example could not be built or run.
    Failed(String),
}

/// The images copied, as the example's arguments (layers per platform, MiB per layer): many
/// small layers (each relayed in one `PUT`), and one large layer per platform (above the
/// streamed limit: relayed in `PATCH` chunks).
const SHAPES: [[&str; 2]; 2] = [["20", "10"], ["1", "512"]];

/// Builds the binaries, runs the example on each of [`SHAPES`] and classifies its output.
pub fn run() -> CopyOutcome {
    let build = [
        "build",
        "--release",
        "-p",
        "oci-server-core",
        "-p",
        "oci-copy",
    ];
    if let Err(error) = run_cargo(&build) {
        return CopyOutcome::Failed(error.to_string());
    }
    let mut tables = Vec::new();
    for shape in SHAPES {
        let mut command = cargo_command();
        command
            .args([
                "run",
                "--release",
                "--quiet",
                "-p",
                "oci-copy",
                "--example",
                "bench_copy",
                "--",
            ])
            .args(shape)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit());
        match command.output() {
            Ok(output) if output.status.success() => tables.push(
                String::from_utf8_lossy(&output.stdout)
                    .trim_end()
                    .to_string(),
            ),
            Ok(output) => {
                return CopyOutcome::Failed(format!("`{COMMAND}` failed ({})", output.status));
            }
            Err(error) => {
                return CopyOutcome::Failed(format!("could not start `{COMMAND}`: {error}"));
            }
        }
    }
    classify(&tables.join("\n\n"))
}

/// A table when some line is a Markdown table row.
fn classify(stdout: &str) -> CopyOutcome {
    if stdout
        .lines()
        .any(|line| line.trim_start().starts_with('|'))
    {
        CopyOutcome::Table(stdout.trim_end().to_string())
    } else {
        CopyOutcome::NoTable
    }
}

impl CopyOutcome {
    /// The Markdown section for BENCHMARKS.md.
    pub fn to_markdown(&self) -> String {
        let body = match self {
            CopyOutcome::Table(table) => format!("From `{COMMAND}`:\n\n{table}\n"),
            CopyOutcome::NoTable => format!(
                "Not measured yet: `{COMMAND}` ran but printed no table (the example is still \
                 a stub). Once it prints a Markdown table, this section includes it.\n"
            ),
            CopyOutcome::Failed(reason) => format!("Not measured: {reason}.\n"),
        };
        format!("## Copy (oci-copy vs regctl and skopeo)\n\n{body}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_with_a_table_row_is_a_table() {
        let stdout = "copy 64 MiB\n| tool | MiB/s |\n|---|---|\n| oci-copy | 900 |\n\n";
        assert_eq!(
            classify(stdout),
            CopyOutcome::Table(stdout.trim_end().to_string())
        );
        assert_eq!(classify(""), CopyOutcome::NoTable);
        assert_eq!(classify("nothing to see\n"), CopyOutcome::NoTable);
    }

    #[test]
    fn every_outcome_renders_a_section() {
        for outcome in [
            CopyOutcome::Table("| a |".to_string()),
            CopyOutcome::NoTable,
            CopyOutcome::Failed("boom".to_string()),
        ] {
            assert!(outcome.to_markdown().starts_with("## Copy"));
        }
    }
}
