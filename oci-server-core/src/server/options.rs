//! [`ServeOptions`]: the connection layer's timeouts, caps and TLS, each with a default that
//! the command line and the documentation both use.

use std::{num::NonZeroUsize, time::Duration};

use super::{ServerError, tls::Tls};

/// How long a new connection may take to deliver its first complete request head (TLS
/// handshake included), and an HTTP/1.1 connection each later one: 30 seconds.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a connection with no request in flight stays open: two minutes.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// How long a request body may send nothing before it is dropped: five minutes.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(300);

/// Most connections served at once: 4096. Further connections wait in the listen backlog. The
/// cap is lowered at start when the open-file limit cannot hold it.
pub const DEFAULT_MAX_CONNECTIONS: NonZeroUsize = NonZeroUsize::new(4096).unwrap();

/// How the server treats connections. Start from [`ServeOptions::default`] and change what you
/// need; every value is checked when it is set, so a `ServeOptions` is always usable.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    header_read_timeout: Duration,
    idle_timeout: Duration,
    body_timeout: Duration,
    max_connections: NonZeroUsize,
    tls: Option<Tls>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            body_timeout: DEFAULT_BODY_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            tls: None,
        }
    }
}

impl ServeOptions {
    /// Sets the header-read timeout (see [`DEFAULT_HEADER_READ_TIMEOUT`]); zero is refused.
    pub fn with_header_read_timeout(mut self, timeout: Duration) -> Result<Self, ServerError> {
        self.header_read_timeout = non_zero("header read timeout", timeout)?;
        Ok(self)
    }

    /// Sets the idle timeout (see [`DEFAULT_IDLE_TIMEOUT`]); zero is refused.
    pub fn with_idle_timeout(mut self, timeout: Duration) -> Result<Self, ServerError> {
        self.idle_timeout = non_zero("idle timeout", timeout)?;
        Ok(self)
    }

    /// Sets the request-body silence timeout (see [`DEFAULT_BODY_TIMEOUT`]); zero is refused.
    pub fn with_body_timeout(mut self, timeout: Duration) -> Result<Self, ServerError> {
        self.body_timeout = non_zero("body timeout", timeout)?;
        Ok(self)
    }

    /// Sets the connection cap (see [`DEFAULT_MAX_CONNECTIONS`]).
    pub fn with_max_connections(mut self, max: NonZeroUsize) -> Self {
        self.max_connections = max;
        self
    }

    /// Serves HTTPS with `tls` instead of plain HTTP.
    pub fn with_tls(mut self, tls: Tls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// The header-read timeout.
    pub fn header_read_timeout(&self) -> Duration {
        self.header_read_timeout
    }

    /// The idle timeout.
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// The request-body silence timeout.
    pub fn body_timeout(&self) -> Duration {
        self.body_timeout
    }

    /// The connection cap asked for (the server may lower it to fit the open-file limit).
    pub fn max_connections(&self) -> NonZeroUsize {
        self.max_connections
    }

    /// The TLS settings, when serving HTTPS.
    pub fn tls(&self) -> Option<&Tls> {
        self.tls.as_ref()
    }
}

fn non_zero(setting: &'static str, value: Duration) -> Result<Duration, ServerError> {
    if value.is_zero() {
        Err(ServerError::ZeroTimeout { setting })
    } else {
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_timeouts_are_refused_and_others_kept() {
        let options = ServeOptions::default();
        assert!(matches!(
            options.clone().with_header_read_timeout(Duration::ZERO),
            Err(ServerError::ZeroTimeout {
                setting: "header read timeout"
            })
        ));
        assert!(options.clone().with_idle_timeout(Duration::ZERO).is_err());
        assert!(options.clone().with_body_timeout(Duration::ZERO).is_err());
        let changed = options
            .with_body_timeout(Duration::from_secs(7))
            .and_then(|o| o.with_idle_timeout(Duration::from_secs(8)))
            .and_then(|o| o.with_header_read_timeout(Duration::from_secs(9)));
        let changed = changed.expect("non-zero timeouts are accepted");
        assert_eq!(changed.body_timeout(), Duration::from_secs(7));
        assert_eq!(changed.idle_timeout(), Duration::from_secs(8));
        assert_eq!(changed.header_read_timeout(), Duration::from_secs(9));
        assert_eq!(changed.max_connections(), DEFAULT_MAX_CONNECTIONS);
        assert!(changed.tls().is_none());
    }
}
