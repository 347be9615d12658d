//! Cases, their outcomes, and the runner that records them.
//!
//! A case is a named body that makes requests and records assertions into [`Checks`]; it rests
//! on a [`Basis`]. A failed assertion records "expected ..., got ..." and the body carries on,
//! so one case reports every problem it sees. Cases run in order, in groups (a flow such as
//! "chunked upload" or one data set); a *setup* case that fails, or that finds a feature the
//! group needs missing, blocks the rest of its group, whose cases are then skipped (unless
//! `--keep-going`, for failures), so the report shows the cause instead of a cascade. Teardown
//! cases always run.
//!
//! A case resting on an optional feature the registry is known not to offer is not run: it is
//! skipped with the reason, or failed when the user asked for the feature with `--require`.

use std::collections::BTreeSet;

use super::basis::{Basis, Feature};
use super::checks::{Availability, Checks, Features};
pub use super::scope::{Level, Scope, Workflow};
use super::summary::print_result;

/// How a case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every assertion held.
    Passed,
    /// Every MUST held, some SHOULD did not (the warnings are on the result).
    Warned,
    /// At least one MUST failed; the reasons.
    Failed(Vec<String>),
    /// Not run, or not applicable to this registry; the reason.
    Skipped(String),
}

/// One finished case.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Where it belongs.
    pub scope: Scope,
    /// What it rests on.
    pub basis: Basis,
    /// Its name.
    pub name: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Unmet SHOULDs, whatever the outcome.
    pub warnings: Vec<String>,
    /// Remarks recorded by the case.
    pub notes: Vec<String>,
}

/// What a run asks of the runner: which workflows, which features are required, whether to
/// carry on after a failed setup.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunPolicy {
    /// Run test cases even after their group's setup failed.
    pub keep_going: bool,
    /// Workflows whose test cases run; empty means all.
    pub only: BTreeSet<Workflow>,
    /// Features whose absence fails the run.
    pub required: BTreeSet<Feature>,
}

/// Runs cases, prints each as it finishes, and keeps the results.
#[derive(Debug)]
pub struct Report {
    results: Vec<CaseResult>,
    blocked: Option<String>,
    policy: RunPolicy,
    features: Features,
}

/// The kinds of case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Setup,
    Test,
    Teardown,
}

impl Report {
    /// An empty report following `policy`.
    pub fn new(policy: RunPolicy) -> Report {
        Report {
            results: Vec::new(),
            blocked: None,
            policy,
            features: Features::new(),
        }
    }

    /// Starts a group of cases: prints its title and lifts any block left by the last group.
    pub fn group(&mut self, title: &str) {
        println!("\n== {title}");
        self.blocked = None;
    }

    /// Whether any of `workflows` was selected with `--only`.
    pub fn selects_any(&self, workflows: &[Workflow]) -> bool {
        self.policy.only.is_empty() || workflows.iter().any(|w| self.policy.only.contains(w))
    }

    /// Runs a test case.
    pub async fn case(
        &mut self,
        scope: Scope,
        basis: Basis,
        name: &str,
        body: impl AsyncFnOnce(&mut Checks),
    ) {
        self.run(Kind::Test, scope, basis, name, body).await;
    }

    /// Runs a setup case: when it fails, or finds a feature missing, the rest of its group is
    /// skipped (see the module doc).
    pub async fn setup(
        &mut self,
        scope: Scope,
        basis: Basis,
        name: &str,
        body: impl AsyncFnOnce(&mut Checks),
    ) {
        self.run(Kind::Setup, scope, basis, name, body).await;
    }

    /// Runs a teardown case: it runs even when the group is blocked.
    pub async fn teardown(
        &mut self,
        scope: Scope,
        basis: Basis,
        name: &str,
        body: impl AsyncFnOnce(&mut Checks),
    ) {
        self.run(Kind::Teardown, scope, basis, name, body).await;
    }

    async fn run(
        &mut self,
        kind: Kind,
        scope: Scope,
        basis: Basis,
        name: &str,
        body: impl AsyncFnOnce(&mut Checks),
    ) {
        if kind == Kind::Test && !self.selects_any(&[scope.workflow]) {
            return;
        }
        let unavailable = basis.feature().and_then(|f| self.absence(f));
        let outcome = match (&self.blocked, unavailable) {
            (Some(reason), _) if kind != Kind::Teardown => Some(Outcome::Skipped(reason.clone())),
            (_, Some(outcome)) => Some(outcome),
            _ => None,
        };
        let result = match outcome {
            Some(outcome) => self.result(scope, basis, name, outcome, Vec::new(), Vec::new()),
            None => {
                let mut checks = Checks::new(basis, self.features.clone());
                body(&mut checks).await;
                self.judge(scope, basis, name, checks)
            }
        };
        if kind == Kind::Setup && self.blocked.is_none() {
            match &result.outcome {
                Outcome::Failed(_) if !self.policy.keep_going => {
                    self.blocked = Some(format!("setup {name:?} failed"));
                }
                Outcome::Skipped(reason) => {
                    self.blocked = Some(format!("setup {name:?} skipped: {reason}"));
                }
                _ => {}
            }
        }
        print_result(&result);
        self.results.push(result);
    }

    /// The outcome of a case resting on `feature` when the registry lacks it.
    fn absence(&self, feature: Feature) -> Option<Outcome> {
        let Some(Availability::NotOffered(reason)) = self.features.get(&feature) else {
            return None;
        };
        Some(if self.policy.required.contains(&feature) {
            Outcome::Failed(vec![format!(
                "required feature {feature} is not offered: {reason}"
            )])
        } else {
            Outcome::Skipped(format!(
                "optional feature {feature} is not offered: {reason}"
            ))
        })
    }

    /// Turns what a case recorded into its result, learning the features it found.
    fn judge(&mut self, scope: Scope, basis: Basis, name: &str, checks: Checks) -> CaseResult {
        let recorded = checks.finish();
        self.features.extend(recorded.found);
        let own_feature_missing = basis.feature().and_then(|f| self.absence(f));
        let outcome = if !recorded.failures.is_empty() {
            Outcome::Failed(recorded.failures)
        } else if let Some(outcome) = own_feature_missing {
            outcome
        } else if let Some(reason) = recorded.skipped {
            Outcome::Skipped(reason)
        } else if !recorded.warnings.is_empty() {
            Outcome::Warned
        } else {
            Outcome::Passed
        };
        self.result(
            scope,
            basis,
            name,
            outcome,
            recorded.warnings,
            recorded.notes,
        )
    }

    fn result(
        &self,
        scope: Scope,
        basis: Basis,
        name: &str,
        outcome: Outcome,
        warnings: Vec<String>,
        notes: Vec<String>,
    ) -> CaseResult {
        CaseResult {
            scope,
            basis,
            name: name.to_string(),
            outcome,
            warnings,
            notes,
        }
    }

    /// All results so far.
    pub fn results(&self) -> &[CaseResult] {
        &self.results
    }

    /// What the run found about the registry's optional features.
    pub fn features(&self) -> &Features {
        &self.features
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PULL: Scope = Scope::v1_1(Workflow::Pull);
    const MUST: Basis = Basis::Must("test");
    const CATALOG: Basis = Basis::Feature(Feature::Catalog, "test");

    fn run<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    fn outcomes(report: &Report) -> Vec<&Outcome> {
        report.results().iter().map(|r| &r.outcome).collect()
    }

    #[test]
    fn failed_setup_skips_the_rest_of_its_group_but_not_teardown() {
        let mut report = Report::new(RunPolicy::default());
        run(async {
            report.group("first");
            report
                .setup(PULL, MUST, "setup", async |c: &mut Checks| c.fail("boom"))
                .await;
            report
                .case(PULL, MUST, "test", async |_: &mut Checks| {})
                .await;
            report
                .teardown(PULL, MUST, "teardown", async |_: &mut Checks| {})
                .await;
            report.group("second");
            report
                .case(PULL, MUST, "next group", async |_: &mut Checks| {})
                .await;
        });
        let outcomes = outcomes(&report);
        assert_eq!(outcomes[0], &Outcome::Failed(vec!["boom".into()]));
        assert!(matches!(outcomes[1], Outcome::Skipped(_)));
        assert_eq!(outcomes[2], &Outcome::Passed, "teardown runs");
        assert_eq!(outcomes[3], &Outcome::Passed, "a new group is not blocked");
    }

    #[test]
    fn keep_going_runs_cases_after_a_failed_setup() {
        let policy = RunPolicy {
            keep_going: true,
            ..RunPolicy::default()
        };
        let mut report = Report::new(policy);
        run(async {
            report
                .setup(PULL, MUST, "setup", async |c: &mut Checks| c.fail("boom"))
                .await;
            report
                .case(PULL, MUST, "test", async |c: &mut Checks| {
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
    fn a_failure_wins_over_a_skip_and_a_warning_alone_warns() {
        let mut report = Report::new(RunPolicy::default());
        run(async {
            report
                .case(PULL, MUST, "both", async |c: &mut Checks| {
                    c.fail("bad");
                    c.skip("why");
                })
                .await;
            report
                .case(PULL, MUST, "warned", async |c: &mut Checks| {
                    c.should("s", |c| c.fail("meh"));
                })
                .await;
        });
        assert!(matches!(report.results()[0].outcome, Outcome::Failed(_)));
        assert_eq!(report.results()[1].outcome, Outcome::Warned);
    }

    #[test]
    fn a_missing_feature_skips_its_cases_or_fails_them_when_required() {
        for required in [false, true] {
            let mut policy = RunPolicy::default();
            if required {
                policy.required.insert(Feature::Catalog);
            }
            let mut report = Report::new(policy);
            run(async {
                report
                    .case(PULL, CATALOG, "detects", async |c: &mut Checks| {
                        c.not_offered(Feature::Catalog, "404");
                    })
                    .await;
                report
                    .case(PULL, CATALOG, "never runs", async |c: &mut Checks| {
                        c.fail("ran");
                    })
                    .await;
            });
            for outcome in outcomes(&report) {
                match outcome {
                    Outcome::Failed(reasons) => {
                        assert!(required, "{reasons:?}");
                        assert!(reasons[0].contains("required feature catalog"));
                    }
                    Outcome::Skipped(reason) => {
                        assert!(!required);
                        assert!(reason.contains("catalog is not offered: 404"), "{reason}");
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
    }

    #[test]
    fn a_setup_that_finds_its_feature_missing_blocks_its_group() {
        let mut report = Report::new(RunPolicy::default());
        run(async {
            report
                .setup(PULL, CATALOG, "setup", async |c: &mut Checks| {
                    c.not_offered(Feature::Catalog, "404");
                })
                .await;
            report
                .case(PULL, MUST, "test", async |c: &mut Checks| c.fail("ran"))
                .await;
        });
        assert!(matches!(report.results()[1].outcome, Outcome::Skipped(_)));
    }

    #[test]
    fn only_runs_the_selected_workflows_test_cases() {
        let policy = RunPolicy {
            only: [Workflow::Push].into(),
            ..RunPolicy::default()
        };
        let mut report = Report::new(policy);
        run(async {
            report
                .setup(PULL, MUST, "setup", async |_: &mut Checks| {})
                .await;
            report
                .case(PULL, MUST, "pull", async |_: &mut Checks| {})
                .await;
            let push = Scope::v1_1(Workflow::Push);
            report
                .case(push, MUST, "push", async |_: &mut Checks| {})
                .await;
        });
        let names: Vec<&str> = report.results().iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["setup", "push"]);
    }
}
