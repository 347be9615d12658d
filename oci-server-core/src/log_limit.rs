//! Warnings for limits that can be hit thousands of times a second (a flood of idle
//! connections, a client opening upload after upload): the first hit is logged at once, later
//! ones at most once per [`INTERVAL`], with the number of hits in between, so the log says
//! that a limit is being hit without a line per hit.

use std::{
    sync::{Mutex, PoisonError},
    time::{Duration, Instant},
};

/// The shortest time between two lines of one [`LimitLog`].
pub(crate) const INTERVAL: Duration = Duration::from_secs(10);

/// One kind of limit being hit.
#[derive(Debug, Default)]
pub(crate) struct LimitLog {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    last_line: Option<Instant>,
    unreported: u64,
}

impl LimitLog {
    /// A log with nothing reported yet.
    pub(crate) const fn new() -> Self {
        Self {
            state: Mutex::new(State {
                last_line: None,
                unreported: 0,
            }),
        }
    }

    /// Counts a hit; calls `write` with the number of hits since the last line (this one
    /// included) when a line is due.
    pub(crate) fn hit(&self, write: impl FnOnce(u64)) {
        let due = {
            // The state is two plain fields updated together: a panic cannot tear them.
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.unreported += 1;
            let now = Instant::now();
            let due = state
                .last_line
                .is_none_or(|last| now.duration_since(last) >= INTERVAL);
            if due {
                state.last_line = Some(now);
                Some(std::mem::take(&mut state.unreported))
            } else {
                None
            }
        };
        if let Some(hits) = due {
            write(hits);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_hit_is_written_and_the_next_ones_are_counted() {
        let log = LimitLog::new();
        let mut lines = Vec::new();
        for _ in 0..5 {
            log.hit(|hits| lines.push(hits));
        }
        assert_eq!(
            lines,
            [1],
            "only the first hit is written within the interval"
        );
        assert_eq!(
            log.state.lock().map(|s| s.unreported).unwrap_or_default(),
            4
        );
    }
}
