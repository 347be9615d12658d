//! HTTP Basic against an htpasswd file of bcrypt entries (what `htpasswd -B` writes and
//! CNCF distribution reads). Every known user may do everything; anonymous callers nothing.

use std::path::Path;

use http::{HeaderMap, header::AUTHORIZATION};

use super::{
    AuthConfigError, AuthFailure, AuthFuture, Authorizer, Permissions, Scope, Users, challenge,
    users::basic_credentials,
};

/// The realm Basic challenges name unless told otherwise.
const DEFAULT_REALM: &str = "oci-registry";

/// Basic authentication against htpasswd users.
#[derive(Debug)]
pub struct BasicAuthorizer {
    users: Users,
    realm: String,
}

impl BasicAuthorizer {
    /// An authorizer for `users`, each allowed everything.
    pub fn new(users: Users) -> Self {
        Self {
            users,
            realm: DEFAULT_REALM.to_owned(),
        }
    }

    /// Reads an htpasswd file.
    pub fn from_htpasswd_file(path: &Path) -> Result<Self, AuthConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| AuthConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self::new(parse_htpasswd(&text)?))
    }

    /// Sets the realm of the challenges.
    pub fn with_realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }
}

/// Parses htpasswd text: one `user:hash` a line; blank lines and `#` comments are skipped.
pub fn parse_htpasswd(text: &str) -> Result<Users, AuthConfigError> {
    let mut users = Users::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (user, hash) = line
            .split_once(':')
            .filter(|(user, hash)| !user.is_empty() && !hash.is_empty())
            .ok_or(AuthConfigError::HtpasswdLine { line: index + 1 })?;
        users.insert(user, hash, Permissions::everything(Some(user.to_owned())))?;
    }
    Ok(users)
}

impl Authorizer for BasicAuthorizer {
    fn authenticate<'a>(
        &'a self,
        headers: &'a HeaderMap,
    ) -> AuthFuture<'a, Result<Permissions, AuthFailure>> {
        Box::pin(async move {
            let Some(value) = headers.get(AUTHORIZATION) else {
                return Err(AuthFailure::MissingCredentials);
            };
            let (user, password) = value
                .to_str()
                .ok()
                .and_then(basic_credentials)
                .ok_or(AuthFailure::MalformedCredentials)?;
            self.users
                .verify(&user, &password)
                .await
                .ok_or(AuthFailure::BadCredentials { user })
        })
    }

    fn challenge(&self, _: &HeaderMap, _: &[Scope], _: &AuthFailure) -> Option<String> {
        Some(challenge::basic(&self.realm))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htpasswd_files_parse() {
        let hash = bcrypt::hash("pw", 4).unwrap();
        let users = parse_htpasswd(&format!("# users\n\nalice:{hash}\nbob:{hash}\n")).unwrap();
        assert_eq!(users.len(), 2);
        assert!(matches!(
            parse_htpasswd("alice\n"),
            Err(AuthConfigError::HtpasswdLine { line: 1 })
        ));
        assert!(matches!(
            parse_htpasswd("carol:plain"),
            Err(AuthConfigError::NotBcrypt { .. })
        ));
    }

    #[tokio::test]
    async fn basic_credentials_are_checked() {
        let hash = bcrypt::hash("pw", 4).unwrap();
        let authorizer = BasicAuthorizer::new(parse_htpasswd(&format!("alice:{hash}")).unwrap());
        let mut headers = HeaderMap::new();
        assert!(matches!(
            authorizer.authenticate(&headers).await,
            Err(AuthFailure::MissingCredentials)
        ));
        headers.insert(AUTHORIZATION, "Basic YWxpY2U6cHc=".parse().unwrap());
        let permissions = authorizer.authenticate(&headers).await.unwrap();
        assert_eq!(permissions.subject(), Some("alice"));
        headers.insert(AUTHORIZATION, "Basic YWxpY2U6bm8=".parse().unwrap());
        assert!(matches!(
            authorizer.authenticate(&headers).await,
            Err(AuthFailure::BadCredentials { .. })
        ));
    }
}
