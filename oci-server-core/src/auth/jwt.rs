//! Docker-token JWTs, the tokens every Docker-compatible registry and token service speak
//! (distribution's token auth, docker_auth, GitLab, Harbor, Keycloak): the claims, how their
//! `access` list becomes [`Permissions`], and [`JwtVerifier`], which checks a token's key
//! ([`TrustedKeys`]), signature, algorithm, issuer and audience with `jsonwebtoken`.
//!
//! The lifetime (`exp`, `nbf`, with a leeway for clock skew, 60 s as in distribution) is
//! checked against the authorizer's [`Clock`](super::Clock) rather than by `jsonwebtoken`,
//! which reads the system time: tests move an injected clock instead of sleeping.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{
    AlgorithmFamily, Validation, dangerous::insecure_decode_claims, decode, decode_header,
    errors::ErrorKind,
};
use serde::{Deserialize, Serialize};

use super::{Actions, Grant, Permissions, RepoPattern, TokenError, TrustedKeys};
use crate::names::RepoName;

/// distribution's leeway on `exp` and `nbf`, in seconds.
pub const DEFAULT_LEEWAY_SECS: u64 = 60;

/// One entry of the `access` claim: actions on a named resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ResourceActions {
    #[serde(rename = "type")]
    pub kind: String,
    pub name: String,
    #[serde(default)]
    pub actions: Vec<String>,
}

impl ResourceActions {
    pub fn repository(grant: &Grant) -> Self {
        Self {
            kind: "repository".to_owned(),
            name: grant.repository.as_str().to_owned(),
            actions: grant
                .actions
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect(),
        }
    }

    pub fn catalog(action: &str) -> Self {
        Self {
            kind: "registry".to_owned(),
            name: "catalog".to_owned(),
            actions: vec![action.to_owned()],
        }
    }
}

/// The claims of a Docker-token JWT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DockerClaims {
    pub iss: String,
    /// The user; empty for an anonymous caller.
    #[serde(default)]
    pub sub: String,
    /// The service. Written as one string (what distribution 2.x reads); on the way in
    /// `jsonwebtoken` has checked it, whether a string or a list, so it is not read again.
    #[serde(default, skip_deserializing)]
    pub aud: String,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(default)]
    pub access: Vec<ResourceActions>,
}

impl DockerClaims {
    /// What the token lets its bearer do. Only repository names valid by the spec grammar
    /// become grants (so a name can never act as a glob), and the catalog only for
    /// `registry:catalog:*`; everything else the token names is ignored.
    pub fn permissions(self) -> Permissions {
        let mut grants = Vec::new();
        let mut catalog = false;
        for entry in self.access {
            let actions = Actions::parse_list(&entry.actions.join(","));
            // distribution writes a resource class in parentheses after the type.
            let kind = entry.kind.split('(').next().unwrap_or_default();
            match kind {
                "repository" if !actions.is_empty() => {
                    if let Ok(name) = RepoName::parse(&entry.name) {
                        grants.push(Grant {
                            repository: RepoPattern::exact(&name),
                            actions,
                        });
                    }
                }
                "registry" if entry.name == "catalog" => {
                    catalog |= entry.actions.iter().any(|a| a == "*");
                }
                _ => {}
            }
        }
        let subject = Some(self.sub).filter(|s| !s.is_empty());
        Permissions::new(subject, grants, catalog)
    }
}

/// Verifies Docker-token JWTs of one issuer for one service.
#[derive(Debug)]
pub struct JwtVerifier {
    keys: TrustedKeys,
    issuers: Vec<String>,
    service: String,
    leeway: u64,
}

impl JwtVerifier {
    /// Accepts tokens whose `iss` is `issuer`, whose `aud` is (or lists) `service`, signed by
    /// a key of `keys`.
    pub fn new(keys: TrustedKeys, issuer: impl Into<String>, service: impl Into<String>) -> Self {
        Self {
            keys,
            issuers: vec![issuer.into()],
            service: service.into(),
            leeway: DEFAULT_LEEWAY_SECS,
        }
    }

    /// Accepts tokens of `issuer` too (signed by the same trusted keys).
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        let issuer = issuer.into();
        if !self.issuers.contains(&issuer) {
            self.issuers.push(issuer);
        }
        self
    }

    /// Sets the leeway on `exp` and `nbf`, in seconds.
    pub fn with_leeway(mut self, seconds: u64) -> Self {
        self.leeway = seconds;
        self
    }

    /// The trusted keys, to add the registry's own signing certificate to.
    pub(crate) fn keys_mut(&mut self) -> &mut TrustedKeys {
        &mut self.keys
    }

    /// The claims of a token that is valid at `now` (Unix seconds).
    pub(crate) fn verify(&self, token: &str, now: u64) -> Result<DockerClaims, TokenError> {
        let header = decode_header(token).map_err(|_| refused_header(token))?;
        if header.alg.family() == AlgorithmFamily::Hmac {
            // A shared secret is no public key: an HMAC "signed" with a certificate's key
            // proves nothing.
            return Err(TokenError::Algorithm {
                algorithm: format!("{:?}", header.alg),
            });
        }
        let key = self.keys.key_for(&header, now)?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&self.issuers);
        validation.set_audience(&[&self.service]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let claims = decode::<DockerClaims>(token, &key, &validation)
            .map_err(|e| self.refusal(e.into_kind(), token, header.alg))?
            .claims;
        if now > claims.exp.saturating_add(self.leeway) {
            return Err(TokenError::Expired {
                expired_at: claims.exp,
                now,
            });
        }
        match claims.nbf {
            Some(not_before) if not_before > now.saturating_add(self.leeway) => {
                Err(TokenError::NotYetValid { not_before, now })
            }
            _ => Ok(claims),
        }
    }

    /// Why `jsonwebtoken` refused a token, with the claim it found when that is the reason.
    fn refusal(&self, kind: ErrorKind, token: &str, alg: jsonwebtoken::Algorithm) -> TokenError {
        let claim = |name: &str| {
            insecure_decode_claims::<serde_json::Value>(token)
                .ok()
                .map(|claims| match &claims[name] {
                    serde_json::Value::String(text) => text.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_default()
        };
        match kind {
            ErrorKind::InvalidSignature => TokenError::BadSignature,
            ErrorKind::InvalidIssuer => TokenError::WrongIssuer {
                found: claim("iss"),
            },
            ErrorKind::InvalidAudience => TokenError::WrongService {
                found: claim("aud"),
            },
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidKeyFormat => TokenError::Algorithm {
                algorithm: format!("{alg:?}"),
            },
            _ => TokenError::Malformed,
        }
    }
}

/// Why a header `jsonwebtoken` cannot read is refused: an algorithm it does not know (`none`
/// above all) or no JWT header at all.
fn refused_header(token: &str) -> TokenError {
    let algorithm = token
        .split('.')
        .next()
        .and_then(|part| URL_SAFE_NO_PAD.decode(part).ok())
        .and_then(|json| serde_json::from_slice::<serde_json::Value>(&json).ok())
        .and_then(|header| header["alg"].as_str().map(str::to_owned));
    match algorithm {
        Some(algorithm) => TokenError::Algorithm { algorithm },
        None => TokenError::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Action;

    fn entry(kind: &str, name: &str, actions: &[&str]) -> ResourceActions {
        ResourceActions {
            kind: kind.into(),
            name: name.into(),
            actions: actions.iter().map(|a| a.to_string()).collect(),
        }
    }

    #[test]
    fn the_access_claim_becomes_grants() {
        let claims = DockerClaims {
            iss: "i".into(),
            sub: "carol".into(),
            aud: String::new(),
            exp: 0,
            nbf: None,
            iat: None,
            jti: None,
            access: vec![
                entry("repository", "team/app", &["pull", "push"]),
                entry("repository(plugin)", "team/plugin", &["pull"]),
                entry("repository", "**", &["pull"]),
                entry("repository", "team/none", &["fly"]),
                entry("registry", "catalog", &["*"]),
                entry("other", "x", &["*"]),
            ],
        };
        let permissions = claims.clone().permissions();
        assert_eq!(permissions.subject(), Some("carol"));
        assert_eq!(permissions.actions_on("team/app").to_string(), "pull,push");
        assert!(permissions.actions_on("team/plugin").contains(Action::Pull));
        assert!(permissions.actions_on("other/repo").is_empty(), "no glob");
        assert!(!permissions.pulls_everything());
        assert!(permissions.catalog());

        let anonymous = DockerClaims {
            sub: String::new(),
            access: vec![entry("registry", "catalog", &["search"])],
            ..claims
        }
        .permissions();
        assert_eq!(anonymous.subject(), None);
        assert!(!anonymous.catalog());
    }

    #[test]
    fn unreadable_headers_name_their_algorithm() {
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"iss":"i"}"#)
        );
        let verifier = JwtVerifier::new(TrustedKeys::new(), "i", "s");
        assert_eq!(
            verifier.verify(&none, 0),
            Err(TokenError::Algorithm {
                algorithm: "none".into()
            })
        );
        assert_eq!(verifier.verify("a.b.c", 0), Err(TokenError::Malformed));
        let hs256 = format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"iss":"i"}"#)
        );
        assert!(matches!(
            verifier.verify(&hs256, 0),
            Err(TokenError::Algorithm { .. })
        ));
    }
}
