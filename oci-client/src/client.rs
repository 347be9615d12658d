//! [`Client`]: the handle every endpoint hangs off. The endpoints themselves live in
//! [`crate::endpoints`], one file each.

use std::sync::Arc;

use oci_auth::{Scope, Scopes};
use oci_digest::Digest;
use url::Url;

use crate::config::ClientConfig;
use crate::error::Error;
use crate::progress::{Progress, Tracker};
use crate::repository::Repository;
use crate::transport::Transport;

/// An OCI registry client. Cheap to clone: clones share connections, tokens and limits.
#[derive(Debug, Clone)]
pub struct Client {
    transport: Arc<Transport>,
    progress: Option<Progress>,
}

impl Client {
    /// A client with `config`.
    pub fn new(config: ClientConfig) -> Result<Client, Error> {
        Ok(Client {
            transport: Arc::new(Transport::new(config)?),
            progress: None,
        })
    }

    /// A clone of this client that reports blob transfers to `progress`.
    pub fn with_progress(&self, progress: Progress) -> Client {
        Client {
            transport: Arc::clone(&self.transport),
            progress: Some(progress),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        self.transport.config()
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }

    /// `<scheme>://<registry>/v2/<name>/<tail>`.
    pub(crate) fn repository_url(&self, repository: &Repository, tail: &str) -> Result<Url, Error> {
        let base = self.transport.base_url(repository.registry())?;
        let path = format!("{}/{tail}", repository.name());
        base.join(&path)
            .map_err(|source| Error::Url { url: path, source })
    }

    /// A progress counter for one blob.
    pub(crate) fn tracker(&self, digest: &Digest, total: Option<u64>) -> Tracker {
        Tracker::new(self.progress.clone(), digest.clone(), total)
    }
}

/// `repository:<name>:pull`.
pub(crate) fn pull_scopes(repository: &Repository) -> Result<Scopes, Error> {
    scopes(repository, Scope::pull(repository.name()))
}

/// `repository:<name>:pull,push`.
pub(crate) fn push_scopes(repository: &Repository) -> Result<Scopes, Error> {
    scopes(repository, Scope::push_pull(repository.name()))
}

/// `repository:<name>:delete` (with pull, which registries pair with it).
pub(crate) fn delete_scopes(repository: &Repository) -> Result<Scopes, Error> {
    scopes(
        repository,
        Scope::repository(
            repository.name(),
            [oci_auth::scope::PULL, oci_auth::scope::DELETE],
        ),
    )
}

fn scopes(
    repository: &Repository,
    scope: Result<Scope, oci_auth::ScopeError>,
) -> Result<Scopes, Error> {
    scope.map(Scopes::from).map_err(|source| Error::Auth {
        registry: repository.registry().to_owned(),
        source: source.into(),
    })
}
