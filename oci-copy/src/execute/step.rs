//! One step of a plan, run on a task of its own.

use std::sync::Arc;

use crate::end::{RepositoryAddress, Sink, Source};
use crate::error::{Error, Result};
use crate::execute::blob::{Moved, SourceBlob, move_blob};
use crate::execute::limits::LOCAL;
use crate::execute::{ExecuteOptions, Outcome, manifest};
use crate::plan::{Action, Plan, Step, StepId};

/// Everything one step needs, owned, so it can run on its own task.
pub(crate) struct StepWork {
    id: StepId,
    step: Step,
    manifest: Option<bytes::Bytes>,
    source: Arc<dyn Source>,
    sink: Arc<dyn Sink>,
    options: ExecuteOptions,
}

impl StepWork {
    pub(crate) fn new(
        plan: &Plan,
        step: &Step,
        source: &Arc<dyn Source>,
        sink: &Arc<dyn Sink>,
        options: &ExecuteOptions,
    ) -> Self {
        StepWork {
            id: step.id,
            step: step.clone(),
            manifest: plan.manifest_bytes(&step.descriptor.digest).cloned(),
            source: source.clone(),
            sink: sink.clone(),
            options: options.clone(),
        }
    }

    /// Runs the step, trying again (up to `retries` more times) after a retryable failure,
    /// no sooner than the registry asked. A tag that fails says which tag of which
    /// destination it was.
    pub(crate) async fn run(self) -> Result<Outcome> {
        let mut tries_left = self.options.retries;
        loop {
            let error = match self.run_once().await {
                Ok(outcome) => return Ok(outcome),
                Err(error) => error,
            };
            if tries_left == 0 || !self.worth_another_try(&error).await {
                return Err(self.name_the_tag(error));
            }
            tries_left -= 1;
            tracing::warn!(step = self.id, %error, "step failed; trying again");
            // The client waits out `Retry-After` itself, except on a request it could not
            // replay (a streamed upload): that wait falls to the step.
            if let Some(wait) = error.retry_after() {
                tokio::time::sleep(wait).await;
            }
        }
    }

    /// Whether another try may succeed: a retryable failure, or a manifest write refused
    /// with `MANIFEST_BLOB_UNKNOWN` although the destination does have everything the
    /// manifest names (checked again now).
    async fn worth_another_try(&self, error: &Error) -> bool {
        if error.is_retryable() {
            return true;
        }
        let writes_manifest = matches!(
            self.step.action,
            Action::PutManifest | Action::Tag { tag: Some(_) }
        );
        if !writes_manifest || !error.is_manifest_blob_unknown() {
            return false;
        }
        match manifest::references_present(
            self.source.as_ref(),
            self.sink.as_ref(),
            &self.step.descriptor,
            self.manifest.clone(),
        )
        .await
        {
            Ok(present) => present,
            Err(check) => {
                tracing::debug!(step = self.id, error = %check, "re-checking what the manifest names failed");
                false
            }
        }
    }

    /// `error`, wrapped with the tag and destination when this step writes a tag.
    fn name_the_tag(&self, error: Error) -> Error {
        match &self.step.action {
            Action::Tag { tag: Some(tag) } => Error::TagFailed {
                tag: tag.clone(),
                destination: self.sink.describe(),
                digest: self.step.descriptor.digest.clone(),
                source: Box::new(error),
            },
            _ => error,
        }
    }

    async fn run_once(&self) -> Result<Outcome> {
        let registry_of = |repository: Option<RepositoryAddress>| {
            repository.map_or_else(|| LOCAL.to_owned(), |r| r.registry)
        };
        let sink_key = registry_of(self.sink.repository());
        let descriptor = &self.step.descriptor;
        match &self.step.action {
            Action::Mount { .. } | Action::CopyBlob => {
                let source_key = registry_of(self.source.repository());
                let _permits = self.options.limits.acquire(&[&source_key, &sink_key]).await;
                let from = match &self.step.action {
                    Action::Mount { from } => Some(from),
                    _ => None,
                };
                let content = SourceBlob {
                    source: self.source.clone(),
                    descriptor: descriptor.clone(),
                    resumes: self.options.retries,
                    sink_verifies: self.sink.verifies_blobs(),
                    progress: self
                        .options
                        .progress
                        .clone()
                        .map(|progress| (progress, self.id)),
                };
                Ok(
                    match move_blob(self.sink.as_ref(), descriptor, from, content).await? {
                        Moved::Mounted => Outcome::Mounted,
                        Moved::Copied(bytes) => Outcome::Copied { bytes },
                    },
                )
            }
            Action::PutManifest => {
                let _permits = self.options.limits.acquire(&[&sink_key]).await;
                manifest::put(
                    self.source.as_ref(),
                    self.sink.as_ref(),
                    descriptor,
                    self.manifest.clone(),
                )
                .await?;
                Ok(Outcome::Done)
            }
            Action::Tag { tag } => {
                let _permits = self.options.limits.acquire(&[&sink_key]).await;
                self.sink.tag(tag.as_deref(), descriptor).await?;
                Ok(Outcome::Done)
            }
            Action::Skip { .. } => Ok(Outcome::Skipped),
        }
    }
}
