//! Sending a fill step again when the server answers `500 Internal Server Error`, and counting
//! how often that happened.
//!
//! Why: moto lists a bucket by taking its key names, then looking each one up; a key deleted
//! by another request in between makes the lookup fail (`KeyError` in its `list_objects`) and
//! the listing answer 500. A listing scans the whole bucket, so the race grows with the store.
//! Distribution's S3 driver lists (to stat, move and delete) and deletes (an upload's
//! `_uploads/<id>` folder) in every blob push, so with many pushes in flight some listings race
//! a delete; its AWS SDK sends a failed request again a few times, and when every try fails
//! distribution answers 500.
//! Every fill step is idempotent (content-addressed blobs, manifests put under the same tag),
//! so sending it again is safe; the count goes into the table so it is never hidden.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use reqwest::StatusCode;

use crate::bench::error::BenchError;

/// Tries per step, the first included.
const ATTEMPTS: u32 = 8;

/// The steps of one fill that were sent again after a 500.
#[derive(Debug, Default)]
pub struct Retries(AtomicU64);

impl Retries {
    /// Runs `step` until it succeeds, fails otherwise than with a 500, or has been tried
    /// [`ATTEMPTS`] times; returns its last outcome.
    pub async fn run<T, F, Fut>(&self, mut step: F) -> Result<T, BenchError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, BenchError>>,
    {
        let mut tried = 1;
        loop {
            match step().await {
                Err(error) if tried < ATTEMPTS && is_internal_error(&error) => {
                    self.0.fetch_add(1, Ordering::Relaxed);
                    tried += 1;
                }
                outcome => return outcome,
            }
        }
    }

    /// How many steps were sent again so far.
    pub fn count(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

fn is_internal_error(error: &BenchError) -> bool {
    matches!(
        error,
        BenchError::Status {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            ..
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: StatusCode) -> BenchError {
        BenchError::Status {
            step: "test",
            url: "http://127.0.0.1/".to_string(),
            status,
            expected: StatusCode::CREATED,
        }
    }

    #[tokio::test]
    async fn a_500_is_sent_again_and_counted() {
        let retries = Retries::default();
        let mut answers = vec![
            Err(status(StatusCode::INTERNAL_SERVER_ERROR)),
            Err(status(StatusCode::INTERNAL_SERVER_ERROR)),
            Ok(7),
        ]
        .into_iter();
        let outcome = retries
            .run(|| std::future::ready(answers.next().unwrap_or(Ok(0))))
            .await;
        assert_eq!(outcome.unwrap(), 7);
        assert_eq!(retries.count(), 2);
    }

    #[tokio::test]
    async fn other_failures_and_the_last_try_are_returned() {
        let retries = Retries::default();
        let outcome: Result<(), _> = retries
            .run(|| std::future::ready(Err(status(StatusCode::NOT_FOUND))))
            .await;
        assert!(matches!(
            outcome,
            Err(BenchError::Status {
                status: StatusCode::NOT_FOUND,
                ..
            })
        ));
        assert_eq!(retries.count(), 0);
        let outcome: Result<(), _> = retries
            .run(|| std::future::ready(Err(status(StatusCode::INTERNAL_SERVER_ERROR))))
            .await;
        assert!(outcome.is_err());
        assert_eq!(retries.count(), u64::from(ATTEMPTS - 1));
    }
}
