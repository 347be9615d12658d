//! Test helpers: real servers on 127.0.0.1 (the workspace's registry in-process, Debian's
//! `docker-registry` as a child process, a token server with a bearer-checking proxy, a
//! fault-injecting proxy) and content to push.

pub mod content;
pub mod distribution;
pub mod fault;
pub mod forward;
pub mod pki;
pub mod registry;
pub mod token;

use std::time::Duration;

use oci_auth::CredentialStore;
use oci_distribution_client::{Client, ClientConfig, ClientConfigBuilder, RetryPolicy};

/// A retry policy with tiny waits, so retried tests stay fast.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_base_delay(Duration::from_millis(1))
        .with_max_delay(Duration::from_millis(20))
        .with_max_retry_after(Duration::from_secs(2))
}

/// A configuration builder with fast retries and no credentials from the environment.
pub fn config() -> ClientConfigBuilder {
    ClientConfig::builder()
        .retry(fast_retries())
        .credentials(CredentialStore::new())
}

/// A client from [`config`].
pub fn client() -> Client {
    Client::new(config().build()).unwrap()
}
