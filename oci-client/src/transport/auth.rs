//! Authorising requests: the `Authorization` sent up front (a cached token, or an answer to
//! the registry's remembered challenge), and learning a registry's challenge from a 401 or
//! from one `GET /v2/` before a body that cannot be sent twice.

use http::header::WWW_AUTHENTICATE;
use http::{HeaderValue, Method};
use oci_auth::{BearerChallenge, Challenge, Scopes};

use super::{Transport, lock};
use crate::error::Error;
use crate::request::Request;

impl Transport {
    /// The `Authorization` to send up front: a cached token, or an answer to the registry's
    /// remembered challenge (which may fetch a token).
    pub(crate) async fn authorization(
        &self,
        registry: &str,
        scopes: &Scopes,
    ) -> Result<Option<HeaderValue>, Error> {
        if let Some(cached) = self.auth.cached_authorization(registry, scopes) {
            return Ok(Some(cached));
        }
        let known = lock(&self.challenges).get(registry).cloned();
        match known {
            Some(challenge) => self
                .auth
                .authorization_for(registry, &challenge, scopes)
                .await
                .map_err(|source| Error::Auth {
                    registry: registry.to_owned(),
                    source,
                }),
            None => Ok(None),
        }
    }

    /// Learns the challenge of a 401 and prepares an answer; `false` when there is none
    /// (anonymous on a Basic challenge, an unknown scheme, no challenge at all).
    pub(super) async fn answer_challenge(
        &self,
        request: &Request,
        response: &reqwest::Response,
        sent_authorization: bool,
    ) -> Result<bool, Error> {
        let registry = &request.registry;
        let headers = response.headers().get_all(WWW_AUTHENTICATE);
        if headers.iter().next().is_none() {
            return Ok(false);
        }
        let challenges = Challenge::from_headers(headers).map_err(|source| Error::Challenge {
            registry: registry.clone(),
            source,
        })?;
        let Some(challenge) = Challenge::select(&challenges) else {
            return Ok(false);
        };
        if sent_authorization {
            // The token sent was refused (expired or revoked on the server's side).
            self.auth.invalidate(registry, &request.scopes);
        }
        lock(&self.challenges).insert(registry.clone(), without_scope(challenge));
        let answer = self
            .auth
            .authorization_for(registry, challenge, &request.scopes)
            .await
            .map_err(|source| Error::Auth {
                registry: registry.clone(),
                source,
            })?;
        tracing::debug!(
            registry,
            scheme = challenge.scheme(),
            answered = answer.is_some(),
            "challenged"
        );
        Ok(answer.is_some())
    }

    /// Sends `GET /v2/` once per registry, so its challenge is known.
    pub(super) async fn probe_auth(&self, registry: &str) -> Result<(), Error> {
        if lock(&self.challenges).contains_key(registry) || lock(&self.probed).contains(registry) {
            return Ok(());
        }
        let url = self.base_url(registry)?;
        let request = Request::new(Method::GET, url, registry, Scopes::new());
        Box::pin(self.send(request)).await?;
        lock(&self.probed).insert(registry.to_owned());
        Ok(())
    }
}

/// A Bearer challenge stripped of its `scope`, to be answered for other scopes later;
/// other challenges as they are.
fn without_scope(challenge: &Challenge) -> Challenge {
    match challenge {
        Challenge::Bearer(bearer) => match bearer.realm() {
            Some(realm) => Challenge::Bearer(BearerChallenge::new(realm, bearer.service())),
            None => challenge.clone(),
        },
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_challenges_lose_their_scope() {
        let parsed = Challenge::parse(
            r#"Bearer realm="https://auth.example/token",service="reg",scope="repository:a:pull""#,
        )
        .unwrap();
        let Challenge::Bearer(kept) = without_scope(&parsed[0]) else {
            panic!("still a Bearer challenge");
        };
        assert_eq!(kept.realm(), Some("https://auth.example/token"));
        assert_eq!(kept.service(), Some("reg"));
        assert_eq!(kept.scope(), None);
    }
}
