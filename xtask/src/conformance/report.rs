//! Cases, their outcomes, and the summary printed at the end.
//!
//! A case is a named body that makes requests and records assertions into [`Checks`]. A failed
//! assertion records "expected ..., got ..." and the body carries on, so one case reports every
//! problem it sees. Cases run in order, in groups (a flow such as "chunked upload" or one data
//! set); a failed *setup* case blocks the rest of its group, whose cases are then skipped (unless
//! `--keep-going`), so the report shows the cause instead of a cascade. Teardown cases always run.

use std::fmt;

/// The four workflows of the distribution spec's conformance section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Workflow {
    /// Pulling manifests and blobs.
    Pull,
    /// Pushing blobs (every upload flavour) and manifests.
    Push,
    /// Tag listing, catalog and referrers.
    ContentDiscovery,
    /// Deleting tags, manifests and blobs.
    ContentManagement,
}

impl Workflow {
    /// All workflows in report order.
    pub const ALL: [Workflow; 4] = [
        Workflow::Pull,
        Workflow::Push,
        Workflow::ContentDiscovery,
        Workflow::ContentManagement,
    ];
}

impl fmt::Display for Workflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Workflow::Pull => "Pull",
            Workflow::Push => "Push",
            Workflow::ContentDiscovery => "Content Discovery",
            Workflow::ContentManagement => "Content Management",
        })
    }
}

/// Which version of the spec a case comes from, so a v1.1 registry can be judged on v1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Covered by distribution-spec v1.1 and its conformance suite.
    V1_1,
    /// Newer than v1.1.1: spec main and the data-driven harness.
    Newer,
}

/// Where a case belongs: its workflow and spec level.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    /// The workflow.
    pub workflow: Workflow,
    /// The spec level.
    pub level: Level,
}

impl Scope {
    /// A v1.1 case of `workflow`.
    pub const fn v1_1(workflow: Workflow) -> Scope {
        Scope {
            workflow,
            level: Level::V1_1,
        }
    }

    /// A case for a feature newer than v1.1.1.
    pub const fn newer(workflow: Workflow) -> Scope {
        Scope {
            workflow,
            level: Level::Newer,
        }
    }
}

/// The assertions of one running case.
#[derive(Debug, Default)]
pub struct Checks {
    failures: Vec<String>,
    skipped: Option<String>,
    notes: Vec<String>,
}

impl Checks {
    /// Records a failure.
    pub fn fail(&mut self, reason: impl Into<String>) {
        self.failures.push(reason.into());
    }

    /// Records a failure unless `ok`; returns `ok`.
    pub fn check(&mut self, ok: bool, reason: impl FnOnce() -> String) -> bool {
        if !ok {
            self.fail(reason());
        }
        ok
    }

    /// Records a failure unless `expected == got`; returns whether they matched.
    pub fn equal<T: PartialEq + fmt::Debug + ?Sized>(
        &mut self,
        what: &str,
        expected: &T,
        got: &T,
    ) -> bool {
        self.check(expected == got, || {
            format!("{what}: expected {expected:?}, got {got:?}")
        })
    }

    /// Marks the case skipped (not passed, not failed), with the reason.
    pub fn skip(&mut self, reason: impl Into<String>) {
        self.skipped = Some(reason.into());
    }

    /// Adds a remark shown with the result even when the case passes (an optional feature
    /// the registry chose not to offer, for example).
    pub fn note(&mut self, remark: impl Into<String>) {
        self.notes.push(remark.into());
    }
}

/// How a case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every assertion held.
    Passed,
    /// At least one assertion failed; the reasons.
    Failed(Vec<String>),
    /// Not run, or not applicable to this registry; the reason.
    Skipped(String),
}

/// One finished case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Where it belongs.
    pub scope: Scope,
    /// Its name.
    pub name: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Remarks recorded by the case.
    pub notes: Vec<String>,
}

/// Passed, failed and skipped counts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
    /// Cases skipped.
    pub skipped: usize,
}

impl Counts {
    /// Adds one outcome.
    pub fn add(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Passed => self.passed += 1,
            Outcome::Failed(_) => self.failed += 1,
            Outcome::Skipped(_) => self.skipped += 1,
        }
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

/// Collects results, prints each as it finishes, and prints the summary.
#[derive(Debug)]
pub struct Report {
    results: Vec<CaseResult>,
    blocked: Option<String>,
    keep_going: bool,
}

impl Report {
    /// An empty report; `keep_going` runs cases even after their workflow's setup failed.
    pub fn new(keep_going: bool) -> Report {
        Report {
            results: Vec::new(),
            blocked: None,
            keep_going,
        }
    }

    /// Starts a group of cases: prints its title and lifts any block left by the last group.
    pub fn group(&mut self, title: &str) {
        println!("\n== {title}");
        self.blocked = None;
    }

    /// Runs a test case.
    pub async fn case(&mut self, scope: Scope, name: &str, body: impl AsyncFnOnce(&mut Checks)) {
        if let Some(reason) = self.blocked.clone() {
            self.record(scope, name, Checks::default(), Some(reason));
            return;
        }
        let mut checks = Checks::default();
        body(&mut checks).await;
        self.record(scope, name, checks, None);
    }

    /// Runs a setup case: when it fails, the rest of its group is skipped (see the module doc).
    pub async fn setup(&mut self, scope: Scope, name: &str, body: impl AsyncFnOnce(&mut Checks)) {
        let before = self.results.len();
        self.case(scope, name, body).await;
        let failed = self
            .results
            .get(before)
            .is_some_and(|result| matches!(result.outcome, Outcome::Failed(_)));
        if failed && !self.keep_going {
            self.blocked = Some(format!("setup {name:?} failed"));
        }
    }

    /// Runs a teardown case: it runs even when the workflow is blocked.
    pub async fn teardown(
        &mut self,
        scope: Scope,
        name: &str,
        body: impl AsyncFnOnce(&mut Checks),
    ) {
        let mut checks = Checks::default();
        body(&mut checks).await;
        self.record(scope, name, checks, None);
    }

    fn record(&mut self, scope: Scope, name: &str, checks: Checks, blocked: Option<String>) {
        let outcome = match (blocked, checks.skipped) {
            (Some(reason), _) => Outcome::Skipped(reason),
            (None, _) if !checks.failures.is_empty() => Outcome::Failed(checks.failures),
            (None, Some(reason)) => Outcome::Skipped(reason),
            (None, None) => Outcome::Passed,
        };
        let result = CaseResult {
            scope,
            name: name.to_string(),
            outcome,
            notes: checks.notes,
        };
        print_result(&result);
        self.results.push(result);
    }

    /// All results so far.
    #[cfg(test)]
    pub fn results(&self) -> &[CaseResult] {
        &self.results
    }

    /// Totals over every case.
    pub fn totals(&self) -> Counts {
        let mut counts = Counts::default();
        for result in &self.results {
            counts.add(&result.outcome);
        }
        counts
    }

    /// Prints the per-workflow summary and the final `conformance: ...` line.
    pub fn print_summary(&self) {
        println!("\nsummary:");
        for workflow in Workflow::ALL {
            let mut all = Counts::default();
            let mut newer = Counts::default();
            for result in self.results.iter().filter(|r| r.scope.workflow == workflow) {
                all.add(&result.outcome);
                if result.scope.level == Level::Newer {
                    newer.add(&result.outcome);
                }
            }
            println!("  {:<20} {all}   (newer than v1.1: {newer})", workflow);
        }
        println!("conformance: {}", self.totals());
    }
}

fn print_result(result: &CaseResult) {
    let newer = match result.scope.level {
        Level::V1_1 => "",
        Level::Newer => " [newer]",
    };
    let label = format!("[{}]{newer}", result.scope.workflow);
    match &result.outcome {
        Outcome::Passed => println!("ok      {label} {}", result.name),
        Outcome::Skipped(reason) => println!("skip    {label} {} ({reason})", result.name),
        Outcome::Failed(reasons) => {
            println!("FAIL    {label} {}", result.name);
            for reason in reasons {
                println!("          - {reason}");
            }
        }
    }
    for note in &result.notes {
        println!("          note: {note}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PULL: Scope = Scope::v1_1(Workflow::Pull);

    fn run<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn failed_setup_skips_the_rest_of_its_group_but_not_teardown() {
        let mut report = Report::new(false);
        run(async {
            report.group("first");
            report
                .setup(PULL, "setup", async |c: &mut Checks| c.fail("boom"))
                .await;
            report.case(PULL, "test", async |_: &mut Checks| {}).await;
            report
                .teardown(PULL, "teardown", async |_: &mut Checks| {})
                .await;
            report.group("second");
            report
                .case(PULL, "next group", async |_: &mut Checks| {})
                .await;
        });
        let outcomes: Vec<_> = report.results().iter().map(|r| &r.outcome).collect();
        assert_eq!(outcomes[0], &Outcome::Failed(vec!["boom".into()]));
        assert!(matches!(outcomes[1], Outcome::Skipped(_)));
        assert_eq!(outcomes[2], &Outcome::Passed, "teardown runs");
        assert_eq!(outcomes[3], &Outcome::Passed, "a new group is not blocked");
        assert_eq!(
            report.totals(),
            Counts {
                passed: 2,
                failed: 1,
                skipped: 1
            }
        );
    }

    #[test]
    fn keep_going_runs_cases_after_a_failed_setup() {
        let mut report = Report::new(true);
        run(async {
            report
                .setup(PULL, "setup", async |c: &mut Checks| c.fail("boom"))
                .await;
            report
                .case(PULL, "test", async |c: &mut Checks| {
                    c.equal("status", &200, &404);
                })
                .await;
        });
        assert_eq!(
            report.results()[1].outcome,
            Outcome::Failed(vec!["status: expected 200, got 404".into()])
        );
    }

    #[test]
    fn a_failure_wins_over_a_skip() {
        let mut report = Report::new(false);
        run(async {
            report
                .case(PULL, "both", async |c: &mut Checks| {
                    c.fail("bad");
                    c.skip("why");
                })
                .await;
        });
        assert!(matches!(report.results()[0].outcome, Outcome::Failed(_)));
    }
}
