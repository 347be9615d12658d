//! [`ClientConfig`] and its builder: hosts, timeouts, retries, limits and credentials.

use std::collections::BTreeSet;
use std::time::Duration;

use oci_auth::{Authenticator, CredentialStore};

use crate::retry::RetryPolicy;

/// The manifest size every registry must accept (4 MiB), the default read limit.
pub const DEFAULT_MAX_MANIFEST_SIZE: u64 = 4 * 1024 * 1024;

/// The default chunk size of chunked uploads (8 MiB).
pub const DEFAULT_CHUNK_SIZE: u64 = 8 * 1024 * 1024;

/// Hosts that speak plain HTTP without being configured: the loopback names.
const LOOPBACK_HOSTS: [&str; 4] = ["localhost", "127.0.0.1", "::1", "[::1]"];

/// Where credentials come from.
#[derive(Debug, Clone)]
pub enum CredentialSource {
    /// Look them up in a store (explicit entries, Docker `config.json`, podman `auth.json`).
    Store(CredentialStore),
    /// Use this authenticator, shared with other clients (and its token cache with them).
    Authenticator(Authenticator),
}

/// How a [`Client`](crate::Client) talks to registries. Build one with
/// [`ClientConfig::builder`]; [`ClientConfig::default`] suits most uses.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub(crate) plain_http: BTreeSet<String>,
    pub(crate) insecure: BTreeSet<String>,
    pub(crate) connect_timeout: Duration,
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_requests_per_host: usize,
    pub(crate) user_agent: String,
    pub(crate) credentials: CredentialSource,
    pub(crate) max_manifest_size: u64,
    pub(crate) chunk_size: u64,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            plain_http: BTreeSet::new(),
            insecure: BTreeSet::new(),
            connect_timeout: Duration::from_secs(30),
            read_timeout: Some(Duration::from_secs(300)),
            retry: RetryPolicy::default(),
            max_requests_per_host: 8,
            user_agent: concat!("oci-distribution-client/", env!("CARGO_PKG_VERSION")).to_owned(),
            credentials: CredentialSource::Store(CredentialStore::from_env()),
            max_manifest_size: DEFAULT_MAX_MANIFEST_SIZE,
            chunk_size: DEFAULT_CHUNK_SIZE,
        }
    }
}

impl ClientConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> ClientConfigBuilder {
        ClientConfigBuilder {
            config: ClientConfig::default(),
        }
    }

    /// `http` for hosts configured as plain HTTP and for loopback hosts, else `https`.
    /// `registry` is `host[:port]`.
    pub fn scheme_for(&self, registry: &str) -> &'static str {
        let registry = registry.to_ascii_lowercase();
        if self.plain_http.contains(&registry) || LOOPBACK_HOSTS.contains(&host_of(&registry)) {
            "http"
        } else {
            "https"
        }
    }

    /// True when TLS certificates of `host` (a URL host, with or without port) go unchecked.
    pub fn is_insecure(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.insecure.contains(&host) || self.insecure.contains(host_of(&host))
    }

    /// The retry policy.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The largest manifest (or referrers page) read or sent, in bytes.
    pub fn max_manifest_size(&self) -> u64 {
        self.max_manifest_size
    }

    /// The chunk size of chunked uploads (raised to a registry's `OCI-Chunk-Min-Length`).
    pub fn chunk_size(&self) -> u64 {
        self.chunk_size
    }

    /// Requests in flight to one registry at most.
    pub fn max_requests_per_host(&self) -> usize {
        self.max_requests_per_host
    }
}

/// The host of `host[:port]`, IPv6 brackets kept.
fn host_of(registry: &str) -> &str {
    if registry.starts_with('[') {
        return registry.find(']').map_or(registry, |end| &registry[..=end]);
    }
    registry.split(':').next().unwrap_or(registry)
}

/// Builds a [`ClientConfig`].
#[derive(Debug, Clone)]
pub struct ClientConfigBuilder {
    config: ClientConfig,
}

impl ClientConfigBuilder {
    /// Talk plain HTTP to `registry` (`host[:port]`). Loopback hosts need no entry.
    pub fn plain_http(mut self, registry: &str) -> Self {
        self.config.plain_http.insert(registry.to_ascii_lowercase());
        self
    }

    /// Accept any TLS certificate from `host` (`host` or `host:port`): for test registries
    /// with self-signed certificates only.
    pub fn insecure(mut self, host: &str) -> Self {
        self.config.insecure.insert(host.to_ascii_lowercase());
        self
    }

    /// Give up connecting after this long.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// Give up when a read waits this long for data (`None`: wait forever). Applies to each
    /// read, so a long blob download is fine as long as bytes keep coming.
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config.read_timeout = timeout;
        self
    }

    /// How to retry failed requests.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// Requests in flight to one registry at most (at least 1). A blob download holds its
    /// slot until its stream is dropped.
    pub fn max_requests_per_host(mut self, limit: usize) -> Self {
        self.config.max_requests_per_host = limit.max(1);
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.config.user_agent = user_agent.into();
        self
    }

    /// Look credentials up in `store` (the default reads the environment's Docker and
    /// podman files).
    pub fn credentials(mut self, store: CredentialStore) -> Self {
        self.config.credentials = CredentialSource::Store(store);
        self
    }

    /// Authenticate through `authenticator` (its credentials, options, clock and cache).
    pub fn authenticator(mut self, authenticator: Authenticator) -> Self {
        self.config.credentials = CredentialSource::Authenticator(authenticator);
        self
    }

    /// The largest manifest read or sent, in bytes (default 4 MiB).
    pub fn max_manifest_size(mut self, bytes: u64) -> Self {
        self.config.max_manifest_size = bytes;
        self
    }

    /// The chunk size of chunked uploads, in bytes (at least 1; default 8 MiB).
    pub fn chunk_size(mut self, bytes: u64) -> Self {
        self.config.chunk_size = bytes.max(1);
        self
    }

    /// The configuration.
    pub fn build(self) -> ClientConfig {
        self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_configured_hosts_use_plain_http() {
        let config = ClientConfig::builder()
            .plain_http("Registry.Internal:5000")
            .build();
        assert_eq!(config.scheme_for("localhost:5000"), "http");
        assert_eq!(config.scheme_for("127.0.0.1:41234"), "http");
        assert_eq!(config.scheme_for("[::1]:5000"), "http");
        assert_eq!(config.scheme_for("registry.internal:5000"), "http");
        assert_eq!(config.scheme_for("registry.internal"), "https");
        assert_eq!(config.scheme_for("ghcr.io"), "https");
    }

    #[test]
    fn insecure_hosts_match_with_or_without_port() {
        let config = ClientConfig::builder()
            .insecure("test.example")
            .insecure("other.example:8443")
            .build();
        assert!(config.is_insecure("test.example"));
        assert!(config.is_insecure("test.example:443"));
        assert!(config.is_insecure("other.example:8443"));
        assert!(!config.is_insecure("other.example"));
        assert!(!config.is_insecure("ghcr.io"));
    }

    #[test]
    fn limits_stay_positive() {
        let config = ClientConfig::builder()
            .max_requests_per_host(0)
            .chunk_size(0)
            .build();
        assert_eq!(config.max_requests_per_host(), 1);
        assert_eq!(config.chunk_size(), 1);
    }
}
