//! Authentication as a registry client does it, with the workspace's `oci-auth`: send the
//! request with what already works for it; on a `401`, answer the `WWW-Authenticate`
//! challenge (HTTP Basic with the credentials, or the token flow the challenge names) and send
//! it again. Tokens are kept per scope, so later requests carry them from the start: that
//! matters for streamed bodies, which cannot be sent twice, and which follow the `POST` that
//! earned the token for the same scope.

use std::sync::Mutex;

use oci_auth::{Authenticator, Challenge, CredentialStore, Scope, Scopes};
use reqwest::header::{AUTHORIZATION, HeaderValue, WWW_AUTHENTICATE};
use reqwest::{Method, Request};

use super::client::Reply;

/// A user name and password given with `--username` and `--password`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password.
    pub password: String,
}

/// A client's authentication state for one registry.
#[derive(Debug)]
pub struct Auth {
    authenticator: Authenticator,
    /// The registry as `oci-auth` names it (`host:port`).
    registry: String,
    /// The `Authorization` value of a Basic challenge answered before.
    basic: Mutex<Option<HeaderValue>>,
}

impl Auth {
    /// Authentication against the registry at `base` with `credentials` (token flows work
    /// anonymously without).
    pub fn new(
        http: reqwest::Client,
        base: &reqwest::Url,
        credentials: Option<&Credentials>,
    ) -> Auth {
        let registry = match (base.host_str(), base.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (host, _) => host.unwrap_or_default().to_string(),
        };
        let mut store = CredentialStore::new();
        if let Some(credentials) = credentials {
            let basic =
                oci_auth::Credentials::basic(&credentials.username, credentials.password.as_str());
            store = store.with_credentials(&registry, basic);
        }
        Auth {
            authenticator: Authenticator::new(http, store),
            registry,
            basic: Mutex::default(),
        }
    }

    fn basic(&self) -> std::sync::MutexGuard<'_, Option<HeaderValue>> {
        // A poisoned lock only means another request panicked; the value itself is fine.
        self.basic
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds what already works for this request: a cached token for its scopes, or the Basic
    /// credentials the registry asked for before.
    pub fn sign(&self, request: &mut Request) {
        let cached = self
            .authenticator
            .cached_authorization(&self.registry, &scopes_of(request));
        if let Some(value) = cached.or_else(|| self.basic().clone()) {
            request.headers_mut().insert(AUTHORIZATION, value);
        }
    }

    /// Answers the challenge of a `401` to `request`; returns whether sending it again may
    /// now succeed.
    pub async fn answer(&self, request: &Request, reply: &Reply) -> bool {
        let Ok(challenges) = Challenge::from_headers(reply.headers.get_all(WWW_AUTHENTICATE))
        else {
            return false;
        };
        let Some(challenge) = Challenge::select(&challenges) else {
            return false;
        };
        let scopes = scopes_of(request);
        // A token that earned a 401 is stale or too narrow: fetch another.
        self.authenticator.invalidate(&self.registry, &scopes);
        let answer = self
            .authenticator
            .authorization_for(&self.registry, challenge, &scopes)
            .await;
        match (challenge, answer) {
            (Challenge::Basic(_), Ok(Some(value))) => {
                let mut basic = self.basic();
                let first_time = basic.as_ref() != Some(&value);
                *basic = Some(value);
                first_time
            }
            (Challenge::Bearer(_), Ok(Some(_))) => true,
            _ => false,
        }
    }
}

/// The scopes `request` needs: pull to read a repository, push to write, delete to delete,
/// pull on the source of a mount, the catalog's own scope; none for `/v2/`.
pub fn scopes_of(request: &Request) -> Scopes {
    let url = request.url();
    let Some(rest) = url.path().strip_prefix("/v2/") else {
        return Scopes::new();
    };
    if rest == "_catalog" {
        return [Scope::catalog()].into_iter().collect();
    }
    let Some(name) = ["/blobs/", "/manifests/", "/tags/", "/referrers/"]
        .iter()
        .filter_map(|marker| rest.rfind(marker))
        .max()
        .map(|end| &rest[..end])
    else {
        return Scopes::new();
    };
    let actions: &[&str] = match *request.method() {
        Method::GET | Method::HEAD => &["pull"],
        Method::DELETE => &["pull", "push", "delete"],
        _ => &["pull", "push"],
    };
    let mut scopes = Scopes::new();
    // A name the grammar refuses cannot be scoped; the registry will refuse it anyway.
    if let Ok(scope) = Scope::repository(name, actions.iter().copied()) {
        scopes.insert(scope);
    }
    if let Some((_, from)) = url.query_pairs().find(|(key, _)| key == "from")
        && let Ok(source) = Scope::pull(&from)
    {
        scopes.insert(source);
    }
    scopes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(method: Method, url: &str) -> String {
        let request = Request::new(method, reqwest::Url::parse(url).unwrap());
        scopes_of(&request).to_string()
    }

    #[test]
    fn each_request_asks_for_the_scopes_it_needs() {
        assert_eq!(
            scopes(Method::GET, "http://h/v2/a/b/manifests/v1"),
            "repository:a/b:pull"
        );
        assert_eq!(
            scopes(Method::PATCH, "http://h/v2/a/blobs/uploads/123?_state=x"),
            "repository:a:pull,push"
        );
        assert_eq!(
            scopes(Method::DELETE, "http://h/v2/a/manifests/sha256:1"),
            "repository:a:delete,pull,push"
        );
        assert_eq!(
            scopes(
                Method::POST,
                "http://h/v2/ns/target/blobs/uploads/?mount=sha256:1&from=ns/src"
            ),
            "repository:ns/src:pull repository:ns/target:pull,push"
        );
        assert_eq!(
            scopes(Method::GET, "http://h/v2/_catalog?n=1"),
            "registry:catalog:*"
        );
        assert_eq!(scopes(Method::GET, "http://h/v2/"), "");
    }
}
