//! User accounts: a bcrypt password hash and the permissions each user has. Checking a
//! password runs bcrypt on the blocking pool; a password once verified is remembered (as a
//! SHA-256, never in clear), because Basic clients send it with every request and bcrypt is
//! deliberately slow.
//!
//! An unknown user name costs the same bcrypt work as a wrong password: it is checked against
//! a decoy hash of a random password at the highest cost among the accounts, so how long a
//! refusal takes does not tell which user names exist.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use base64::Engine;
use sha2::{Digest as _, Sha256};

use super::{AuthConfigError, Permissions};

/// One account.
#[derive(Debug, Clone)]
struct Account {
    hash: String,
    permissions: Permissions,
}

/// The accounts a registry knows.
#[derive(Debug, Default)]
pub struct Users {
    accounts: HashMap<String, Account>,
    verified: Mutex<HashMap<String, [u8; 32]>>,
    /// What unknown users' passwords are checked against (none while there is no account).
    decoy: Option<bcrypt::HashParts>,
}

impl Users {
    /// No accounts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a user with a bcrypt hash (`$2a$`, `$2b$` or `$2y$`, as
    /// `htpasswd -B` writes) and what the user may do.
    pub fn insert(
        &mut self,
        user: &str,
        bcrypt_hash: &str,
        permissions: Permissions,
    ) -> Result<(), AuthConfigError> {
        let parts =
            bcrypt_hash
                .parse::<bcrypt::HashParts>()
                .map_err(|_| AuthConfigError::NotBcrypt {
                    user: user.to_owned(),
                })?;
        if self
            .decoy
            .as_ref()
            .is_none_or(|decoy| decoy.get_cost() < parts.get_cost())
        {
            // The cost comes from a hash that parsed, so hashing at it cannot fail.
            let random = hex::encode(rand::random::<[u8; 16]>());
            self.decoy = bcrypt::hash_with_result(random, parts.get_cost()).ok();
        }
        self.accounts.insert(
            user.to_owned(),
            Account {
                hash: bcrypt_hash.to_owned(),
                permissions,
            },
        );
        Ok(())
    }

    /// The number of accounts.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// Whether there is no account.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// The permissions of `user`, when the account exists.
    pub fn permissions(&self, user: &str) -> Option<Permissions> {
        self.accounts.get(user).map(|a| a.permissions.clone())
    }

    /// The bcrypt cost an unknown user's password is checked at: the highest of the
    /// accounts' (`None` without accounts).
    pub fn decoy_cost(&self) -> Option<u32> {
        self.decoy.as_ref().map(bcrypt::HashParts::get_cost)
    }

    /// The permissions of `user` when `password` is right.
    pub async fn verify(&self, user: &str, password: &str) -> Option<Permissions> {
        let Some(account) = self.accounts.get(user) else {
            if let Some(decoy) = &self.decoy {
                // Same work as a wrong password; the answer is no whatever bcrypt says.
                bcrypt_verify(password, decoy.to_string()).await;
            }
            return None;
        };
        let fingerprint = fingerprint(user, password);
        if self.verified().get(user) == Some(&fingerprint) {
            return Some(account.permissions.clone());
        }
        if !bcrypt_verify(password, account.hash.clone()).await {
            return None;
        }
        self.verified().insert(user.to_owned(), fingerprint);
        Some(account.permissions.clone())
    }

    fn verified(&self) -> std::sync::MutexGuard<'_, HashMap<String, [u8; 32]>> {
        // Every update is one insert: a panic elsewhere cannot leave the map half-written.
        self.verified.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether `password` matches `hash`, computed on the blocking pool.
async fn bcrypt_verify(password: &str, hash: String) -> bool {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash))
        .await
        .is_ok_and(|outcome| outcome.unwrap_or(false))
}

fn fingerprint(user: &str, password: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(user.as_bytes());
    hasher.update([0]);
    hasher.update(password.as_bytes());
    hasher.finalize().into()
}

/// The user and password of a `Basic` `Authorization` value; `None` when it is not one or
/// does not decode.
pub fn basic_credentials(authorization: &str) -> Option<(String, String)> {
    let (scheme, encoded) = authorization.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[tokio::test]
    async fn passwords_are_checked_with_bcrypt_and_remembered() {
        let mut users = Users::new();
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        users
            .insert(
                "alice",
                &hash,
                Permissions::everything(Some("alice".into())),
            )
            .unwrap();
        assert!(users.verify("alice", "wrong").await.is_none());
        assert!(users.verify("bob", "s3cret").await.is_none());
        let permissions = users.verify("alice", "s3cret").await.unwrap();
        assert_eq!(permissions.subject(), Some("alice"));
        // Second time from the remembered fingerprint; a wrong one still fails.
        assert!(users.verify("alice", "s3cret").await.is_some());
        assert!(users.verify("alice", "s3cret ").await.is_none());
    }

    #[tokio::test]
    async fn unknown_users_cost_the_highest_account_cost() {
        let mut users = Users::new();
        assert_eq!(users.decoy_cost(), None);
        assert!(users.verify("nobody", "pw").await.is_none());
        for (user, cost) in [("low", 4), ("high", 6), ("mid", 5)] {
            let hash = bcrypt::hash("pw", cost).unwrap();
            users.insert(user, &hash, Permissions::default()).unwrap();
        }
        assert_eq!(users.decoy_cost(), Some(6));
        assert!(users.verify("nobody", "pw").await.is_none());
        assert!(users.verify("", "").await.is_none());
    }

    #[test]
    fn only_bcrypt_hashes_are_taken() {
        let mut users = Users::new();
        let err = users
            .insert(
                "u",
                "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=",
                Permissions::default(),
            )
            .unwrap_err();
        assert!(matches!(err, AuthConfigError::NotBcrypt { .. }));
        assert!(users.is_empty());
    }

    #[test]
    fn basic_values() {
        assert_eq!(
            basic_credentials("Basic dXNlcjpwYTpzcw=="),
            Some(("user".into(), "pa:ss".into()))
        );
        assert_eq!(basic_credentials("Bearer abc"), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
    }

    proptest! {
        #[test]
        fn basic_round_trips(user in "[^:]{0,20}", password in "\\PC{0,20}") {
            let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            prop_assert_eq!(basic_credentials(&format!("basic {encoded}")), Some((user, password)));
        }
    }
}
