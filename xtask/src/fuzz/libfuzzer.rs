//! Running the built targets: the cargo-fuzz and rustc commands, the replay of regression
//! inputs, one fuzzing run, and reading what libFuzzer prints.

use std::collections::BTreeSet;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{FUZZ_DIR, Options, files_in};
use crate::cargo::workspace_root;
use crate::error::XtaskError;

/// A single input running longer than this (seconds) is reported as a hang.
const INPUT_TIMEOUT_SECONDS: u64 = 20;

/// How one target's fuzzing went.
pub(super) struct Outcome {
    pub(super) target: String,
    pub(super) stats: RunStats,
    pub(super) crashes: Vec<PathBuf>,
    pub(super) passed: bool,
}

/// The final statistics libFuzzer prints with `-print_final_stats=1`.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct RunStats {
    pub(super) runs: Option<u64>,
    pub(super) runs_per_second: Option<u64>,
}

/// The nightly toolchain's host triple, which names the folder cargo-fuzz builds into.
pub(super) fn host_triple() -> Result<String, XtaskError> {
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
pub(super) fn cargo_fuzz(subcommand: &str, host: &str, sanitizer: &str) -> Command {
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
pub(super) fn replay_regressions(
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
        // The panic message names the file and line; a backtrace would only bury it.
        let output = Command::new(&binary)
            .arg(&input)
            .env("RUST_BACKTRACE", "0")
            .output()
            .map_err(|source| XtaskError::Spawn {
                command: format!("{} {}", binary.display(), input.display()),
                source,
            })?;
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            for line in stderr.lines().filter(|line| !is_replay_chatter(line)) {
                eprintln!("  {line}");
            }
            eprintln!("regression input {} crashes {target}", input.display());
            failed.push(input);
        }
    }
    Ok(failed)
}

/// Fuzzes `target` on a temporary copy of its seed corpus.
pub(super) fn run_target(
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

/// What libFuzzer says around a replayed input that is not about the crash itself.
fn is_replay_chatter(line: &str) -> bool {
    const CHATTER: [&str; 11] = [
        "INFO:",
        "WARNING:",
        "Running:",
        "Executed ",
        "***",
        "MS:",
        "Base64:",
        "NOTE:",
        "SUMMARY:",
        "Combine libFuzzer",
        "note: run with",
    ];
    let line = line.trim_start();
    line.is_empty()
        || line.contains(": Running 1 inputs")
        || CHATTER.iter().any(|prefix| line.starts_with(prefix))
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

/// The first bytes of an input, escaped for the terminal.
pub(super) fn preview(bytes: &[u8]) -> String {
    const SHOWN: usize = 200;
    let mut text: String = bytes[..bytes.len().min(SHOWN)].escape_ascii().to_string();
    if bytes.len() > SHOWN {
        text.push_str(&format!("... ({} bytes)", bytes.len()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_become_libfuzzer_flags() {
        let options = Options {
            seconds: Some(5),
            runs: Some(7),
            sanitizer: "none".to_string(),
            targets: Vec::new(),
        };
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
    fn replay_output_keeps_the_panic() {
        let stderr = "INFO: Seed: 1\nbin/x: Running 1 inputs 1 time(s) each.\n\
            thread '<unnamed>' (9) panicked at src/range.rs:16:9:\n\
            attempt to add with overflow\n\
            note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n\
            ==9== ERROR: libFuzzer: deadly signal\nNOTE: libFuzzer has rudimentary signal handlers.\n\
            \x20     Combine libFuzzer with AddressSanitizer\nSUMMARY: libFuzzer: deadly signal\n";
        let kept: Vec<&str> = stderr.lines().filter(|l| !is_replay_chatter(l)).collect();
        assert_eq!(
            kept,
            [
                "thread '<unnamed>' (9) panicked at src/range.rs:16:9:",
                "attempt to add with overflow",
                "==9== ERROR: libFuzzer: deadly signal",
            ]
        );
    }

    #[test]
    fn previews_escape_and_cut() {
        assert_eq!(preview(b"GET /\r\n\x00"), "GET /\\r\\n\\x00");
        assert!(preview(&[b'a'; 300]).ends_with("... (300 bytes)"));
    }
}
