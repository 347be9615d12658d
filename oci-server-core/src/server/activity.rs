//! What a connection is doing, for its timeouts: how many requests are in flight and since
//! when it has had none. A request counts from the moment its head is parsed until its
//! answer's body is finished (or dropped), so a long download or a slow store operation is
//! never mistaken for idleness.

use std::{sync::Arc, time::Duration};

use tokio::{sync::watch, time::Instant};

/// Why a connection should close.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expiry {
    /// No request head arrived within the header-read timeout of the connection's start.
    NoRequest,
    /// No request has been in flight for the idle timeout.
    Idle,
}

#[derive(Debug, Clone, Copy)]
struct State {
    in_flight: usize,
    /// When the last request ended (or the connection started).
    quiet_since: Instant,
    served: bool,
}

/// One connection's requests.
#[derive(Debug)]
pub(super) struct Activity {
    state: watch::Sender<State>,
}

impl Activity {
    pub(super) fn new() -> Arc<Self> {
        Arc::new(Self {
            state: watch::Sender::new(State {
                in_flight: 0,
                quiet_since: Instant::now(),
                served: false,
            }),
        })
    }

    /// A request's head has arrived; it is in flight until the guard drops.
    pub(super) fn request_started(self: &Arc<Self>) -> RequestGuard {
        self.state.send_modify(|state| {
            state.in_flight += 1;
            state.served = true;
        });
        RequestGuard {
            activity: Arc::clone(self),
        }
    }

    /// Resolves once the connection has had no request in flight for `first_request` (before
    /// any request) or `idle` (after one).
    pub(super) async fn expired(&self, first_request: Duration, idle: Duration) -> Expiry {
        let mut changes = self.state.subscribe();
        loop {
            let state = *changes.borrow_and_update();
            if state.in_flight == 0 {
                let (limit, why) = if state.served {
                    (idle, Expiry::Idle)
                } else {
                    (first_request, Expiry::NoRequest)
                };
                tokio::select! {
                    () = tokio::time::sleep_until(state.quiet_since + limit) => return why,
                    _ = changes.changed() => {}
                }
            } else if changes.changed().await.is_err() {
                // Unreachable while `self` (the sender) is borrowed; never busy-loop anyway.
                std::future::pending::<()>().await;
            }
        }
    }
}

/// Keeps a request in flight.
#[derive(Debug)]
pub(super) struct RequestGuard {
    activity: Arc<Activity>,
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.activity.state.send_modify(|state| {
            state.in_flight -= 1;
            state.quiet_since = Instant::now();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_connection_expires_only_with_no_request_in_flight() {
        let activity = Activity::new();
        let first = Duration::from_secs(5);
        let idle = Duration::from_secs(60);
        assert_eq!(activity.expired(first, idle).await, Expiry::NoRequest);

        let guard = activity.request_started();
        let waiting = tokio::spawn({
            let activity = Arc::clone(&activity);
            async move { activity.expired(first, idle).await }
        });
        // Far past both limits: a request in flight keeps the connection.
        tokio::time::sleep(Duration::from_secs(3600)).await;
        assert!(!waiting.is_finished());
        drop(guard);
        let ended = Instant::now();
        assert_eq!(waiting.await.ok(), Some(Expiry::Idle));
        assert!(Instant::now() >= ended + idle);
    }
}
