//! `cargo xtask fuzz [--seconds N] [--runs N] [TARGET...]`: the cargo-fuzz targets of
//! `xtask/fuzz`, each for a bounded time or number of runs.
//!
//! 1. Builds every target once (`cargo +nightly fuzz build`, debug assertions on).
//! 2. Replays the inputs kept in `xtask/fuzz/regressions/<target>/`, one by one, on the built
//!    binary: every input that once crashed a target must now pass.
//! 3. Fuzzes each target on a temporary copy of its seed corpus (`xtask/fuzz/corpus/<target>/`),
//!    so the repository is never written to, except for crash files, which libFuzzer leaves
//!    in `xtask/fuzz/artifacts/<target>/` (ignored by git) and this task prints.
//!
//! The task fails when a regression input or a fuzz run crashes. Install the tools with
//! `.ci/install-fuzz`.

mod libfuzzer;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cargo::workspace_root;
use crate::error::XtaskError;
use libfuzzer::{Outcome, cargo_fuzz, host_triple, preview, replay_regressions, run_target};

const USAGE: &str = "\
usage: cargo xtask fuzz [--seconds N] [--runs N] [--sanitizer NAME] [TARGET...]

Builds the cargo-fuzz targets of xtask/fuzz, replays xtask/fuzz/regressions/<target>/, then
fuzzes each TARGET (all when none is named) from a temporary copy of its seed corpus.

  --seconds N        stop each target after N seconds (default 30 when --runs is not given)
  --runs N           stop each target after N runs
  --sanitizer NAME   cargo-fuzz's sanitizer: none (default), address, leak, memory, thread
";

/// The fuzz crate, relative to the workspace root.
const FUZZ_DIR: &str = "xtask/fuzz";
/// Seconds per target when neither bound is given.
const DEFAULT_SECONDS: u64 = 30;
/// The crates fuzzed forbid `unsafe`, so AddressSanitizer has little to find in them, while it
/// costs 4 to 7 times the runs per second; panics, overflow checks and debug assertions need
/// no sanitizer.
const DEFAULT_SANITIZER: &str = "none";

/// What to fuzz, and for how long.
#[derive(Debug, PartialEq, Eq)]
struct Options {
    seconds: Option<u64>,
    runs: Option<u64>,
    sanitizer: String,
    targets: Vec<String>,
}

/// Entry point of `cargo xtask fuzz`.
pub fn main(args: &[String]) -> Result<ExitCode, XtaskError> {
    let fuzz_dir = workspace_root().join(FUZZ_DIR);
    let known = known_targets(&fuzz_dir)?;
    let options = parse_args(args, &known)?;
    let host = host_triple()?;

    eprintln!("==> cargo +nightly fuzz build (all targets)");
    let mut build = cargo_fuzz("build", &host, &options.sanitizer);
    let status = build.status().map_err(|source| XtaskError::Spawn {
        command: "cargo +nightly fuzz build (run .ci/install-fuzz first)".to_string(),
        source,
    })?;
    if !status.success() {
        return Err(XtaskError::CommandFailed {
            command: "cargo +nightly fuzz build".to_string(),
            status,
        });
    }

    let binaries = fuzz_dir.join("target").join(&host).join("release");
    let mut failed_regressions = Vec::new();
    for target in &options.targets {
        failed_regressions.extend(replay_regressions(&fuzz_dir, &binaries, target)?);
    }

    let mut outcomes = Vec::new();
    for target in &options.targets {
        outcomes.push(run_target(&fuzz_dir, &host, target, &options)?);
    }

    report(&failed_regressions, &outcomes);
    let all_passed = failed_regressions.is_empty() && outcomes.iter().all(|o| o.passed);
    Ok(if all_passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn parse_args(args: &[String], known: &BTreeSet<String>) -> Result<Options, XtaskError> {
    let usage = |problem: String| XtaskError::Usage(format!("{USAGE}\n{problem}\n"));
    let mut options = Options {
        seconds: None,
        runs: None,
        sanitizer: DEFAULT_SANITIZER.to_string(),
        targets: Vec::new(),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let bound = match arg.as_str() {
            "--seconds" => &mut options.seconds,
            "--runs" => &mut options.runs,
            "--sanitizer" => {
                let name = args.next().filter(|name| !name.starts_with('-'));
                options.sanitizer = name
                    .ok_or_else(|| usage(format!("{arg} needs a name")))?
                    .clone();
                continue;
            }
            "-h" | "--help" => return Err(usage(String::new())),
            option if option.starts_with('-') => {
                return Err(usage(format!("unknown option {option:?}")));
            }
            target if known.contains(target) => {
                options.targets.push(target.to_string());
                continue;
            }
            target => {
                let names: Vec<&str> = known.iter().map(String::as_str).collect();
                return Err(usage(format!(
                    "unknown target {target:?}; the targets are: {}",
                    names.join(", ")
                )));
            }
        };
        let value = args.next().and_then(|value| value.parse::<u64>().ok());
        *bound = Some(value.ok_or_else(|| usage(format!("{arg} needs a whole number")))?);
    }
    if options.seconds.is_none() && options.runs.is_none() {
        options.seconds = Some(DEFAULT_SECONDS);
    }
    if options.targets.is_empty() {
        options.targets = known.iter().cloned().collect();
    }
    Ok(options)
}

/// The targets are the files of `fuzz_targets/`.
fn known_targets(fuzz_dir: &Path) -> Result<BTreeSet<String>, XtaskError> {
    let mut targets = BTreeSet::new();
    for entry in fs::read_dir(fuzz_dir.join("fuzz_targets"))? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "rs")
            && let Some(stem) = path.file_stem().and_then(|stem| stem.to_str())
        {
            targets.insert(stem.to_string());
        }
    }
    Ok(targets)
}

fn report(failed_regressions: &[PathBuf], outcomes: &[Outcome]) {
    println!();
    println!("  {:<18} {:>12} {:>10}  result", "target", "runs", "runs/s");
    for outcome in outcomes {
        let number = |n: Option<u64>| n.map_or_else(|| "-".to_string(), |n| n.to_string());
        let result = if outcome.passed { "ok" } else { "CRASHED" };
        println!(
            "  {:<18} {:>12} {:>10}  {result}",
            outcome.target,
            number(outcome.stats.runs),
            number(outcome.stats.runs_per_second)
        );
    }
    for outcome in outcomes.iter().filter(|outcome| !outcome.passed) {
        println!("\n{} crashed; crash input(s):", outcome.target);
        if outcome.crashes.is_empty() {
            println!("  (none written; see the output above)");
        }
        for crash in &outcome.crashes {
            println!("  {}", crash.display());
            if let Ok(bytes) = fs::read(crash) {
                println!("    {}", preview(&bytes));
            }
        }
        println!(
            "  keep it as a regression: copy it to {FUZZ_DIR}/regressions/{}/",
            outcome.target
        );
    }
    for input in failed_regressions {
        println!("\nregression input still crashes: {}", input.display());
    }
    let crashed = outcomes.iter().filter(|outcome| !outcome.passed).count();
    println!(
        "\nfuzz: {} target(s) passed, {crashed} crashed, {} regression input(s) failed",
        outcomes.len() - crashed,
        failed_regressions.len()
    );
}

/// The files of `dir`, sorted; none when it does not exist.
fn files_in(dir: &Path) -> Result<Vec<PathBuf>, XtaskError> {
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> BTreeSet<String> {
        ["digest_parse", "server_router"]
            .into_iter()
            .map(String::from)
            .collect()
    }

    fn parse(args: &[&str]) -> Result<Options, XtaskError> {
        let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
        parse_args(&args, &known())
    }

    #[test]
    fn defaults_to_every_target_for_a_bounded_time() {
        let options = parse(&[]).unwrap();
        assert_eq!(options.seconds, Some(DEFAULT_SECONDS));
        assert_eq!(options.runs, None);
        assert_eq!(options.targets, ["digest_parse", "server_router"]);
    }

    #[test]
    fn bounds_and_targets_are_read() {
        let options = parse(&["--runs", "1000", "server_router"]).unwrap();
        assert_eq!(
            options,
            Options {
                seconds: None,
                runs: Some(1000),
                sanitizer: "none".to_string(),
                targets: vec!["server_router".to_string()],
            }
        );
        let options = parse(&["--seconds", "5", "--runs", "7", "--sanitizer", "address"]).unwrap();
        assert_eq!((options.seconds, options.runs), (Some(5), Some(7)));
        assert_eq!(options.sanitizer, "address");
    }

    #[test]
    fn bad_arguments_are_usage_errors() {
        for args in [
            &["nope"][..],
            &["--seconds"],
            &["--seconds", "ten"],
            &["--sanitizer"],
            &["--frobnicate"],
        ] {
            assert!(matches!(parse(args), Err(XtaskError::Usage(_))), "{args:?}");
        }
    }

    #[test]
    fn every_target_has_a_seed_corpus() {
        let fuzz_dir = workspace_root().join(FUZZ_DIR);
        let targets = known_targets(&fuzz_dir).unwrap();
        assert!(targets.contains("server_router"), "{targets:?}");
        for target in &targets {
            let seeds = files_in(&fuzz_dir.join("corpus").join(target)).unwrap();
            assert!(!seeds.is_empty(), "{target} has no seed corpus");
        }
    }
}
