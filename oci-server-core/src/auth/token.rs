//! Signed tokens: `base64url(payload JSON) "." base64url(HMAC-SHA256(key, first part))`.
//! The payload names the kind (access or refresh), the user, the service it is for, when it
//! was issued and when it expires, and (for access tokens) the repositories and actions it
//! grants. Only this registry (or another holding the same key) can verify them.

use std::{
    fmt,
    time::{SystemTime, UNIX_EPOCH},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use super::{AuthConfigError, Grant, TokenError};

/// Tells the time, in Unix seconds. Tests inject their own to move time without sleeping.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Seconds since the Unix epoch.
    fn now(&self) -> u64;
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    }
}

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum TokenKind {
    /// Sent as `Authorization: Bearer` to the registry.
    Access,
    /// Traded at the token endpoint for new access tokens.
    Refresh,
}

/// The signed payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Claims {
    pub kind: TokenKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access: Vec<Grant>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub catalog: bool,
}

impl Claims {
    /// Checks kind, service and expiry.
    pub fn check(&self, kind: TokenKind, service: &str, now: u64) -> Result<(), TokenError> {
        if self.kind != kind {
            return Err(TokenError::WrongKind);
        }
        if self.aud != service {
            return Err(TokenError::WrongService {
                found: self.aud.clone(),
            });
        }
        if now >= self.exp {
            return Err(TokenError::Expired {
                expired_at: self.exp,
                now,
            });
        }
        Ok(())
    }
}

/// Signs and verifies tokens with one HMAC-SHA256 key.
#[derive(Clone)]
pub struct TokenSigner {
    key: Vec<u8>,
}

impl fmt::Debug for TokenSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSigner").finish_non_exhaustive()
    }
}

impl TokenSigner {
    /// The shortest key accepted, in bytes.
    pub const MIN_KEY_LEN: usize = 32;

    /// A signer with `key` (at least 32 bytes). Registries sharing one store must share the
    /// key for their tokens to work on each other.
    pub fn new(key: impl Into<Vec<u8>>) -> Result<Self, AuthConfigError> {
        let key = key.into();
        if key.len() < Self::MIN_KEY_LEN {
            return Err(AuthConfigError::ShortKey { len: key.len() });
        }
        Ok(Self { key })
    }

    /// A signer with a random 256-bit key: its tokens die with the process.
    pub fn random() -> Self {
        Self {
            key: rand::random::<[u8; 32]>().to_vec(),
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes keys of any length, so this cannot fail.
        <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"))
    }

    pub(crate) fn sign(&self, claims: &Claims) -> String {
        // Serialising a struct of strings, numbers and lists cannot fail.
        let payload = serde_json::to_vec(claims).unwrap_or_default();
        let payload = URL_SAFE_NO_PAD.encode(payload);
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{payload}.{signature}")
    }

    /// The claims of a token whose signature is right (kind, service and expiry are checked
    /// by the caller).
    pub(crate) fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        let (payload, signature) = token.split_once('.').ok_or(TokenError::Malformed)?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| TokenError::Malformed)?;
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        mac.verify_slice(&signature)
            .map_err(|_| TokenError::BadSignature)?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Malformed)?;
        serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)
    }
}

/// `issued_at` as RFC 3339 UTC (`2024-05-01T12:00:00Z`), from Unix seconds.
pub(crate) fn rfc3339(unix: u64) -> String {
    let days = unix / 86_400;
    let seconds = unix % 86_400;
    // Civil date from days since 1970-01-01 (proleptic Gregorian), in 400-year eras.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Actions, RepoPattern};
    use proptest::prelude::*;

    fn claims(exp: u64) -> Claims {
        Claims {
            kind: TokenKind::Access,
            sub: Some("alice".into()),
            aud: "reg".into(),
            iat: 100,
            exp,
            access: vec![Grant {
                repository: RepoPattern::new("a/b"),
                actions: Actions::ALL,
            }],
            catalog: false,
        }
    }

    #[test]
    fn tokens_round_trip_and_tampering_is_caught() {
        let signer = TokenSigner::random();
        let token = signer.sign(&claims(200));
        assert_eq!(signer.verify(&token).unwrap(), claims(200));
        let (payload, signature) = token.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(10_000)).unwrap());
        assert_eq!(
            signer.verify(&format!("{forged}.{signature}")),
            Err(TokenError::BadSignature)
        );
        assert_eq!(
            TokenSigner::random().verify(&token),
            Err(TokenError::BadSignature)
        );
        assert_eq!(signer.verify(payload), Err(TokenError::Malformed));
    }

    #[test]
    fn claims_are_checked() {
        let c = claims(200);
        assert!(c.check(TokenKind::Access, "reg", 199).is_ok());
        assert_eq!(
            c.check(TokenKind::Access, "reg", 200),
            Err(TokenError::Expired {
                expired_at: 200,
                now: 200
            })
        );
        assert_eq!(
            c.check(TokenKind::Refresh, "reg", 0),
            Err(TokenError::WrongKind)
        );
        assert!(matches!(
            c.check(TokenKind::Access, "other", 0),
            Err(TokenError::WrongService { .. })
        ));
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(matches!(
            TokenSigner::new(vec![0; 31]),
            Err(AuthConfigError::ShortKey { len: 31 })
        ));
        assert!(TokenSigner::new(vec![0; 32]).is_ok());
    }

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    proptest! {
        #[test]
        fn verify_never_panics(token in "\\PC{0,80}") {
            let _ = TokenSigner::random().verify(&token);
        }

        #[test]
        fn signed_claims_verify(exp in any::<u64>(), sub in proptest::option::of("[a-z]{1,8}")) {
            let signer = TokenSigner::random();
            let mut c = claims(exp);
            c.sub = sub;
            prop_assert_eq!(signer.verify(&signer.sign(&c)).unwrap(), c);
        }
    }
}
