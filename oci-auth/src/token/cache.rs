//! Tokens kept per registry and scope set, handed out while fresh.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use super::response::Token;
use crate::scope::Scopes;

/// A cache key: the lowercased registry and the exact scope set.
pub(crate) type CacheKey = (String, Scopes);

/// The key for `registry` (compared case-insensitively) and `scopes`.
pub(crate) fn cache_key(registry: &str, scopes: &Scopes) -> CacheKey {
    (registry.to_ascii_lowercase(), scopes.clone())
}

/// A thread-safe cache of tokens keyed by registry (case-insensitive) and scope set.
#[derive(Debug, Default)]
pub struct TokenCache {
    renew_margin: Duration,
    entries: Mutex<HashMap<CacheKey, Token>>,
}

impl TokenCache {
    /// A cache that stops handing out a token when less than `renew_margin` of it is left
    /// (see [`Token::is_fresh`]).
    pub fn new(renew_margin: Duration) -> Self {
        TokenCache {
            renew_margin,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<CacheKey, Token>> {
        // A panic elsewhere cannot leave a half-written map entry, so a poisoned map is usable.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The token for `registry` and exactly `scopes`, if it is still fresh at `now`.
    /// A stale token is dropped.
    pub fn get(&self, registry: &str, scopes: &Scopes, now: SystemTime) -> Option<Token> {
        let key = cache_key(registry, scopes);
        let mut entries = self.entries();
        match entries.get(&key) {
            Some(token) if token.is_fresh(now, self.renew_margin) => Some(token.clone()),
            Some(_) => {
                entries.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Keeps `token` for `registry` and `scopes`, replacing any older one.
    pub fn insert(&self, registry: &str, scopes: &Scopes, token: Token) {
        self.entries().insert(cache_key(registry, scopes), token);
    }

    /// Drops the token for `registry` and `scopes` (say, after the registry answered 401 to
    /// it). Returns whether there was one.
    pub fn invalidate(&self, registry: &str, scopes: &Scopes) -> bool {
        self.entries()
            .remove(&cache_key(registry, scopes))
            .is_some()
    }

    /// Drops every token for `registry`.
    pub fn invalidate_registry(&self, registry: &str) {
        let registry = registry.to_ascii_lowercase();
        self.entries().retain(|(cached, _), _| *cached != registry);
    }

    /// Number of tokens held (fresh or not yet found stale).
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// True when no token is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::Scope;

    fn start() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000)
    }

    fn pull(repository: &str) -> Scopes {
        Scope::pull(repository).unwrap().into()
    }

    #[test]
    fn keyed_by_registry_and_scopes() {
        let cache = TokenCache::new(Duration::from_secs(10));
        cache.insert(
            "R.example",
            &pull("a"),
            Token::new("t1", start(), Duration::from_secs(300)),
        );
        assert_eq!(
            cache
                .get("r.example", &pull("a"), start())
                .map(|t| t.value().expose().to_owned()),
            Some("t1".to_owned())
        );
        assert!(cache.get("r.example", &pull("b"), start()).is_none());
        assert!(cache.get("other.example", &pull("a"), start()).is_none());
    }

    #[test]
    fn stale_tokens_are_dropped() {
        let cache = TokenCache::new(Duration::from_secs(10));
        cache.insert(
            "r",
            &pull("a"),
            Token::new("t", start(), Duration::from_secs(300)),
        );
        assert!(
            cache
                .get("r", &pull("a"), start() + Duration::from_secs(289))
                .is_some()
        );
        assert!(
            cache
                .get("r", &pull("a"), start() + Duration::from_secs(290))
                .is_none()
        );
        assert!(cache.is_empty());
    }

    #[test]
    fn invalidate_drops_one_entry_or_a_registry() {
        let cache = TokenCache::new(Duration::ZERO);
        let token = Token::new("t", start(), Duration::from_secs(60));
        cache.insert("r", &pull("a"), token.clone());
        cache.insert("r", &pull("b"), token.clone());
        cache.insert("s", &pull("a"), token);
        assert!(cache.invalidate("r", &pull("a")));
        assert!(!cache.invalidate("r", &pull("a")));
        assert_eq!(cache.len(), 2);
        cache.invalidate_registry("R");
        assert_eq!(cache.len(), 1);
        assert!(cache.get("s", &pull("a"), start()).is_some());
    }
}
