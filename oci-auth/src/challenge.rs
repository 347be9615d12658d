//! `WWW-Authenticate` challenges (RFC 9110 section 11): the typed values and how they print.
//! The parser lives in the private `parse` submodule.

use std::collections::HashMap;
use std::fmt;

use http::HeaderValue;

use crate::error::{ChallengeError, ScopeError};
use crate::scope::Scopes;

mod parse;

/// Auth parameters of one challenge, in the order they were given.
///
/// Names are stored lowercased (they compare case-insensitively); each name appears once.
/// Lookups go through an index by name, so a header with thousands of parameters still
/// parses in linear time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthParams {
    entries: Vec<(String, String)>,
    positions: HashMap<String, usize>,
}

impl AuthParams {
    /// No parameters.
    pub fn new() -> Self {
        AuthParams::default()
    }

    /// The value of `name`, compared case-insensitively.
    pub fn get(&self, name: &str) -> Option<&str> {
        let position = match self.positions.get(name) {
            Some(position) => Some(position),
            None if name.bytes().any(|b| b.is_ascii_uppercase()) => {
                self.positions.get(&name.to_ascii_lowercase())
            }
            None => None,
        }?;
        Some(self.entries[*position].1.as_str())
    }

    /// Sets `name` (lowercased) to `value`, returning the value it replaces.
    ///
    /// For the printed challenge to parse back, `name` must be an HTTP token and `value` must
    /// hold no control character other than tab.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) -> Option<String> {
        let name = name.into().to_ascii_lowercase();
        let value = value.into();
        match self.positions.get(&name) {
            Some(&position) => Some(std::mem::replace(&mut self.entries[position].1, value)),
            None => {
                self.positions.insert(name.clone(), self.entries.len());
                self.entries.push((name, value));
                None
            }
        }
    }

    /// The parameters as `(name, value)` pairs, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there is no parameter.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for AuthParams {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut params = AuthParams::new();
        for (name, value) in iter {
            params.insert(name, value);
        }
        params
    }
}

/// A `Basic` challenge (RFC 7617).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BasicChallenge {
    /// All parameters, `realm` included.
    pub params: AuthParams,
}

impl BasicChallenge {
    /// The `realm` parameter.
    pub fn realm(&self) -> Option<&str> {
        self.params.get("realm")
    }
}

/// A `Bearer` challenge as registries send it: `realm` names the token server, `service` and
/// `scope` go into the token request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BearerChallenge {
    /// All parameters, in the order given.
    pub params: AuthParams,
}

impl BearerChallenge {
    /// A challenge pointing at the token server `realm`, for `service` when given.
    pub fn new(realm: impl Into<String>, service: Option<&str>) -> Self {
        let mut params = AuthParams::new();
        params.insert("realm", realm);
        if let Some(service) = service {
            params.insert("service", service);
        }
        BearerChallenge { params }
    }

    /// The token server URL.
    pub fn realm(&self) -> Option<&str> {
        self.params.get("realm")
    }

    /// The `service` to name in the token request.
    pub fn service(&self) -> Option<&str> {
        self.params.get("service")
    }

    /// The raw `scope` parameter: zero or more scopes separated by spaces.
    pub fn scope(&self) -> Option<&str> {
        self.params.get("scope")
    }

    /// The `error` parameter, e.g. `insufficient_scope` or `invalid_token`.
    pub fn error(&self) -> Option<&str> {
        self.params.get("error")
    }

    /// The scopes the registry asks for (empty when there is no `scope` parameter).
    pub fn scopes(&self) -> Result<Scopes, ScopeError> {
        self.scope()
            .map_or_else(|| Ok(Scopes::new()), Scopes::parse)
    }
}

/// One challenge of a `WWW-Authenticate` header.
///
/// Scheme names compare case-insensitively: `bearer` parses as [`Challenge::Bearer`].
/// A value prints back in a form that parses to the same value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// `Basic realm="..."`.
    Basic(BasicChallenge),
    /// `Bearer realm="...",service="...",scope="..."`.
    Bearer(BearerChallenge),
    /// Any other scheme, kept so that a caller can report it.
    Other {
        /// The scheme as written.
        scheme: String,
        /// Its auth parameters (empty when it carries a token68 value).
        params: AuthParams,
        /// A token68 value (`Negotiate YIIB...`), the alternative to parameters.
        token68: Option<String>,
    },
}

impl Challenge {
    /// Parses every challenge of one `WWW-Authenticate` value.
    ///
    /// ```
    /// use oci_auth::Challenge;
    ///
    /// let challenges = Challenge::parse(r#"Basic realm="a, b", Bearer realm="https://auth.example/token""#)?;
    /// assert_eq!(challenges.len(), 2);
    /// # Ok::<(), oci_auth::ChallengeError>(())
    /// ```
    pub fn parse(value: &str) -> Result<Vec<Challenge>, ChallengeError> {
        parse::parse_challenges(value)
    }

    /// Parses a raw header value, which HTTP does not promise to be UTF-8.
    pub fn parse_bytes(value: &[u8]) -> Result<Vec<Challenge>, ChallengeError> {
        let text = std::str::from_utf8(value).map_err(|e| ChallengeError::NotUtf8 {
            valid_up_to: e.valid_up_to(),
        })?;
        Challenge::parse(text)
    }

    /// Parses all `WWW-Authenticate` values of a response (a server may send several headers),
    /// e.g. `Challenge::from_headers(response.headers().get_all(WWW_AUTHENTICATE))`.
    pub fn from_headers<'a>(
        values: impl IntoIterator<Item = &'a HeaderValue>,
    ) -> Result<Vec<Challenge>, ChallengeError> {
        let mut challenges = Vec::new();
        for value in values {
            challenges.extend(Challenge::parse_bytes(value.as_bytes())?);
        }
        if challenges.is_empty() {
            return Err(ChallengeError::Empty);
        }
        Ok(challenges)
    }

    /// The challenge this crate can best answer: Bearer first, then Basic.
    pub fn select(challenges: &[Challenge]) -> Option<&Challenge> {
        let find = |wanted: fn(&Challenge) -> bool| challenges.iter().find(|c| wanted(c));
        find(|c| matches!(c, Challenge::Bearer(_)))
            .or_else(|| find(|c| matches!(c, Challenge::Basic(_))))
    }

    /// The scheme name: `Basic`, `Bearer`, or the other scheme as written.
    pub fn scheme(&self) -> &str {
        match self {
            Challenge::Basic(_) => "Basic",
            Challenge::Bearer(_) => "Bearer",
            Challenge::Other { scheme, .. } => scheme,
        }
    }

    /// The auth parameters.
    pub fn params(&self) -> &AuthParams {
        match self {
            Challenge::Basic(basic) => &basic.params,
            Challenge::Bearer(bearer) => &bearer.params,
            Challenge::Other { params, .. } => params,
        }
    }

    /// Prints several challenges as one header value.
    pub fn render_all(challenges: &[Challenge]) -> String {
        let rendered: Vec<String> = challenges.iter().map(Challenge::to_string).collect();
        rendered.join(", ")
    }
}

impl fmt::Display for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.scheme())?;
        if let Challenge::Other {
            token68: Some(token68),
            ..
        } = self
        {
            return write!(f, " {token68}");
        }
        for (index, (name, value)) in self.params().iter().enumerate() {
            f.write_str(if index == 0 { " " } else { ", " })?;
            write!(f, "{name}=\"")?;
            for c in value.chars() {
                if c == '"' || c == '\\' {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
            f.write_str("\"")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::Scope;

    #[test]
    fn params_are_case_insensitive_and_unique() {
        let mut params = AuthParams::new();
        assert_eq!(params.insert("Realm", "a"), None);
        assert_eq!(params.insert("REALM", "b"), Some("a".to_owned()));
        assert_eq!(params.get("realm"), Some("b"));
        assert_eq!(params.len(), 1);
    }

    #[test]
    fn display_quotes_and_escapes() {
        let challenge = Challenge::Bearer(BearerChallenge {
            params: [("realm", r#"https://a/"b"\c"#), ("service", "x, y")]
                .into_iter()
                .collect(),
        });
        assert_eq!(
            challenge.to_string(),
            r#"Bearer realm="https://a/\"b\"\\c", service="x, y""#
        );
    }

    #[test]
    fn select_prefers_bearer_then_basic() {
        let challenges =
            Challenge::parse(r#"Negotiate, Basic realm="r", Bearer realm="t""#).unwrap();
        assert_eq!(
            Challenge::select(&challenges).map(Challenge::scheme),
            Some("Bearer")
        );
        assert_eq!(
            Challenge::select(&challenges[..2]).map(Challenge::scheme),
            Some("Basic")
        );
        assert_eq!(Challenge::select(&challenges[..1]), None);
    }

    #[test]
    fn bearer_scopes_split_on_spaces() {
        let bearer = BearerChallenge {
            params: [("scope", "repository:a:pull repository:b:pull,push")]
                .into_iter()
                .collect(),
        };
        let scopes: Vec<Scope> = bearer.scopes().unwrap().iter().collect();
        assert_eq!(scopes.len(), 2);
        assert_eq!(scopes[1].to_string(), "repository:b:pull,push");
        assert!(BearerChallenge::default().scopes().unwrap().is_empty());
    }

    #[test]
    fn from_headers_joins_several_values() {
        let values = [
            HeaderValue::from_static(r#"Basic realm="r""#),
            HeaderValue::from_static(r#"Bearer realm="t",service="s""#),
        ];
        let challenges = Challenge::from_headers(&values).unwrap();
        assert_eq!(challenges.len(), 2);
        assert_eq!(Challenge::from_headers(&[]), Err(ChallengeError::Empty));
    }

    #[test]
    fn raw_bytes_must_be_utf8() {
        assert_eq!(
            Challenge::parse_bytes(b"Basic realm=\"\xff\""),
            Err(ChallengeError::NotUtf8 { valid_up_to: 13 })
        );
    }
}
