//! The client's own test helpers: a token server with a bearer-checking proxy, a counting TCP
//! pass-through, certificates, content to push, and clients with fast retries. The servers every crate's tests share (the
//! workspace's registry in-process, Debian's `docker-registry`, the fault-injecting proxy)
//! come from `oci-test-support`.

pub mod content;
pub mod forward;
pub mod pass_through;
pub mod pki;
pub mod token;

use std::time::Duration;

use oci_auth::CredentialStore;
use oci_distribution_client::{Client, ClientConfig, ClientConfigBuilder, Repository, RetryPolicy};
use tempfile::TempDir;

use oci_test_support::TestRegistry;
use oci_test_support::peers::{
    Distribution, DistributionAuth, DistributionOptions, write_htpasswd,
};
use pki::Pem;

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

/// Repositories on a registry the tests run.
pub trait Repos {
    /// The repository `name` on it.
    fn repo(&self, name: &str) -> Repository;
}

impl Repos for TestRegistry {
    fn repo(&self, name: &str) -> Repository {
        Repository::new(self.host(), name).unwrap()
    }
}

impl Repos for Distribution {
    fn repo(&self, name: &str) -> Repository {
        Repository::new(self.host(), name).unwrap()
    }
}

impl Repos for pass_through::CountingPassThrough {
    fn repo(&self, name: &str) -> Repository {
        Repository::new(self.host(), name).unwrap()
    }
}

/// Debian's `docker-registry` serving TLS with `server`'s certificate, asking for client
/// certificates from the authority `client_ca` when given; the files it reads live in the
/// returned folder.
pub fn distribution_with_tls(server: &Pem, client_ca: Option<&str>) -> (Distribution, TempDir) {
    let files = tempfile::tempdir().unwrap();
    let (certificate, key) = (
        files.path().join("server.crt"),
        files.path().join("server.key"),
    );
    std::fs::write(&certificate, &server.cert).unwrap();
    std::fs::write(&key, &server.key).unwrap();
    let client_ca = client_ca.map(|pem| {
        let path = files.path().join("client-ca.crt");
        std::fs::write(&path, pem).unwrap();
        path
    });
    let options = DistributionOptions {
        tls: Some((certificate, key)),
        client_ca,
        ..DistributionOptions::default()
    };
    (Distribution::start_with(options), files)
}

/// Debian's `docker-registry` wanting Basic credentials `username`/`password`; its htpasswd
/// file lives in the returned folder.
pub fn distribution_with_account(username: &str, password: &str) -> (Distribution, TempDir) {
    let files = tempfile::tempdir().unwrap();
    let htpasswd = files.path().join("htpasswd");
    write_htpasswd(&htpasswd, username, password);
    let options = DistributionOptions {
        auth: Some(DistributionAuth::Htpasswd(htpasswd)),
        ..DistributionOptions::default()
    };
    (Distribution::start_with(options), files)
}
