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

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use crate::cargo::workspace_root;
use crate::error::XtaskError;

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
/// A single input running longer than this (seconds) is reported as a hang.
const INPUT_TIMEOUT_SECONDS: u64 = 20;
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

/// How one target's fuzzing went.
struct Outcome {
    target: String,
    stats: RunStats,
    crashes: Vec<PathBuf>,
    passed: bool,
}

/// The final statistics libFuzzer prints with `-print_final_stats=1`.
#[derive(Debug, Default, PartialEq, Eq)]
struct RunStats {
    runs: Option<u64>,
    runs_per_second: Option<u64>,
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
        outcomes.push(fuzz_target(&fuzz_dir, &host, target, &options)?);
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

/// The nightly toolchain's host triple, which names the folder cargo-fuzz builds into.
fn host_triple() -> Result<String, XtaskError> {
    let command = "rustc +nightly -vV (run .ci/install-fuzz first)";
    let output = nightly_tool("rustc")
        .arg("-vV")
        .output()
        .map_err(|source| XtaskError::Spawn {
            command: command.to_string(),
            source,
        })?;
    if !output.status.success() {
        return Err(XtaskError::CommandFailed {
            command: command.to_string(),
            status: output.status,
        });
    }
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(text
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .unwrap_or("x86_64-unknown-linux-gnu")
        .trim()
        .to_string())
}

/// `rustc` or `cargo` of the nightly toolchain, through the rustup proxy on `PATH` (this
/// task itself runs under the stable toolchain, whose choice must not leak into the child).
fn nightly_tool(tool: &str) -> Command {
    let mut command = Command::new(tool);
    command
        .arg("+nightly")
        .current_dir(workspace_root())
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("RUSTC")
        .env_remove("RUSTDOC")
        .env_remove("CARGO");
    command
}

/// `cargo +nightly fuzz <subcommand>` on this workspace's fuzz crate, with the settings every
/// subcommand must agree on (so `run` reuses what `build` built, where the replay finds it).
fn cargo_fuzz(subcommand: &str, host: &str, sanitizer: &str) -> Command {
    let mut command = nightly_tool("cargo");
    command.args([
        "fuzz",
        subcommand,
        "--fuzz-dir",
        FUZZ_DIR,
        "--target-dir",
        &format!("{FUZZ_DIR}/target"),
        "--target",
        host,
        "--sanitizer",
        sanitizer,
        "--debug-assertions",
    ]);
    command
}

/// Runs `target`'s binary on every file of `regressions/<target>/`; returns the files that
/// still crash it.
fn replay_regressions(
    fuzz_dir: &Path,
    binaries: &Path,
    target: &str,
) -> Result<Vec<PathBuf>, XtaskError> {
    let inputs = files_in(&fuzz_dir.join("regressions").join(target))?;
    if inputs.is_empty() {
        return Ok(Vec::new());
    }
    eprintln!(
        "==> {target}: replaying {} regression input(s)",
        inputs.len()
    );
    let binary = binaries.join(target);
    let mut failed = Vec::new();
    for input in inputs {
        let output = Command::new(&binary)
            .arg(&input)
            .output()
            .map_err(|source| XtaskError::Spawn {
                command: format!("{} {}", binary.display(), input.display()),
                source,
            })?;
        if !output.status.success() {
            eprintln!("{}", String::from_utf8_lossy(&output.stderr));
            eprintln!("regression input {} crashes {target}", input.display());
            failed.push(input);
        }
    }
    Ok(failed)
}

/// Fuzzes `target` on a temporary copy of its seed corpus.
fn fuzz_target(
    fuzz_dir: &Path,
    host: &str,
    target: &str,
    options: &Options,
) -> Result<Outcome, XtaskError> {
    let corpus = tempfile::Builder::new()
        .prefix(&format!("fuzz-corpus-{target}-"))
        .tempdir()?;
    for seed in files_in(&fuzz_dir.join("corpus").join(target))? {
        if let Some(name) = seed.file_name() {
            fs::copy(&seed, corpus.path().join(name))?;
        }
    }
    let artifacts = fuzz_dir.join("artifacts").join(target);
    let before: BTreeSet<PathBuf> = files_in(&artifacts)?.into_iter().collect();

    let mut command = cargo_fuzz("run", host, &options.sanitizer);
    command.arg(target).arg(corpus.path()).arg("--");
    command.args(libfuzzer_flags(options));
    command.stderr(Stdio::piped());
    eprintln!("==> {target}: fuzzing");
    let mut child = command.spawn().map_err(|source| XtaskError::Spawn {
        command: format!("cargo +nightly fuzz run {target}"),
        source,
    })?;
    let mut stats = RunStats::default();
    let mut in_dictionary = false;
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines() {
            let line = line?;
            stats.read_line(&line);
            // The dictionary libFuzzer recommends at the end is only for tuning by hand.
            in_dictionary |= line.starts_with("###### Recommended dictionary");
            if !in_dictionary && !is_progress_noise(&line) {
                eprintln!("{line}");
            }
            in_dictionary &= !line.starts_with("###### End of recommended dictionary");
        }
    }
    let status = child.wait()?;
    let crashes = files_in(&artifacts)?
        .into_iter()
        .filter(|file| !before.contains(file))
        .collect();
    Ok(Outcome {
        target: target.to_string(),
        stats,
        crashes,
        passed: status.success(),
    })
}

fn libfuzzer_flags(options: &Options) -> Vec<String> {
    let mut flags = vec![
        "-print_final_stats=1".to_string(),
        format!("-timeout={INPUT_TIMEOUT_SECONDS}"),
    ];
    if let Some(seconds) = options.seconds {
        flags.push(format!("-max_total_time={seconds}"));
    }
    if let Some(runs) = options.runs {
        flags.push(format!("-runs={runs}"));
    }
    flags
}

/// libFuzzer's line for every new coverage point or smaller input: too many to show.
fn is_progress_noise(line: &str) -> bool {
    line.starts_with('#') && (line.contains("\tNEW ") || line.contains("\tREDUCE "))
}

impl RunStats {
    fn read_line(&mut self, line: &str) {
        let value = |prefix: &str| {
            line.strip_prefix(prefix)
                .and_then(|rest| rest.trim().parse().ok())
        };
        if let Some(runs) = value("stat::number_of_executed_units:") {
            self.runs = Some(runs);
        }
        if let Some(rate) = value("stat::average_exec_per_sec:") {
            self.runs_per_second = Some(rate);
        }
    }
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

/// The first bytes of an input, escaped for the terminal.
fn preview(bytes: &[u8]) -> String {
    const SHOWN: usize = 200;
    let mut text: String = bytes[..bytes.len().min(SHOWN)].escape_ascii().to_string();
    if bytes.len() > SHOWN {
        text.push_str(&format!("... ({} bytes)", bytes.len()));
    }
    text
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
        assert_eq!(
            libfuzzer_flags(&options),
            [
                "-print_final_stats=1",
                "-timeout=20",
                "-max_total_time=5",
                "-runs=7"
            ]
        );
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
    fn final_stats_are_read() {
        let mut stats = RunStats::default();
        for line in [
            "#1048576\tpulse  cov: 312 ft: 1200 corp: 80/2Kb exec/s: 52428 rss: 60Mb",
            "Done 1572864 runs in 31 second(s)",
            "stat::number_of_executed_units: 1572864",
            "stat::average_exec_per_sec:     50737",
            "stat::new_units_added:          12",
        ] {
            stats.read_line(line);
        }
        assert_eq!(
            stats,
            RunStats {
                runs: Some(1_572_864),
                runs_per_second: Some(50_737)
            }
        );
    }

    #[test]
    fn progress_noise_is_recognised() {
        assert!(is_progress_noise(
            "#57\tNEW    cov: 88 ft: 89 corp: 3/12b lim: 4 exec/s: 0 rss: 40Mb L: 4/4 MS: 1 ChangeBit-"
        ));
        assert!(!is_progress_noise(
            "#1048576\tpulse  cov: 312 ft: 1200 corp: 80/2Kb exec/s: 52428 rss: 60Mb"
        ));
        assert!(!is_progress_noise(
            "==123== ERROR: libFuzzer: deadly signal"
        ));
    }

    #[test]
    fn previews_escape_and_cut() {
        assert_eq!(preview(b"GET /\r\n\x00"), "GET /\\r\\n\\x00");
        assert!(preview(&[b'a'; 300]).ends_with("... (300 bytes)"));
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
