//! [`Client`]: the handle every endpoint hangs off. The endpoints themselves live in
//! [`crate::endpoints`], one file each.

use std::borrow::Cow;
use std::future::Future;
use std::sync::Arc;

use http::{Method, StatusCode};
use oci_auth::{Scope, Scopes};
use oci_digest::{Digest, KeyedLocks};
use url::Url;

use crate::config::ClientConfig;
use crate::error::Error;
use crate::progress::{Direction, Progress, Tracker};
use crate::repository::Repository;
use crate::request::Request;
use crate::transport::Transport;

/// An OCI registry client. Cheap to clone: clones share connections, tokens, limits and
/// the locks that keep its own writers of one fallback referrers index in turn.
#[derive(Debug, Clone)]
pub struct Client {
    transport: Arc<Transport>,
    progress: Option<Progress>,
    fallback_locks: KeyedLocks<FallbackIndexKey>,
}

/// Which fallback referrers index: registry, repository name, subject.
pub(crate) type FallbackIndexKey = (String, String, Digest);

impl Client {
    /// A client with `config`.
    pub fn new(config: ClientConfig) -> Result<Client, Error> {
        Ok(Client {
            transport: Arc::new(Transport::new(config)?),
            progress: None,
            fallback_locks: KeyedLocks::default(),
        })
    }

    /// A clone of this client that reports blob transfers to `progress`.
    pub fn with_progress(&self, progress: Progress) -> Client {
        Client {
            transport: Arc::clone(&self.transport),
            progress: Some(progress),
            fallback_locks: self.fallback_locks.clone(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        self.transport.config()
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }

    /// The locks of the fallback referrers indexes this client (and its clones) writes.
    pub(crate) fn fallback_locks(&self) -> &KeyedLocks<FallbackIndexKey> {
        &self.fallback_locks
    }

    /// `<scheme>://<registry>/v2/<name>/<tail>`.
    pub(crate) fn repository_url(&self, repository: &Repository, tail: &str) -> Result<Url, Error> {
        let base = self.transport.base_url(repository.registry())?;
        let path = format!("{}/{tail}", repository.name());
        base.join(&path)
            .map_err(|source| Error::Url { url: path, source })
    }

    /// Where requests for `repository` go under `registries.conf`: its location, or
    /// [`Error::Blocked`].
    pub(crate) fn route<'a>(
        &self,
        repository: &'a Repository,
    ) -> Result<Cow<'a, Repository>, Error> {
        let routes = &self.config().routes;
        if routes.is_empty() {
            return Ok(Cow::Borrowed(repository));
        }
        routes.primary(repository).map(Cow::Owned)
    }

    /// Runs a pull against the mirrors `registries.conf` gives `repository` (those serving
    /// pulls `by_digest` or by tag), in order, and then against its location: the first
    /// answer that is not an error and not a miss (`is_miss`) wins; the location's answer
    /// stands whatever it is.
    pub(crate) async fn pull_through_mirrors<T, F, Fut>(
        &self,
        repository: &Repository,
        by_digest: bool,
        is_miss: fn(&T) -> bool,
        pull: F,
    ) -> Result<T, Error>
    where
        F: Fn(Repository) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let routes = &self.config().routes;
        if routes.is_empty() {
            return pull(repository.clone()).await;
        }
        let mut sources = routes.pull_sources(repository, by_digest)?;
        let primary = sources.pop().unwrap_or_else(|| repository.clone());
        for mirror in sources {
            match pull(mirror.clone()).await {
                Ok(answer) if !is_miss(&answer) => return Ok(answer),
                Ok(_) => tracing::debug!(%mirror, "the mirror does not have it"),
                Err(error) => tracing::debug!(%mirror, %error, "the mirror failed"),
            }
        }
        pull(primary).await
    }

    /// A progress counter for one blob's transfer to or from `repository`.
    pub(crate) fn tracker(
        &self,
        direction: Direction,
        repository: &Repository,
        digest: &Digest,
        total: Option<u64>,
    ) -> Tracker {
        Tracker::new(
            self.progress.clone(),
            direction,
            repository.clone(),
            digest.clone(),
            total,
        )
    }
}

impl Client {
    /// `DELETE url`, a blob or a manifest of `repository`; registries answer 202, 200 or 204.
    pub(crate) async fn delete_at(&self, repository: &Repository, url: Url) -> Result<(), Error> {
        let scopes = delete_scopes(repository)?;
        let request = Request::new(Method::DELETE, url, repository.registry(), scopes);
        self.transport()
            .send(request)
            .await?
            .expect(&[StatusCode::ACCEPTED, StatusCode::OK, StatusCode::NO_CONTENT])
            .await?;
        Ok(())
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
fn delete_scopes(repository: &Repository) -> Result<Scopes, Error> {
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
