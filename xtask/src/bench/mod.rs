//! `cargo xtask bench`: this workspace's `oci-registry` against Debian's `docker-registry`
//! (CNCF distribution 2.8) on this machine, side by side, plus `oci-copy`'s copy benchmark.
//!
//! The server benchmarks, each run against a fresh server of each kind:
//! - [`blob`]: push and pull of one large blob (throughput, server peak RSS per phase);
//! - [`manifest_load`]: manifest GETs by tag from concurrent tasks (requests per second);
//! - [`chunked`]: a 100 MiB upload in 5 MiB `Content-Range` PATCHes.
//!
//! [`copy`] runs `oci-copy`'s own `bench_copy` example and includes its table. Medians of the
//! runs go into one table ([`table`], [`metric`]) inside the document of [`report`], with the
//! machine's description ([`machine`]); it is printed and written to `xtask/BENCHMARKS.md`.
//!
//! The machinery: [`peers`] starts and stops servers, [`rss`] reads their peak memory, [`api`]
//! makes the registry requests, [`generator`] makes blob bytes on the fly, [`error`] says what
//! went wrong.

mod api;
mod at_scale;
mod backends;
mod blob;
mod chunked;
mod copy;
mod cpu;
mod drain;
mod error;
mod floor;
mod generator;
mod machine;
mod manifest_load;
mod metric;
mod moto;
mod peers;
mod placement;
mod report;
mod rss;
mod s3_requests;
mod scale;
mod table;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::cargo::cargo_command;
use crate::error::XtaskError;
use error::BenchError;
use peers::{Executables, PeerKind, RunningPeer};
use report::{FloorColumn, Report, ServerTable};
use table::{Results, Side};

const USAGE: &str = "\
usage: cargo xtask bench [--runs N] [--size-mib M] [--store-dir DIR]... [--only NAME]

  --runs N         runs per benchmark and server; the table shows medians (default: 3)
  --size-mib M     size of the pushed and pulled blob in MiB (default: 1024)
  --store-dir DIR  where the servers' temporary stores go (default: the system's temporary
                   folder); given more than once, the server benchmarks run on each and get
                   a table each (say /dev/shm, to see the servers without the disk)
  --only NAME      run one benchmark: blob, manifest, chunked, copy or floor (a bare
                   receiver's CPU per GiB, the floor under a push); prints its table
                   without touching xtask/BENCHMARKS.md. `--only scale` (listings, deletes
                   and GC at 100,000 tags; `--only scale --help` for its flags) and
                   `--only s3` (S3 requests per operation) write their own sections of it

Compares oci-registry (release build) with Debian's docker-registry (/usr/bin/docker-registry;
`bash .ci/install-peers` installs it) and writes the table to xtask/BENCHMARKS.md. The bench
itself always runs as a release build: from a debug build it re-runs itself with --release.
";

/// The benchmarks, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Benchmark {
    Blob,
    Manifest,
    Chunked,
    Copy,
    Floor,
}

impl Benchmark {
    const ALL: [Benchmark; 5] = [
        Benchmark::Blob,
        Benchmark::Manifest,
        Benchmark::Chunked,
        Benchmark::Copy,
        Benchmark::Floor,
    ];

    fn name(self) -> &'static str {
        match self {
            Benchmark::Blob => "blob",
            Benchmark::Manifest => "manifest",
            Benchmark::Chunked => "chunked",
            Benchmark::Copy => "copy",
            Benchmark::Floor => "floor",
        }
    }
}

/// Command-line options of `cargo xtask bench`.
#[derive(Debug, PartialEq, Eq)]
struct Options {
    runs: usize,
    size_mib: u64,
    /// Empty means the system's temporary folder.
    store_dirs: Vec<PathBuf>,
    only: Option<Benchmark>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            runs: 3,
            size_mib: 1024,
            store_dirs: Vec::new(),
            only: None,
        }
    }
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, XtaskError> {
        let usage = |problem: String| XtaskError::Usage(format!("{problem}\n{USAGE}"));
        let mut options = Options::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .ok_or_else(|| usage(format!("{arg} needs a value")))
            };
            match arg.as_str() {
                "--runs" => options.runs = positive(arg, value()?).map_err(usage)?,
                "--size-mib" => options.size_mib = positive(arg, value()?).map_err(usage)?,
                "--store-dir" => options.store_dirs.push(PathBuf::from(value()?)),
                "--only" => {
                    let name = value()?;
                    let benchmark = Benchmark::ALL
                        .into_iter()
                        .find(|benchmark| benchmark.name() == name)
                        .ok_or_else(|| usage(format!("unknown benchmark {name:?}")))?;
                    options.only = Some(benchmark);
                }
                "-h" | "--help" => return Err(XtaskError::Usage(USAGE.to_string())),
                other => return Err(usage(format!("unknown argument {other:?}"))),
            }
        }
        Ok(options)
    }

    /// The folders the server benchmarks put their stores in, one table each.
    fn store_dirs(&self) -> Vec<PathBuf> {
        match self.store_dirs.is_empty() {
            true => vec![std::env::temp_dir()],
            false => self.store_dirs.clone(),
        }
    }

    fn selected(&self) -> Vec<Benchmark> {
        Benchmark::ALL
            .into_iter()
            .filter(|benchmark| self.only.is_none_or(|only| only == *benchmark))
            .collect()
    }

    fn command_line(&self) -> String {
        let mut line = format!(
            "cargo xtask bench --runs {} --size-mib {}",
            self.runs, self.size_mib
        );
        for dir in &self.store_dirs {
            line.push_str(&format!(" --store-dir {}", dir.display()));
        }
        if let Some(only) = self.only {
            line.push_str(&format!(" --only {}", only.name()));
        }
        line
    }
}

/// `text` as a number above zero, or the problem with it for option `option`.
fn positive<T: std::str::FromStr + Default + PartialOrd>(
    option: &str,
    text: &str,
) -> Result<T, String> {
    text.parse()
        .ok()
        .filter(|value| *value > T::default())
        .ok_or_else(|| format!("{option} wants a whole number above zero, not {text:?}"))
}

/// Runs `cargo xtask bench` with `args`.
pub fn main(args: &[String]) -> Result<ExitCode, XtaskError> {
    if let Some(outcome) = at_scale::main(args) {
        return outcome;
    }
    let options = Options::parse(args)?;
    if cfg!(debug_assertions) {
        // The client's hashing and HTTP stack take part in every measurement; unoptimised, they
        // and not the servers would set the pace. So the bench always runs as a release build.
        return rerun_in_release(args);
    }
    let document = match run(&options) {
        Ok(document) => document,
        Err(BenchError::Xtask(error)) => return Err(error),
        Err(error) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::FAILURE);
        }
    };
    print!("{document}");
    if options.only.is_none() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md");
        std::fs::write(&path, at_scale::keep_sections(&path, document))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `cargo xtask bench <args>` from a release build of this crate; returns its exit code.
fn rerun_in_release(args: &[String]) -> Result<ExitCode, XtaskError> {
    let mut command = cargo_command();
    command
        .args([
            "run",
            "--release",
            "--quiet",
            "--package",
            "xtask",
            "--",
            "bench",
        ])
        .args(args);
    let status = command.status().map_err(|source| XtaskError::Spawn {
        command: "cargo run --release --package xtask -- bench".to_string(),
        source,
    })?;
    let code = status.code().and_then(|code| u8::try_from(code).ok());
    Ok(code.map_or(ExitCode::FAILURE, ExitCode::from))
}

/// Runs the selected benchmarks and returns the document.
fn run(options: &Options) -> Result<String, BenchError> {
    let selected = options.selected();
    let server_benchmarks: Vec<Benchmark> = selected
        .iter()
        .copied()
        .filter(|benchmark| !matches!(benchmark, Benchmark::Copy | Benchmark::Floor))
        .collect();
    let executables = match server_benchmarks.is_empty() {
        true => None,
        false => Some(Executables::build()?),
    };
    let load_at_start = machine::load_average();
    let servers = match &executables {
        Some(executables) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            let mut tables = Vec::new();
            for store_dir in options.store_dirs() {
                let results = runtime.block_on(measure_servers(
                    options,
                    &server_benchmarks,
                    executables,
                    &store_dir,
                ))?;
                tables.push(ServerTable {
                    store: format!(
                        "{} ({})",
                        store_dir.display(),
                        machine::filesystem_of(&store_dir)
                    ),
                    results,
                });
            }
            tables
        }
        None => Vec::new(),
    };
    let floors = match selected.contains(&Benchmark::Floor) {
        true => measure_floors(options)?,
        false => Vec::new(),
    };
    let copy = selected.contains(&Benchmark::Copy).then(copy::run);
    let report = Report {
        command: options.command_line(),
        runs: options.runs,
        machine: machine::Machine::describe(),
        load_at_start,
        load_at_end: machine::load_average(),
        peer_versions: vec![
            machine::version_of(peers::DISTRIBUTION_BIN),
            machine::version_of("skopeo"),
            match PeerKind::olareg_present() {
                true => format!("olareg v0.2.2 ({})", peers::OLAREG_BIN),
                false => "olareg not found".to_string(),
            },
        ],
        servers,
        floors,
        copy,
    };
    Ok(report.to_markdown())
}

/// The bare receiver's CPU per GiB of each step, one column per store folder.
fn measure_floors(options: &Options) -> Result<Vec<FloorColumn>, BenchError> {
    let bytes = options.size_mib * 1024 * 1024;
    options
        .store_dirs()
        .into_iter()
        .map(|store_dir| {
            eprintln!("bench: the floor, files in {}", store_dir.display());
            Ok(FloorColumn {
                store: format!(
                    "{} ({})",
                    store_dir.display(),
                    machine::filesystem_of(&store_dir)
                ),
                seconds_per_gib: floor::measure(&store_dir, bytes, options.runs)?,
            })
        })
        .collect()
}

/// Every server benchmark, `options.runs` times, against a fresh server of each kind whose
/// store is a new folder in `store_dir`.
async fn measure_servers(
    options: &Options,
    benchmarks: &[Benchmark],
    executables: &Executables,
    store_dir: &Path,
) -> Result<Results, BenchError> {
    let mut results = Results::default();
    for run in 0..options.runs {
        // Alternate who goes first, so neither always inherits the other's disk write-back.
        let mut order = match run % 2 {
            0 => vec![PeerKind::Ours, PeerKind::Distribution],
            _ => vec![PeerKind::Distribution, PeerKind::Ours],
        };
        if PeerKind::olareg_present() {
            order.insert(1, PeerKind::Olareg);
        }
        for (index, benchmark) in benchmarks.iter().enumerate() {
            let seed = (run * Benchmark::ALL.len() + index) as u64;
            for &kind in &order {
                eprintln!(
                    "bench: run {}/{}: {} on {}, store in {}",
                    run + 1,
                    options.runs,
                    benchmark.name(),
                    kind.name(),
                    store_dir.display()
                );
                let peer = RunningPeer::start(kind, executables, store_dir).await?;
                let measurements = match benchmark {
                    Benchmark::Blob => {
                        blob::run(&peer, options.size_mib * 1024 * 1024, seed).await?
                    }
                    Benchmark::Manifest => manifest_load::run(&peer).await?,
                    Benchmark::Chunked => chunked::run(&peer, seed).await?,
                    Benchmark::Copy | Benchmark::Floor => Vec::new(),
                };
                let side = match kind {
                    PeerKind::Ours => Side::Ours,
                    PeerKind::Distribution => Side::Peer,
                    PeerKind::Olareg => Side::Other,
                };
                results.record(side, measurements);
            }
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, XtaskError> {
        let args: Vec<String> = args.iter().map(|arg| arg.to_string()).collect();
        Options::parse(&args)
    }

    #[test]
    fn defaults_and_every_option() {
        assert_eq!(parse(&[]).unwrap(), Options::default());
        let options = parse(&[
            "--runs",
            "5",
            "--size-mib",
            "64",
            "--store-dir",
            "/dev/shm",
            "--store-dir",
            "/var/tmp",
            "--only",
            "chunked",
        ])
        .unwrap();
        assert_eq!(
            options,
            Options {
                runs: 5,
                size_mib: 64,
                store_dirs: vec![PathBuf::from("/dev/shm"), PathBuf::from("/var/tmp")],
                only: Some(Benchmark::Chunked)
            }
        );
        assert_eq!(options.selected(), [Benchmark::Chunked]);
        assert_eq!(
            options.command_line(),
            "cargo xtask bench --runs 5 --size-mib 64 --store-dir /dev/shm --store-dir /var/tmp \
             --only chunked"
        );
        assert_eq!(Options::default().selected(), Benchmark::ALL);
        assert_eq!(Options::default().store_dirs(), [std::env::temp_dir()]);
    }

    #[test]
    fn bad_options_are_usage_errors() {
        for args in [
            &["--runs", "0"][..],
            &["--runs", "-1"],
            &["--runs"],
            &["--size-mib", "lots"],
            &["--store-dir"],
            &["--only", "everything"],
            &["--frobnicate"],
        ] {
            assert!(
                matches!(parse(args), Err(XtaskError::Usage(text)) if text.contains("usage:")),
                "{args:?}"
            );
        }
    }
}
