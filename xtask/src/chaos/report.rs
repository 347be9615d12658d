//! What `cargo xtask chaos` prints: a line per history, its violations, and the shortest
//! failing history's requests (all of them also go to the history's log).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;

use super::history::Action;
use super::model::Acks;
use super::run::Verdict;
use super::violation::Via;
use crate::error::XtaskError;

/// Requests printed of a failing history; the log has them all.
const PRINTED_REQUESTS: usize = 400;

/// One line about a history.
pub fn summary(verdict: &Verdict) -> String {
    let plan = &verdict.plan;
    let mut line = format!(
        "history seed {}: {} operations ({} requests) by {} clients on {} {:?} instance(s){}, \
         {} gc runs{}, {:.1}s: {} violations",
        plan.seed,
        verdict.ops,
        verdict.history.requests.len(),
        plan.clients,
        plan.instances,
        plan.backend,
        if plan.kill {
            format!(", {} kills", verdict.kills)
        } else {
            String::new()
        },
        verdict.collections.runs,
        match verdict.collections.failures.len() {
            0 => String::new(),
            failed => format!(" ({failed} failed)"),
        },
        verdict.elapsed.as_secs_f64(),
        verdict.violations.len(),
    );
    if !verdict.violations.is_empty() {
        line.push_str(&format!(" (log: {})", verdict.log.display()));
    }
    line
}

/// What the history exercised: blob acknowledgements by kind, manifest PUTs and DELETEs
/// acknowledged, slow PATCHes accepted.
pub fn coverage(verdict: &Verdict) -> String {
    let history = &verdict.history;
    let acks = Acks::of(history);
    let answered = |wanted: fn(&Action) -> bool, status: u16| {
        history
            .requests
            .iter()
            .filter(|request| wanted(&request.action) && request.outcome.answered() == Some(status))
            .count()
    };
    format!(
        "  acknowledged: {} uploads, {} re-uploads, {} mounts, {} HEAD skips, {} slow PATCHes, \
         {} manifest PUTs, {} manifest DELETEs",
        acks.count(Via::Upload),
        acks.count(Via::Reupload),
        acks.count(Via::Mount),
        acks.count(Via::Head),
        answered(|a| matches!(a, Action::UploadPatch { slow: true, .. }), 202),
        answered(|a| matches!(a, Action::ManifestPut { .. }), 201),
        answered(|a| matches!(a, Action::ManifestDelete { .. }), 202),
    )
}

/// How many violations of each kind, then every violation, one per line.
pub fn violations(verdict: &Verdict) {
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for violation in &verdict.violations {
        let mut name = violation.kind.to_string();
        if let Some(problem) = violation.kind.problem() {
            name.push_str(&format!(" [problem {problem}]"));
        }
        *kinds.entry(name).or_default() += 1;
    }
    for (kind, count) in kinds {
        println!("  {count} x {kind}");
    }
    for violation in &verdict.violations {
        println!("  violation: {violation}");
    }
}

/// The shortest failing history: how to replay it, its violations (when it is not the history
/// just reported) and its requests.
pub fn shortest(verdict: &Verdict, shrunk: bool) -> Result<(), XtaskError> {
    let plan = &verdict.plan;
    println!(
        "shortest failing history: --seed {} --histories 1 --ops {} --clients {} ({} requests, \
         window {:.1}s)",
        plan.seed,
        plan.ops,
        plan.clients,
        verdict.history.requests.len(),
        verdict.history.window.as_secs_f64()
    );
    if shrunk {
        violations(verdict);
    }
    let mut log = File::options().append(true).open(&verdict.log)?;
    writeln!(log, "history:")?;
    for request in &verdict.history.requests {
        writeln!(log, "{request}")?;
    }
    for request in verdict.history.requests.iter().take(PRINTED_REQUESTS) {
        println!("  {request}");
    }
    let rest = verdict
        .history
        .requests
        .len()
        .saturating_sub(PRINTED_REQUESTS);
    if rest > 0 {
        println!("  ... {rest} more in {}", verdict.log.display());
    }
    for span in &verdict.history.down {
        println!(
            "  instance down {:.3}s-{:.3}s",
            span.start.as_secs_f64(),
            span.end.as_secs_f64()
        );
    }
    Ok(())
}
