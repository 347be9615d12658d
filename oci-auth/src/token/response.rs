//! What a token server answers, and the [`Token`] it becomes.

use std::time::{Duration, SystemTime};

use http::HeaderValue;
use http::header::InvalidHeaderValue;
use serde::Deserialize;

use super::timestamp::parse_rfc3339;
use crate::error::Error;
use crate::secret::Secret;

/// A bearer token and how long it lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    value: Secret,
    issued_at: SystemTime,
    lifetime: Duration,
    refresh_token: Option<Secret>,
}

impl Token {
    /// A token issued at `issued_at`, valid for `lifetime`.
    pub fn new(value: impl Into<Secret>, issued_at: SystemTime, lifetime: Duration) -> Self {
        Token {
            value: value.into(),
            issued_at,
            lifetime,
            refresh_token: None,
        }
    }

    /// The same token, carrying the refresh token the server sent with it.
    pub fn with_refresh_token(mut self, refresh_token: Secret) -> Self {
        self.refresh_token = Some(refresh_token);
        self
    }

    /// The bearer token itself.
    pub fn value(&self) -> &Secret {
        &self.value
    }

    /// When the token was issued (the server's `issued_at` when sane, else the request time).
    pub fn issued_at(&self) -> SystemTime {
        self.issued_at
    }

    /// How long the token lives from [`issued_at`](Self::issued_at).
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// When the token stops working.
    pub fn expires_at(&self) -> SystemTime {
        self.issued_at + self.lifetime
    }

    /// A refresh token the server sent along, good for later OAuth2 requests.
    pub fn refresh_token(&self) -> Option<&Secret> {
        self.refresh_token.as_ref()
    }

    /// True while the token has more than `renew_margin` left (the margin is capped at half
    /// the lifetime, so short-lived tokens are still used).
    pub fn is_fresh(&self, now: SystemTime, renew_margin: Duration) -> bool {
        let margin = renew_margin.min(self.lifetime / 2);
        now + margin < self.expires_at()
    }

    /// The `Authorization: Bearer ...` value, marked sensitive.
    pub fn authorization(&self) -> Result<HeaderValue, InvalidHeaderValue> {
        let mut value = HeaderValue::try_from(format!("Bearer {}", self.value.expose()))?;
        value.set_sensitive(true);
        Ok(value)
    }
}

/// The JSON a token server answers (distribution's token spec and OAuth2 spellings).
#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: Option<Secret>,
    #[serde(default)]
    access_token: Option<Secret>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
    #[serde(default)]
    issued_at: Option<String>,
    #[serde(default)]
    refresh_token: Option<Secret>,
}

/// Turns a token server's answer into a [`Token`] (`realm` names the server in errors).
///
/// `requested_at` is when the request started; it stands for `issued_at` when the server sends
/// none, an unreadable one, or one in the future (a server clock ahead of ours must not make a
/// token outlive its real expiry). `default_lifetime` applies when `expires_in` is missing or
/// not a positive number.
pub fn parse_token_response(
    body: &[u8],
    realm: &str,
    requested_at: SystemTime,
    default_lifetime: Duration,
) -> Result<Token, Error> {
    let response: TokenResponse =
        serde_json::from_slice(body).map_err(|source| Error::TokenResponse {
            realm: realm.to_owned(),
            source,
        })?;
    let non_empty = |secret: Option<Secret>| secret.filter(|s| !s.is_empty());
    let value = non_empty(response.token)
        .or(non_empty(response.access_token))
        .ok_or_else(|| Error::TokenMissing {
            realm: realm.to_owned(),
        })?;
    let lifetime = response
        .expires_in
        .as_ref()
        .and_then(positive_seconds)
        .unwrap_or(default_lifetime);
    let issued_at = response
        .issued_at
        .as_deref()
        .and_then(parse_rfc3339)
        .filter(|issued| *issued <= requested_at)
        .unwrap_or(requested_at);
    let token = Token::new(value, issued_at, lifetime);
    Ok(match non_empty(response.refresh_token) {
        Some(refresh) => token.with_refresh_token(refresh),
        None => token,
    })
}

/// `expires_in` as a duration, when it is a positive number of seconds.
fn positive_seconds(value: &serde_json::Value) -> Option<Duration> {
    if let Some(seconds) = value.as_u64() {
        return (seconds > 0).then(|| Duration::from_secs(seconds));
    }
    let seconds = value.as_f64()?;
    (seconds.is_finite() && seconds >= 1.0).then(|| Duration::from_secs(seconds as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DEFAULT: Duration = Duration::from_secs(60);

    fn now() -> SystemTime {
        // 2024-01-01T00:00:00Z
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_704_067_200)
    }

    fn parse(body: &str) -> Result<Token, Error> {
        parse_token_response(
            body.as_bytes(),
            "https://auth.example/token",
            now(),
            DEFAULT,
        )
    }

    #[test]
    fn token_with_expiry() {
        let token = parse(r#"{"token":"abc","expires_in":300}"#).unwrap();
        assert_eq!(token.value().expose(), "abc");
        assert_eq!(token.issued_at(), now());
        assert_eq!(token.expires_at(), now() + Duration::from_secs(300));
        assert_eq!(token.refresh_token(), None);
    }

    #[test]
    fn access_token_spelling_and_refresh_token() {
        let token = parse(r#"{"access_token":"xyz","refresh_token":"r1","scope":"s"}"#).unwrap();
        assert_eq!(token.value().expose(), "xyz");
        assert_eq!(token.lifetime(), DEFAULT);
        assert_eq!(token.refresh_token().map(Secret::expose), Some("r1"));
    }

    #[test]
    fn empty_token_falls_back_to_access_token() {
        let token = parse(r#"{"token":"","access_token":"xyz"}"#).unwrap();
        assert_eq!(token.value().expose(), "xyz");
    }

    #[test]
    fn odd_expiries_use_the_default() {
        for expires in ["0", "-5", "\"300\"", "null", "0.5"] {
            let token = parse(&format!(r#"{{"token":"t","expires_in":{expires}}}"#)).unwrap();
            assert_eq!(token.lifetime(), DEFAULT, "{expires}");
        }
        let token = parse(r#"{"token":"t","expires_in":90.7}"#).unwrap();
        assert_eq!(token.lifetime(), Duration::from_secs(90));
    }

    #[test]
    fn issued_at_in_the_past_shortens_the_life() {
        let token =
            parse(r#"{"token":"t","expires_in":300,"issued_at":"2023-12-31T23:58:00Z"}"#).unwrap();
        assert_eq!(token.expires_at(), now() + Duration::from_secs(180));
    }

    #[test]
    fn issued_at_in_the_future_or_unreadable_is_ignored() {
        for issued in ["2024-01-01T01:00:00Z", "yesterday"] {
            let body = format!(r#"{{"token":"t","expires_in":300,"issued_at":"{issued}"}}"#);
            assert_eq!(parse(&body).unwrap().issued_at(), now(), "{issued}");
        }
    }

    #[test]
    fn answers_without_a_token_are_errors() {
        assert!(matches!(
            parse(r#"{"expires_in":300}"#),
            Err(Error::TokenMissing { .. })
        ));
        assert!(matches!(
            parse(r#"{"token":""}"#),
            Err(Error::TokenMissing { .. })
        ));
        assert!(matches!(parse("<html>"), Err(Error::TokenResponse { .. })));
        assert!(matches!(
            parse(r#"{"token":5}"#),
            Err(Error::TokenResponse { .. })
        ));
    }

    #[test]
    fn freshness_keeps_a_margin_capped_at_half_the_lifetime() {
        let margin = Duration::from_secs(10);
        let token = Token::new("t", now(), Duration::from_secs(300));
        assert!(token.is_fresh(now() + Duration::from_secs(289), margin));
        assert!(!token.is_fresh(now() + Duration::from_secs(290), margin));
        let short = Token::new("t", now(), Duration::from_secs(4));
        assert!(short.is_fresh(now() + Duration::from_secs(1), margin));
        assert!(!short.is_fresh(now() + Duration::from_secs(2), margin));
    }

    #[test]
    fn authorization_header_is_sensitive() {
        let header = Token::new("abc", now(), DEFAULT).authorization().unwrap();
        assert_eq!(header.to_str().unwrap(), "Bearer abc");
        assert!(header.is_sensitive());
        assert!(Token::new("a\nb", now(), DEFAULT).authorization().is_err());
    }

    #[test]
    fn debug_hides_the_token() {
        let token = parse(r#"{"token":"tok-secret","refresh_token":"ref-secret"}"#).unwrap();
        let printed = format!("{token:?}");
        assert!(
            !printed.contains("tok-secret") && !printed.contains("ref-secret"),
            "{printed}"
        );
    }

    proptest! {
        #[test]
        fn never_panics(body in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_token_response(&body, "r", now(), DEFAULT);
        }

        #[test]
        fn any_token_string_round_trips(value in "[!-~]{1,40}", expires in 1u64..100_000) {
            let body = serde_json::json!({"token": value, "expires_in": expires}).to_string();
            let token = parse(&body).unwrap();
            prop_assert_eq!(token.value().expose(), value.as_str());
            prop_assert_eq!(token.lifetime(), Duration::from_secs(expires));
        }
    }
}
