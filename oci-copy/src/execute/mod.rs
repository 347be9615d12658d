//! Running a [`Plan`]: steps start as soon as what they need is done (and the steps they
//! come [`after`](crate::plan::Step::after) have ended), a bounded number at a time; mounts
//! go before copies, large blobs before small ones, manifests after their content, and
//! tags after every other step, a child's tags before its index's.

mod blob;
mod limits;
mod manifest;
mod report;
mod step;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::end::{Sink, Source};
use crate::error::{Error, Result};
use crate::plan::{Action, Plan, Step, StepId};
use step::StepWork;

pub use limits::Limits;
pub use report::{Event, Outcome, Report, StepResult};

/// Receives [`Event`]s; called on the task doing the work, so it must be quick.
pub type ProgressFn = Arc<dyn Fn(&Event) + Send + Sync>;

/// Steps in flight at most by default, and each registry's slots ([`Limits`]) by default.
pub const DEFAULT_CONCURRENCY: NonZeroUsize = NonZeroUsize::new(8).unwrap();
/// Extra tries of a failed step by default.
pub const DEFAULT_RETRIES: u32 = 3;

/// How to run a plan.
#[derive(Clone)]
pub struct ExecuteOptions {
    /// Steps in flight at most (each registry is further bounded by [`Limits`]).
    pub concurrency: NonZeroUsize,
    /// Go on after a failure with every step that does not depend on it.
    pub keep_going: bool,
    /// Extra tries of a failed step, and resumptions of a broken blob stream.
    pub retries: u32,
    /// Slots per registry, shared with other copies running at the same time.
    pub limits: Limits,
    /// Where progress goes.
    pub progress: Option<ProgressFn>,
}

impl Default for ExecuteOptions {
    fn default() -> Self {
        ExecuteOptions {
            concurrency: DEFAULT_CONCURRENCY,
            keep_going: false,
            retries: DEFAULT_RETRIES,
            limits: Limits::default(),
            progress: None,
        }
    }
}

impl std::fmt::Debug for ExecuteOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecuteOptions")
            .field("concurrency", &self.concurrency)
            .field("keep_going", &self.keep_going)
            .field("retries", &self.retries)
            .finish_non_exhaustive()
    }
}

/// Runs `plan` from `source` to `sink`, then lets the sink finish (archives are written
/// then) when every step succeeded.
pub async fn execute(
    plan: &Plan,
    source: Arc<dyn Source>,
    sink: Arc<dyn Sink>,
    options: &ExecuteOptions,
) -> Result<Report> {
    let started = Instant::now();
    let mut run = Run::new(plan, options);
    let mut tasks: JoinSet<(StepId, Result<Outcome>)> = JoinSet::new();
    loop {
        if run.stopped {
            tasks.abort_all();
        }
        while !run.stopped && tasks.len() < options.concurrency.get() {
            let Some(id) = run.next_ready() else { break };
            let step = &plan.steps[id];
            if let Action::Skip { .. } = step.action {
                run.finish(id, Outcome::Skipped);
                continue;
            }
            let started = Event::Started {
                step: id,
                digest: step.descriptor.digest.clone(),
                media_type: step.descriptor.media_type.clone(),
                tag: match &step.action {
                    Action::Tag { tag, .. } => tag.clone(),
                    _ => None,
                },
            };
            emit(options, &started);
            let work = StepWork::new(plan, step, &source, &sink, options);
            tasks.spawn(async move { (id, work.run().await) });
        }
        let Some(joined) = tasks.join_next().await else {
            if run.release_tags() {
                continue;
            }
            break;
        };
        match joined {
            Ok((id, Ok(outcome))) => run.finish(id, outcome),
            Ok((id, Err(error))) => {
                tracing::error!(step = id, %error, "step failed");
                run.errors.push((Some(id), error));
                run.finish(id, Outcome::Failed);
            }
            Err(join_error) if join_error.is_cancelled() => {}
            Err(join_error) => run.errors.push((None, Error::Task(join_error))),
        }
    }
    let mut report = run.into_report(started.elapsed());
    if report.is_success() {
        sink.finish().await?;
    } else if report.errors.is_empty() {
        report.errors.push((
            None,
            Error::Unsupported {
                end: sink.describe(),
                operation: "an interrupted run",
            },
        ));
    }
    Ok(report)
}

fn emit(options: &ExecuteOptions, event: &Event) {
    if let Some(progress) = &options.progress {
        progress(event);
    }
}

/// Scheduling order: mounts, then blob copies (largest first), then manifests, then tags.
fn priority(step: &Step) -> (u8, Reverse<u64>) {
    match step.action {
        Action::Skip { .. } => (0, Reverse(0)),
        Action::Mount { .. } => (1, Reverse(0)),
        Action::CopyBlob => (2, Reverse(step.descriptor.size)),
        Action::PutManifest => (3, Reverse(0)),
        Action::Tag { .. } => (4, Reverse(0)),
    }
}

/// Ready steps, the first to run on top: by [`priority`], then by plan order.
type ReadyQueue = BinaryHeap<(Reverse<(u8, Reverse<u64>)>, Reverse<StepId>)>;

/// The bookkeeping of one run.
struct Run<'p> {
    plan: &'p Plan,
    options: &'p ExecuteOptions,
    /// Needs not yet met and steps to come after not yet ended, per step.
    waiting: Vec<usize>,
    /// The steps that need each step.
    dependents: Vec<Vec<StepId>>,
    /// The steps that come after each step, however it ends.
    followers: Vec<Vec<StepId>>,
    outcomes: Vec<Option<Outcome>>,
    ready: ReadyQueue,
    /// Tags whose needs are met, held until every other step ended.
    held_tags: Vec<StepId>,
    other_steps_left: usize,
    errors: Vec<(Option<StepId>, Error)>,
    stopped: bool,
}

impl<'p> Run<'p> {
    fn new(plan: &'p Plan, options: &'p ExecuteOptions) -> Self {
        let mut dependents = vec![Vec::new(); plan.steps.len()];
        let mut followers = vec![Vec::new(); plan.steps.len()];
        for step in &plan.steps {
            for &need in &step.needs {
                dependents[need].push(step.id);
            }
            for &before in &step.after {
                followers[before].push(step.id);
            }
        }
        let other_steps_left = plan.steps.iter().filter(|step| !is_tag(step)).count();
        let mut run = Run {
            plan,
            options,
            waiting: plan
                .steps
                .iter()
                .map(|step| step.needs.len() + step.after.len())
                .collect(),
            dependents,
            followers,
            outcomes: vec![None; plan.steps.len()],
            ready: BinaryHeap::new(),
            held_tags: Vec::new(),
            other_steps_left,
            errors: Vec::new(),
            stopped: false,
        };
        for step in &plan.steps {
            if run.waiting[step.id] == 0 {
                run.make_ready(step.id);
            }
        }
        run
    }

    fn make_ready(&mut self, id: StepId) {
        let step = &self.plan.steps[id];
        if is_tag(step) && self.other_steps_left > 0 {
            self.held_tags.push(id);
        } else {
            self.ready.push((Reverse(priority(step)), Reverse(id)));
        }
    }

    fn next_ready(&mut self) -> Option<StepId> {
        self.ready.pop().map(|(_, Reverse(id))| id)
    }

    /// Moves held tags to the ready queue once nothing else is left; true if any moved.
    fn release_tags(&mut self) -> bool {
        if self.stopped || self.other_steps_left > 0 || self.held_tags.is_empty() {
            return false;
        }
        for id in std::mem::take(&mut self.held_tags) {
            self.ready
                .push((Reverse(priority(&self.plan.steps[id])), Reverse(id)));
        }
        true
    }

    fn finish(&mut self, id: StepId, outcome: Outcome) {
        self.record(id, outcome);
        emit(self.options, &Event::Finished { step: id, outcome });
        if outcome.succeeded() {
            for dependent in self.dependents[id].clone() {
                self.one_less_wait(dependent);
            }
        } else {
            self.skip_dependents(id);
            if !self.options.keep_going {
                self.stopped = true;
            }
        }
        self.release_followers(id);
    }

    /// Counts one wait of `id` as over; readies it when none is left.
    fn one_less_wait(&mut self, id: StepId) {
        self.waiting[id] -= 1;
        if self.waiting[id] == 0 && self.outcomes[id].is_none() {
            self.make_ready(id);
        }
    }

    /// The steps that come after `ended` wait for it no longer.
    fn release_followers(&mut self, ended: StepId) {
        for follower in self.followers[ended].clone() {
            self.one_less_wait(follower);
        }
    }

    /// Marks everything that needs `failed`, directly or not, as not run; what merely
    /// comes after those may go on (it cannot become ready while one of its needs failed).
    fn skip_dependents(&mut self, failed: StepId) {
        let mut stack = self.dependents[failed].clone();
        while let Some(id) = stack.pop() {
            if self.outcomes[id].is_none() {
                self.record(id, Outcome::NotRun);
                self.held_tags.retain(|held| *held != id);
                stack.extend(self.dependents[id].iter().copied());
                self.release_followers(id);
            }
        }
    }

    fn record(&mut self, id: StepId, outcome: Outcome) {
        if self.outcomes[id].replace(outcome).is_none() && !is_tag(&self.plan.steps[id]) {
            self.other_steps_left -= 1;
        }
    }

    fn into_report(self, elapsed: Duration) -> Report {
        let outcomes = self
            .outcomes
            .into_iter()
            .map(|outcome| outcome.unwrap_or(Outcome::NotRun))
            .collect();
        Report {
            outcomes,
            errors: self.errors,
            elapsed,
        }
    }
}

fn is_tag(step: &Step) -> bool {
    matches!(step.action, Action::Tag { .. })
}
