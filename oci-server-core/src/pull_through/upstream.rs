//! One upstream registry: its client, and how local repository names map to its names.

use oci_auth::{CredentialStore, Credentials};
use oci_distribution_client::{Client, ClientConfig, Repository, RetryPolicy};

use super::{PullThroughError, UpstreamConfig};
use crate::names::RepoName;

/// Attempts per upstream request: a cache answers from what it holds when upstream is down,
/// so it tries once more and then fails fast.
const UPSTREAM_ATTEMPTS: std::num::NonZeroU32 =
    std::num::NonZeroU32::new(2).expect("2 is not zero");

/// The repository name upstream for a local `name`, or `None` when `prefix` does not cover
/// it: the prefix (and its `/`) comes off, and on Docker Hub a one-component name gets
/// `library/` (`hub/alpine` is `library/alpine`). An empty prefix covers every name.
pub fn upstream_name(prefix: &str, docker_hub: bool, name: &str) -> Option<String> {
    let rest = if prefix.is_empty() {
        name
    } else {
        name.strip_prefix(prefix)?.strip_prefix('/')?
    };
    if rest.is_empty() {
        return None;
    }
    Some(if docker_hub && !rest.contains('/') {
        format!("library/{rest}")
    } else {
        rest.to_owned()
    })
}

/// An upstream with its client.
#[derive(Debug)]
pub(super) struct UpstreamClient {
    prefix: String,
    docker_hub: bool,
    /// `host[:port]`, as the client names registries.
    registry: String,
    pub client: Client,
}

impl UpstreamClient {
    pub fn new(config: UpstreamConfig) -> Result<Self, PullThroughError> {
        let bad_url = || PullThroughError::BadUrl {
            url: config.url.clone(),
        };
        let url = url::Url::parse(&config.url).map_err(|_| bad_url())?;
        let host = url.host_str().ok_or_else(bad_url)?;
        let registry = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        let mut builder = ClientConfig::builder()
            .retry(RetryPolicy::default().with_max_attempts(UPSTREAM_ATTEMPTS));
        match url.scheme() {
            "http" => builder = builder.plain_http(&registry),
            "https" => {}
            _ => return Err(bad_url()),
        }
        let mut credentials = CredentialStore::new();
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            credentials = credentials
                .with_credentials(&registry, Credentials::basic(user, password.as_str()));
        }
        let client = Client::new(builder.credentials(credentials).build()).map_err(|source| {
            PullThroughError::Client {
                url: config.url.clone(),
                source: Box::new(source),
            }
        })?;
        Ok(Self {
            prefix: config.prefix.trim_matches('/').to_owned(),
            docker_hub: config.docker_hub,
            registry,
            client,
        })
    }

    /// The upstream repository for a local name this upstream covers.
    pub fn repository(&self, name: &RepoName) -> Option<Repository> {
        let upstream = upstream_name(&self.prefix, self.docker_hub, name.as_str())?;
        Repository::new(&self.registry, &upstream).ok()
    }

    pub fn prefix_len(&self) -> usize {
        self.prefix.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_map_to_upstream() {
        assert_eq!(
            upstream_name("hub", true, "hub/alpine").as_deref(),
            Some("library/alpine")
        );
        assert_eq!(
            upstream_name("hub", true, "hub/bitnami/redis").as_deref(),
            Some("bitnami/redis")
        );
        assert_eq!(
            upstream_name("hub", false, "hub/alpine").as_deref(),
            Some("alpine")
        );
        assert_eq!(upstream_name("hub", true, "hubs/alpine"), None);
        assert_eq!(upstream_name("hub", true, "hub"), None);
        assert_eq!(upstream_name("", false, "a/b").as_deref(), Some("a/b"));
        assert_eq!(upstream_name("a/b", false, "a/b/c").as_deref(), Some("c"));
    }

    #[test]
    fn bad_urls_are_refused() {
        for url in ["ftp://x", "not a url", "http://"] {
            let config = UpstreamConfig {
                prefix: "p".into(),
                url: url.into(),
                docker_hub: false,
                username: None,
                password: None,
            };
            assert!(
                matches!(
                    UpstreamClient::new(config),
                    Err(PullThroughError::BadUrl { .. })
                ),
                "{url}"
            );
        }
    }

    proptest! {
        #[test]
        fn prefixed_names_lose_exactly_their_prefix(prefix in "[a-z]{1,5}", rest in "[a-z]{1,5}(/[a-z]{1,5}){0,2}") {
            let local = format!("{prefix}/{rest}");
            let mapped = upstream_name(&prefix, true, &local).unwrap();
            if rest.contains('/') {
                prop_assert_eq!(mapped, rest);
            } else {
                prop_assert_eq!(mapped, format!("library/{rest}"));
            }
        }
    }
}
