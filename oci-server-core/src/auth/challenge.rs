//! `WWW-Authenticate` values: `Basic realm="..."` and
//! `Bearer realm="...",service="...",scope="...",error="..."` (RFC 6750 and the Docker token
//! spec), with the token realm as an absolute URL.

use http::{HeaderMap, HeaderName, HeaderValue, header::HOST};

use super::{AuthFailure, Scope};

/// A Basic challenge.
pub(crate) fn basic(realm: &str) -> String {
    format!("Basic realm={}", quote(realm))
}

/// A Bearer challenge naming the token endpoint, the service, and the scopes needed (space
/// separated in one `scope` parameter, as distribution writes several).
pub(crate) fn bearer(
    realm: &str,
    service: &str,
    scopes: &[Scope],
    failure: &AuthFailure,
) -> String {
    let mut value = format!("Bearer realm={},service={}", quote(realm), quote(service));
    if !scopes.is_empty() {
        value.push_str(&format!(",scope={}", quote(&scopes_text(scopes))));
    }
    let error = match failure {
        AuthFailure::InvalidToken(_) => Some("invalid_token"),
        AuthFailure::InsufficientScope { .. } => Some("insufficient_scope"),
        _ => None,
    };
    if let Some(error) = error {
        value.push_str(&format!(",error={}", quote(error)));
    }
    value
}

/// Scopes as one space-separated text (a challenge's `scope`, an OAuth2 `scope`).
pub(crate) fn scopes_text(scopes: &[Scope]) -> String {
    let texts: Vec<String> = scopes.iter().map(Scope::to_string).collect();
    texts.join(" ")
}

/// How the client reached the registry when a proxy in front (or this crate's own server,
/// for TLS) terminated the connection.
pub(crate) const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// The token endpoint's absolute URL: the configured one, or `<scheme>://<Host><path>` from
/// the request, the scheme `https` when `X-Forwarded-Proto` says so (set a realm when a
/// proxy in front rewrites the host).
pub(crate) fn realm_url(headers: &HeaderMap, configured: Option<&str>, path: &str) -> String {
    if let Some(realm) = configured {
        return realm.to_owned();
    }
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let scheme = match headers.get(X_FORWARDED_PROTO).map(HeaderValue::as_bytes) {
        Some(proto) if proto.eq_ignore_ascii_case(b"https") => "https",
        _ => "http",
    };
    format!("{scheme}://{host}{path}")
}

/// An RFC 7230 quoted string.
fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        if c == '"' || c == '\\' {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::TokenError;

    #[test]
    fn bearer_challenges_name_realm_service_scope_and_error() {
        let scope = Scope::parse("repository:a/b:pull,push").unwrap();
        assert_eq!(
            bearer(
                "http://r/token",
                "reg",
                std::slice::from_ref(&scope),
                &AuthFailure::InsufficientScope {
                    scope: scope.to_string()
                }
            ),
            r#"Bearer realm="http://r/token",service="reg",scope="repository:a/b:pull,push",error="insufficient_scope""#
        );
        assert_eq!(
            bearer(
                "x",
                "s",
                &[],
                &AuthFailure::InvalidToken(TokenError::Malformed)
            ),
            r#"Bearer realm="x",service="s",error="invalid_token""#
        );
        assert_eq!(basic(r#"a"b"#), r#"Basic realm="a\"b""#);
        let mount = [scope, Scope::parse("repository:c:pull").unwrap()];
        assert!(
            bearer("x", "s", &mount, &AuthFailure::MissingCredentials)
                .ends_with(r#",scope="repository:a/b:pull,push repository:c:pull""#)
        );
    }

    #[test]
    fn realm_comes_from_config_or_host() {
        let mut headers = HeaderMap::new();
        headers.insert(HOST, "127.0.0.1:5000".parse().unwrap());
        assert_eq!(
            realm_url(&headers, None, "/token"),
            "http://127.0.0.1:5000/token"
        );
        assert_eq!(
            realm_url(&headers, Some("https://auth/t"), "/token"),
            "https://auth/t"
        );
        headers.insert(X_FORWARDED_PROTO, "HTTPS".parse().unwrap());
        assert_eq!(
            realm_url(&headers, None, "/token"),
            "https://127.0.0.1:5000/token"
        );
        headers.insert(X_FORWARDED_PROTO, "gopher".parse().unwrap());
        assert_eq!(
            realm_url(&headers, None, "/token"),
            "http://127.0.0.1:5000/token"
        );
    }
}
