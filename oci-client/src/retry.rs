//! The retry policy: which failures are worth another attempt, and how long to wait first.
//!
//! Pure functions of their inputs (no clock, no randomness, no runtime): the transport passes
//! in the attempt number, the answer, the current time and a random jitter fraction.
//!
//! Retried: connection failures, `408 Request Timeout`, `429 Too Many Requests` and every
//! `5xx` but `501 Not Implemented` (which a later attempt cannot change). Never retried: any
//! other `4xx`. A `Retry-After` header (delta-seconds or HTTP-date) is honoured as given;
//! one asking for longer than [`RetryPolicy::max_retry_after`] ends the retries instead.
//!
//! **One layer per kind of failure.** This policy is the only one that retries a request the
//! client can send again (no body, or a body it holds). What it cannot replay, a streamed
//! upload cut mid-way or a download that broke after its answer began, is retried one layer
//! up, by the caller that owns the stream (oci-copy's steps resume from the registry's
//! offset). A failure this layer already retried says so ([`Error::retried_by_client`]) and
//! the layer above leaves it alone; otherwise the attempts would multiply (four here times
//! four there is sixteen requests against a registry that is down).
//!
//! [`Error::retried_by_client`]: crate::Error::retried_by_client

use std::num::NonZeroU32;
use std::time::{Duration, SystemTime};

/// Attempts in total by default, the first included.
pub const DEFAULT_MAX_ATTEMPTS: NonZeroU32 = NonZeroU32::new(4).unwrap();
/// The wait before the first retry by default.
pub const DEFAULT_BASE_DELAY: Duration = Duration::from_millis(250);
/// The longest computed wait between attempts by default.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(10);
/// The longest `Retry-After` honoured by default.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How often and how patiently to retry: built from [`RetryPolicy::default`] (or
/// [`RetryPolicy::none`]) with the `with_*` setters, so it always holds at least one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: NonZeroU32,
    base_delay: Duration,
    max_delay: Duration,
    max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            base_delay: DEFAULT_BASE_DELAY,
            max_delay: DEFAULT_MAX_DELAY,
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
        }
    }
}

/// What an attempt ended with, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// No answer: the connection failed or broke.
    ConnectionFailed,
    /// An answer with this status and, when sent and readable, its `Retry-After` wait.
    Status {
        /// The HTTP status code.
        status: u16,
        /// The wait the registry asked for.
        retry_after: Option<Duration>,
    },
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        RetryPolicy::default().with_max_attempts(NonZeroU32::MIN)
    }

    /// Attempts in total, the first included; one disables retries.
    pub fn with_max_attempts(mut self, attempts: NonZeroU32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// The wait before the first retry; each further retry doubles it.
    pub fn with_base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The longest computed wait between attempts.
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The longest `Retry-After` honoured; a registry asking for more ends the retries.
    pub fn with_max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait;
        self
    }

    /// Attempts in total, the first included.
    pub fn max_attempts(&self) -> NonZeroU32 {
        self.max_attempts
    }

    /// The wait before the first retry.
    pub fn base_delay(&self) -> Duration {
        self.base_delay
    }

    /// The longest computed wait between attempts.
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }

    /// The longest `Retry-After` honoured.
    pub fn max_retry_after(&self) -> Duration {
        self.max_retry_after
    }

    /// The wait before retry number `retry` (1 for the first retry): `base_delay * 2^(retry-1)`,
    /// capped at `max_delay`, then scaled by "equal jitter" into `[half, whole]` of itself.
    /// `jitter` is a random fraction in `[0, 1]`; values outside are clamped.
    pub fn backoff(&self, retry: u32, jitter: f64) -> Duration {
        let doublings = retry.saturating_sub(1).min(31);
        let exponential = self.base_delay.saturating_mul(1u32 << doublings);
        let capped = exponential.min(self.max_delay);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        Duration::try_from_secs_f64(capped.as_secs_f64() * (0.5 + jitter / 2.0))
            .map_or(capped, |scaled| scaled.min(capped))
    }

    /// Whether to try again after attempt number `attempt` (1 for the first) ended with
    /// `outcome`, and if so after how long.
    pub fn next_delay(&self, attempt: u32, outcome: Outcome, jitter: f64) -> Option<Duration> {
        if attempt >= self.max_attempts.get() {
            return None;
        }
        match outcome {
            Outcome::ConnectionFailed => Some(self.backoff(attempt, jitter)),
            Outcome::Status {
                status,
                retry_after,
            } if is_retryable_status(status) => match retry_after {
                Some(wait) if wait > self.max_retry_after => None,
                Some(wait) => Some(wait),
                None => Some(self.backoff(attempt, jitter)),
            },
            Outcome::Status { .. } => None,
        }
    }
}

/// True for the statuses a later attempt may change: 408, 429 and 5xx except 501.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429) || ((500..600).contains(&status) && status != 501)
}

/// Reads a `Retry-After` value: delta-seconds (`"120"`) or an HTTP-date, which becomes the
/// time left from `now` (zero when it is already past). `None` when it is neither.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More digits than fit mean "a very long time".
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn policy() -> RetryPolicy {
        RetryPolicy::default()
            .with_max_attempts(NonZeroU32::new(5).unwrap())
            .with_base_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_secs(1))
            .with_max_retry_after(Duration::from_secs(30))
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = policy();
        assert_eq!(p.backoff(1, 1.0), Duration::from_millis(100));
        assert_eq!(p.backoff(2, 1.0), Duration::from_millis(200));
        assert_eq!(p.backoff(3, 1.0), Duration::from_millis(400));
        assert_eq!(p.backoff(5, 1.0), Duration::from_secs(1));
        assert_eq!(p.backoff(3, 0.0), Duration::from_millis(200));
        assert_eq!(p.backoff(u32::MAX, 1.0), Duration::from_secs(1));
    }

    #[test]
    fn only_transient_failures_are_retried() {
        let p = policy();
        let status = |status| Outcome::Status {
            status,
            retry_after: None,
        };
        assert!(p.next_delay(1, Outcome::ConnectionFailed, 0.5).is_some());
        for retried in [408, 429, 500, 502, 503, 504] {
            assert!(p.next_delay(1, status(retried), 0.5).is_some(), "{retried}");
        }
        for final_status in [400, 401, 403, 404, 405, 409, 416, 501] {
            assert!(
                p.next_delay(1, status(final_status), 0.5).is_none(),
                "{final_status}"
            );
        }
        assert!(p.next_delay(5, Outcome::ConnectionFailed, 0.5).is_none());
        assert!(
            RetryPolicy::none()
                .next_delay(1, Outcome::ConnectionFailed, 0.5)
                .is_none()
        );
    }

    #[test]
    fn retry_after_is_honoured_within_its_cap() {
        let p = policy();
        let with = |secs| Outcome::Status {
            status: 429,
            retry_after: Some(Duration::from_secs(secs)),
        };
        assert_eq!(p.next_delay(1, with(0), 0.5), Some(Duration::ZERO));
        assert_eq!(p.next_delay(1, with(7), 0.5), Some(Duration::from_secs(7)));
        assert_eq!(p.next_delay(1, with(31), 0.5), None);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        // 784111777 is Sun, 06 Nov 1994 08:49:37 GMT.
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:39 GMT", now),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:30 GMT", now),
            Some(Duration::ZERO)
        );
        for bad in ["", "-1", "1.5", "soon", "Sun, 06 Nov 1994"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn retry_after_never_panics(value in any::<String>(), secs in any::<u32>()) {
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(secs.into());
            let _ = parse_retry_after(&value, now);
        }

        #[test]
        fn retry_after_round_trips_dates(offset in 0u64..10_000_000, base in 0u64..2_000_000_000) {
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(base);
            let text = httpdate::fmt_http_date(now + Duration::from_secs(offset));
            prop_assert_eq!(parse_retry_after(&text, now), Some(Duration::from_secs(offset)));
        }

        #[test]
        fn backoff_stays_within_bounds(retry in 0u32..100, jitter in proptest::num::f64::ANY) {
            let p = policy();
            prop_assert!(p.backoff(retry, jitter) <= p.max_delay);
        }
    }
}
