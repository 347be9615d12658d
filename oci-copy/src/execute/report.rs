//! What a run reports: [`Event`]s as it goes, a [`Report`] at the end.

use std::time::Duration;

use serde::Serialize;

use oci_spec_types::{Digest, MediaType};

use crate::error::{Error, Result};
use crate::plan::{Action, Plan, StepId};

/// Something that happened while running a plan. `Started` and `Bytes` name the content
/// (digest and media type) as well as the step, so a listener needs no plan to show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// A step started.
    Started {
        /// The step.
        step: StepId,
        /// The content it concerns (for a tag: the manifest the tag points to).
        digest: Digest,
        /// The content's media type.
        media_type: MediaType,
        /// For a tag step, the tag it writes.
        tag: Option<String>,
    },
    /// Bytes of a blob went through.
    Bytes {
        /// The step.
        step: StepId,
        /// The blob.
        digest: Digest,
        /// The blob's media type.
        media_type: MediaType,
        /// Bytes so far.
        done: u64,
        /// The blob's size.
        total: u64,
    },
    /// A step ended.
    Finished {
        /// The step.
        step: StepId,
        /// How.
        outcome: Outcome,
    },
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// Skipped by the plan.
    Skipped,
    /// Blob copied.
    Copied {
        /// Bytes written.
        bytes: u64,
    },
    /// Blob mounted.
    Mounted,
    /// Manifest written or tag set.
    Done,
    /// Failed (see [`Report::errors`]).
    Failed,
    /// Not run: something it needs failed, or the run stopped first.
    NotRun,
}

impl Outcome {
    pub(crate) fn succeeded(self) -> bool {
        matches!(
            self,
            Outcome::Skipped | Outcome::Copied { .. } | Outcome::Mounted | Outcome::Done
        )
    }
}

/// One step's result as `--json` prints it: which step, what it did to which content
/// (the [`Action`] with its `kind` and, for a tag, the tag), how it ended and why not.
#[derive(Debug, Serialize)]
pub struct StepResult<'a> {
    /// The step.
    pub step: StepId,
    /// What it did.
    #[serde(flatten)]
    pub action: &'a Action,
    /// The content (for a tag: the manifest it points to).
    pub digest: &'a Digest,
    /// Its media type.
    pub media_type: &'a MediaType,
    /// Its size in bytes.
    pub size: u64,
    /// How it ended.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Why it failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What a run did.
#[derive(Debug)]
pub struct Report {
    /// The outcome of each step, by [`StepId`].
    pub outcomes: Vec<Outcome>,
    /// The failures, in the order they happened, each with its step (`None` for a failure
    /// of the run itself: a task that panicked, or a run stopped before every step ended).
    pub errors: Vec<(Option<StepId>, Error)>,
    /// How long the run took.
    pub elapsed: Duration,
}

impl Report {
    /// Whether every step succeeded.
    pub fn is_success(&self) -> bool {
        self.outcomes.iter().all(|outcome| outcome.succeeded())
    }

    /// Blob bytes copied.
    pub fn bytes_copied(&self) -> u64 {
        self.outcomes
            .iter()
            .map(|outcome| {
                if let Outcome::Copied { bytes } = outcome {
                    *bytes
                } else {
                    0
                }
            })
            .sum()
    }

    /// Each step of `plan` (the plan this report is of) with its outcome and error.
    pub fn step_results<'a>(&'a self, plan: &'a Plan) -> Vec<StepResult<'a>> {
        plan.steps
            .iter()
            .zip(&self.outcomes)
            .map(|(step, outcome)| StepResult {
                step: step.id,
                action: &step.action,
                digest: &step.descriptor.digest,
                media_type: &step.descriptor.media_type,
                size: step.descriptor.size,
                outcome: *outcome,
                error: self
                    .errors
                    .iter()
                    .find(|(failed, _)| *failed == Some(step.id))
                    .map(|(_, error)| crate::error::chain_text(error)),
            })
            .collect()
    }

    /// How many steps ended with `wanted` (compared by kind).
    pub fn count(&self, wanted: Outcome) -> usize {
        let kind = std::mem::discriminant(&wanted);
        self.outcomes
            .iter()
            .filter(|outcome| std::mem::discriminant(*outcome) == kind)
            .count()
    }

    /// The report when every step succeeded, else [`Error::StepsFailed`] with the first
    /// failure.
    pub fn into_result(mut self) -> Result<Report> {
        if self.is_success() {
            return Ok(self);
        }
        let failed = self
            .outcomes
            .iter()
            .filter(|outcome| !outcome.succeeded())
            .count();
        let total = self.outcomes.len();
        let first = match self.errors.drain(..).next() {
            Some((_, error)) => error,
            None => Error::Unsupported {
                end: "executor".into(),
                operation: "an interrupted run",
            },
        };
        Err(Error::StepsFailed {
            failed,
            total,
            first: Box::new(first),
        })
    }
}
