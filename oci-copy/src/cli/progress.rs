//! Showing a run: a progress bar on a terminal, one log line per step elsewhere.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex, PoisonError};

use indicatif::{ProgressBar, ProgressStyle};
use oci_copy::execute::ProgressFn;
use oci_copy::plan::Action;
use oci_copy::{Event, Outcome, Plan, Report};

/// The progress callback for running `plan`, and the bar it drives (on a terminal).
pub(crate) fn reporter(plan: &Plan) -> (ProgressFn, Option<ProgressBar>) {
    let summary = plan.summary();
    let steps = plan.steps.len();
    if !std::io::stderr().is_terminal() {
        let labels: Vec<String> = plan.steps.iter().map(step_label).collect();
        let callback: ProgressFn = Arc::new(move |event: &Event| {
            if let Event::Finished { step, outcome } = event
                && !matches!(outcome, Outcome::Skipped)
            {
                let label = labels.get(*step).map(String::as_str).unwrap_or("?");
                tracing::info!(step, ?outcome, "{label}");
            }
        });
        return (callback, None);
    }
    let bar = ProgressBar::new(summary.bytes);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} {msg}",
    ) {
        bar.set_style(style);
    }
    let shown = bar.clone();
    let seen: Mutex<HashMap<usize, u64>> = Mutex::new(HashMap::new());
    let finished = Mutex::new(0usize);
    let callback: ProgressFn = Arc::new(move |event: &Event| match event {
        Event::Bytes { step, done, .. } => {
            let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
            let before = seen.insert(*step, *done).unwrap_or(0);
            shown.inc(done.saturating_sub(before));
        }
        Event::Finished { .. } => {
            let mut finished = finished.lock().unwrap_or_else(PoisonError::into_inner);
            *finished += 1;
            shown.set_message(format!("{finished}/{steps} steps"));
        }
        // Starts, and events added later, change no bar.
        _ => {}
    });
    (callback, Some(bar))
}

fn step_label(step: &oci_copy::plan::Step) -> String {
    let digest = &step.descriptor.digest;
    match &step.action {
        Action::CopyBlob => format!("copied blob {digest} ({} bytes)", step.descriptor.size),
        Action::Mount { from } => format!("mounted blob {digest} from {from}"),
        Action::PutManifest => format!("put manifest {digest}"),
        Action::Tag { tag: Some(tag) } => format!("tagged {tag} -> {digest}"),
        Action::Tag { tag: None } => format!("recorded {digest}"),
        Action::Skip { .. } => format!("skipped {digest}"),
    }
}

/// One line saying what a run did.
pub(crate) fn summary_line(report: &Report) -> String {
    let copied = report.count(Outcome::Copied { bytes: 0 });
    let mounted = report.count(Outcome::Mounted);
    let done = report.count(Outcome::Done);
    let skipped = report.count(Outcome::Skipped);
    let failed = report.count(Outcome::Failed) + report.count(Outcome::NotRun);
    let seconds = report.elapsed.as_secs_f64();
    let mib = report.bytes_copied() as f64 / (1024.0 * 1024.0);
    format!(
        "{copied} blob(s) copied ({mib:.1} MiB), {mounted} mounted, {done} manifest(s)/tag(s) written, {skipped} skipped, {failed} failed, in {seconds:.2}s"
    )
}
