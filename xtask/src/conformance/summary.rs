//! Printing: each result as it finishes, and the summary at the end, whose last line is
//! `conformance: N passed, M failed, K skipped` (MUSTs) preceded by `warnings: W`.

use std::fmt;

use super::checks::{Availability, Features};
use super::report::{CaseResult, Level, Outcome, Workflow};

/// Passed, failed and skipped count the cases by their MUSTs; warned counts the cases with an
/// unmet SHOULD, whatever their MUSTs did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Cases whose MUSTs held (with or without warnings).
    pub passed: usize,
    /// Cases with a failed MUST.
    pub failed: usize,
    /// Cases skipped.
    pub skipped: usize,
    /// Cases with at least one warning.
    pub warned: usize,
}

impl Counts {
    /// Counts every result.
    pub fn of<'a>(results: impl IntoIterator<Item = &'a CaseResult>) -> Counts {
        let mut counts = Counts::default();
        for result in results {
            match result.outcome {
                Outcome::Passed | Outcome::Warned => counts.passed += 1,
                Outcome::Failed(_) => counts.failed += 1,
                Outcome::Skipped(_) => counts.skipped += 1,
            }
            if !result.warnings.is_empty() {
                counts.warned += 1;
            }
        }
        counts
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}

/// Prints one finished case: its verdict, workflow, name and basis, then its reasons.
pub fn print_result(result: &CaseResult) {
    let newer = match result.scope.level {
        Level::V1_1 => "",
        Level::Newer => " [newer]",
    };
    let verdict = match result.outcome {
        Outcome::Passed => "ok",
        Outcome::Warned => "WARN",
        Outcome::Failed(_) => "FAIL",
        Outcome::Skipped(_) => "skip",
    };
    println!(
        "{verdict:<7} [{}]{newer} {}  ({})",
        result.scope.workflow, result.name, result.basis
    );
    match &result.outcome {
        Outcome::Failed(reasons) => {
            for reason in reasons {
                println!("          - {reason}");
            }
        }
        Outcome::Skipped(reason) => println!("          - skipped: {reason}"),
        Outcome::Passed | Outcome::Warned => {}
    }
    for warning in &result.warnings {
        println!("          - warning: {warning}");
    }
    for note in &result.notes {
        println!("          note: {note}");
    }
}

/// Prints the per-workflow summary, the features found, and the closing lines.
pub fn print_summary(results: &[CaseResult], features: &Features) {
    println!("\nsummary:");
    for workflow in Workflow::ALL {
        let all = Counts::of(results.iter().filter(|r| r.scope.workflow == workflow));
        let newer = Counts::of(
            results
                .iter()
                .filter(|r| r.scope.workflow == workflow && r.scope.level == Level::Newer),
        );
        println!(
            "  {workflow:<20} {all}, {} warned   (newer than v1.1: {newer}, {} warned)",
            all.warned, newer.warned
        );
    }
    let (offered, missing): (Vec<_>, Vec<_>) = features
        .iter()
        .partition(|(_, availability)| **availability == Availability::Offered);
    let offered: Vec<String> = offered.iter().map(|(f, _)| f.to_string()).collect();
    println!("optional features offered: {}", list_or_none(&offered));
    let missing: Vec<String> = missing
        .iter()
        .map(|(feature, availability)| match availability {
            Availability::NotOffered(reason) => format!("{feature} ({reason})"),
            Availability::Offered => feature.to_string(),
        })
        .collect();
    println!("optional features not offered: {}", list_or_none(&missing));
    let totals = Counts::of(results);
    println!("warnings: {}", totals.warned);
    println!("conformance: {totals}");
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}
