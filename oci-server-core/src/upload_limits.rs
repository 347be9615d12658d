//! [`UploadLimits`]: how many upload sessions may be open at once.
//!
//! Every session holds storage until it is finished, cancelled or collected, and a client
//! can open sessions faster than garbage collection removes abandoned ones. Past a cap the
//! registry answers 429 `TOOMANYREQUESTS` with `Retry-After`, for the whole registry and for
//! one repository (so one busy or hostile repository cannot take every place).
//!
//! The count is of the sessions this process opened and has not seen end. Sessions that
//! another process sharing the store opened, or that existed before a restart, are not
//! counted; sessions removed behind the process's back (by `oci-registry gc`, or a cancel on
//! another instance) are noticed when the cap is reached, by checking which counted sessions
//! the store still holds.

use std::{num::NonZeroUsize, time::Duration};

/// Most upload sessions open at once in the whole registry: 1024.
pub const DEFAULT_MAX_UPLOAD_SESSIONS: NonZeroUsize = NonZeroUsize::new(1024).unwrap();

/// Most upload sessions open at once in one repository: 256.
pub const DEFAULT_MAX_UPLOAD_SESSIONS_PER_REPOSITORY: NonZeroUsize =
    NonZeroUsize::new(256).unwrap();

/// The `Retry-After` of a refused upload: 30 seconds.
pub const DEFAULT_UPLOAD_RETRY_AFTER: Duration = Duration::from_secs(30);

/// Caps on open upload sessions. Start from [`UploadLimits::default`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadLimits {
    total: NonZeroUsize,
    per_repository: NonZeroUsize,
    retry_after: Duration,
}

impl Default for UploadLimits {
    fn default() -> Self {
        Self {
            total: DEFAULT_MAX_UPLOAD_SESSIONS,
            per_repository: DEFAULT_MAX_UPLOAD_SESSIONS_PER_REPOSITORY,
            retry_after: DEFAULT_UPLOAD_RETRY_AFTER,
        }
    }
}

impl UploadLimits {
    /// Sets the cap for the whole registry.
    pub fn with_total(mut self, max: NonZeroUsize) -> Self {
        self.total = max;
        self
    }

    /// Sets the cap for each repository.
    pub fn with_per_repository(mut self, max: NonZeroUsize) -> Self {
        self.per_repository = max;
        self
    }

    /// Sets the `Retry-After` of a refusal (sent in whole seconds, at least one).
    pub fn with_retry_after(mut self, retry_after: Duration) -> Self {
        self.retry_after = retry_after;
        self
    }

    /// The cap for the whole registry.
    pub fn total(&self) -> NonZeroUsize {
        self.total
    }

    /// The cap for each repository.
    pub fn per_repository(&self) -> NonZeroUsize {
        self.per_repository
    }

    /// The `Retry-After` of a refusal.
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }
}
