//! What a run reports: [`Event`]s as it goes, a [`Report`] at the end.

use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::plan::StepId;

/// Something that happened while running a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A step started.
    Started {
        /// The step.
        step: StepId,
    },
    /// Bytes of a blob went through.
    Bytes {
        /// The step.
        step: StepId,
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

/// What a run did.
#[derive(Debug)]
pub struct Report {
    /// The outcome of each step, by [`StepId`].
    pub outcomes: Vec<Outcome>,
    /// The failures, in the order they happened.
    pub errors: Vec<(StepId, Error)>,
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
