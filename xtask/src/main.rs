//! Developer tasks for the workspace, run as `cargo xtask <task>`.
//!
//! - `conformance`: builds `oci-registry`, starts it on a free port with a temporary store and runs
//!   the OCI distribution conformance checks against it (the official suite when
//!   `OCI_CONFORMANCE_BIN` names one, otherwise the project's own checks in [`conformance`]).
//! - `bench`: `oci-registry` against Debian's `docker-registry` (and `oci-copy`'s copy benchmark),
//!   side by side; writes `xtask/BENCHMARKS.md` (see [`bench`](mod@bench)).
//! - `package-check`: runs `cargo package` for each publishable crate on its own.
//! - `fuzz`: replays the fuzz regressions, then runs each cargo-fuzz target of `xtask/fuzz`
//!   for a bounded time ([`fuzz`]).
//! - `chaos`: randomized concurrent histories against one or several `oci-registry` instances
//!   while garbage collection sweeps in a loop (optionally killing instances), then a check
//!   that nothing acknowledged was lost ([`chaos`]).
//! - `test`: the workspace tests, then the conformance checks on both storage backends and in
//!   every authentication mode, then short chaos runs ([`chaos::TEST_RUNS`]).
//!
//! The modules, in the order a reader needs them:
//! - [`error`]: the one error type of the tasks.
//! - [`conformance`]: options, the runner, the checks and the report.
//! - [`official`]: running the official conformance binary and reading its `junit.xml`.
//! - [`bench`](mod@bench): `cargo xtask bench`.
//! - [`package_check`]: `cargo xtask package-check`.
//! - [`fuzz`]: `cargo xtask fuzz`.
//! - [`chaos`]: `cargo xtask chaos`.
//! - [`cargo`]: small helpers to run cargo and other commands.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod bench;
mod cargo;
mod chaos;
mod conformance;
mod error;
mod fuzz;
mod official;
mod package_check;

use std::process::ExitCode;

use error::XtaskError;

const USAGE: &str = "\
usage: cargo xtask <task> [options]

tasks:
  bench           benchmark oci-registry against docker-registry (see --help)
  chaos           random concurrent histories with GC and kills; checks nothing is lost
  conformance     run the OCI conformance checks against oci-registry (see --help)
  package-check   run `cargo package` for every publishable crate
  test            run the workspace tests, the conformance checks (fs and s3, each without
                  authentication, with Basic and with tokens) and short chaos runs (fs;
                  s3 with two instances and kills)
  fuzz            run the cargo-fuzz targets for a bounded time (see --help)
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let task = args.next();
    let rest: Vec<String> = args.collect();
    let outcome = match task.as_deref() {
        Some("bench") => bench::main(&rest),
        Some("chaos") => chaos::main(&rest),
        Some("conformance") => conformance::main(&rest),
        Some("package-check") => package_check::main(&rest),
        Some("test") => run_tests(&rest),
        Some("fuzz") => fuzz::main(&rest),
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(XtaskError::Usage(USAGE.to_string())),
    };
    match outcome {
        Ok(code) => code,
        Err(XtaskError::Usage(text)) => {
            eprint!("{text}");
            ExitCode::from(2)
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask test`: every crate's tests (and the server's pull-through cache, which sits
/// behind a feature the workspace run leaves off), then the conformance checks on the
/// filesystem store and on the object-storage backend, each without authentication, with HTTP
/// Basic and with the token service, allowing neither a failure nor a warning: so one command
/// answers "does the workspace work". Extra arguments go to every conformance run.
/// Last, the short chaos runs ([`chaos::TEST_RUNS`]): nothing acknowledged is lost to GC.
fn run_tests(conformance_args: &[String]) -> Result<ExitCode, XtaskError> {
    cargo::run_cargo(&["test", "--workspace", "--locked"])?;
    cargo::run_cargo(&[
        "test",
        "--locked",
        "--package",
        "oci-server-core",
        "--features",
        "pull-through",
        "--test",
        "registry",
        "pull_through",
    ])?;
    let mut failed = Vec::new();
    for storage in ["fs", "s3"] {
        for auth in ["none", "basic", "token"] {
            let mut args: Vec<String> = ["--storage", storage, "--auth", auth, "--deny-warnings"]
                .iter()
                .map(|arg| arg.to_string())
                .collect();
            args.extend_from_slice(conformance_args);
            println!("\n=== conformance: --storage {storage} --auth {auth}");
            if conformance::main(&args)? != ExitCode::SUCCESS {
                failed.push(format!("--storage {storage} --auth {auth}"));
            }
        }
    }
    for chaos_run in chaos::TEST_RUNS {
        let chaos_args: Vec<String> = chaos_run.iter().map(|arg| arg.to_string()).collect();
        if chaos::main(&chaos_args)? != ExitCode::SUCCESS {
            failed.push(format!("chaos {}", chaos_run.join(" ")));
        }
    }
    if failed.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!("failed: {}", failed.join("; "));
    Ok(ExitCode::FAILURE)
}
