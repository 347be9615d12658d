//! `cargo xtask chaos`: randomized concurrent histories against `oci-registry`, with garbage
//! collection sweeping in a loop and, with `--kill`, instances killed and restarted; then a
//! check that nothing acknowledged was lost (issue #11).
//!
//! A history starts one or more instances on one store (a temporary folder, or a bucket on a
//! moto server), runs `oci-registry gc --grace 2s` back to back on that store, and lets several
//! clients perform random operations ([`workload`], [`uploads`]): monolithic, single-PUT,
//! chunked, streamed and slowly trickled uploads, re-uploads of pool content that has aged
//! past the grace period, mounts, `HEAD`s that skip uploads, manifest and index PUTs by tag and
//! by digest, tag moves, manifest and tag deletes, referrer pushes. Every request is recorded
//! with its span and answer ([`history`]); afterwards the checker judges the record
//! ([`model`]) and what the store then holds ([`expect`], read by [`observe`]): acknowledged
//! manifests not deleted since are readable by digest with every blob they name, tags hold a
//! value some ordering of their writes leaves ([`finals`]), referrers lists hold their
//! acknowledged referrers, and no 5xx came while every instance was up. [`violation`] names
//! the kinds, including which of the problems 1-3 a kind shows.
//!
//! A seed replays the same choices (operations, content, instances, kill moments); timing is
//! not replayed, so a seed that caught a race may pass on another run. On a violation the
//! seed is re-run with fewer operations and clients ([`shrink`]) and the shortest failing
//! history is printed ([`report`]); logs of the servers and the collector, and the whole
//! history, go to `<target>/chaos/`.
//!
//! The plumbing: [`options`], [`cluster`] (instances and kills), [`collector`] (the GC loop),
//! [`stop`], [`net`] (recorded requests), [`content`] (the blob pool and manifests), [`run`]
//! (one history).

mod cluster;
mod collector;
mod content;
mod expect;
mod finals;
mod history;
mod model;
#[cfg(test)]
mod model_tests;
mod net;
mod observe;
mod options;
mod report;
mod run;
mod shrink;
mod stop;
mod uploads;
mod violation;
mod workload;

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cargo::{build_binary, workspace_root};
use crate::error::XtaskError;
use options::Options;
use run::Plan;

/// The short runs inside `cargo xtask test` (about 45 s on two cores): one history on the
/// filesystem store, and one on two instances sharing a moto bucket, killed and restarted.
pub const TEST_RUNS: &[&[&str]] = &[
    &["--histories", "1", "--ops", "120", "--clients", "4"],
    &[
        "--histories",
        "1",
        "--ops",
        "72",
        "--clients",
        "4",
        "--storage",
        "s3",
        "--instances",
        "2",
        "--kill",
    ],
];

/// Entry point of `cargo xtask chaos`.
pub fn main(args: &[String]) -> Result<ExitCode, XtaskError> {
    let options = Options::parse(args)?;
    let executable = match &options.registry_bin {
        Some(path) => path.clone(),
        None => build_binary("oci-server-core", "oci-registry", options.release)?,
    };
    let log_dir = target_dir().join("chaos");
    std::fs::create_dir_all(&log_dir)?;
    let (mut ops, mut violations) = (0, 0);
    for index in 0..options.histories {
        let plan = Plan {
            seed: options.seed.wrapping_add(index as u64),
            ops: options.ops,
            clients: options.clients,
            backend: options.storage,
            instances: options.instances,
            kill: options.kill,
            grace: options.grace,
            refresh: options.refresh,
            executable: executable.clone(),
            log_dir: log_dir.clone(),
        };
        if plan.window().is_zero() {
            return Err(XtaskError::Usage(format!(
                "--grace {}s leaves no window after the liveness refresh and the store's \
                 timestamp resolution\n{}",
                plan.grace.as_secs(),
                options::USAGE
            )));
        }
        let verdict = run::run(&plan)?;
        println!("{}", report::summary(&verdict));
        println!("{}", report::coverage(&verdict));
        ops += verdict.ops;
        violations += verdict.violations.len();
        if !verdict.violations.is_empty() {
            report::violations(&verdict);
            let shortest = if options.shrink {
                shrink::shortest(verdict)?
            } else {
                verdict
            };
            report::shortest(&shortest, shortest.plan != plan)?;
        }
    }
    println!(
        "chaos: {} histories, {ops} operations, {violations} violations",
        options.histories
    );
    Ok(if violations == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Cargo's target directory: `CARGO_TARGET_DIR`, or `target/` in the workspace.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}
