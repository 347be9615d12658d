//! Settings that belong to one registry (`host[:port]`): scheme, certificate checks, extra
//! roots and a client identity. A setting made for `host:port` applies to that port only; one
//! made for `host` applies to every port of the host without its own entry.

use std::collections::BTreeMap;

use crate::tls::{Certificates, Identity, TlsProfile};

/// Hosts reached over plain HTTP when a registry answers there, else over TLS, without being
/// configured: the loopback names, whose traffic never leaves the machine.
const LOOPBACK_HOSTS: [&str; 4] = ["localhost", "127.0.0.1", "::1", "[::1]"];

/// How the client reaches a registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    /// `https` only.
    Https,
    /// `http` only.
    Http,
    /// `https`, and `http` when the registry does not speak TLS (registries.conf's
    /// `insecure`).
    HttpsThenHttp,
    /// `http` when a registry answers a plain `GET /v2/`, else `https` (loopback hosts not
    /// configured otherwise). Tried in this order because a TLS attempt costs a first
    /// handshake's CPU (tens of milliseconds: the TLS library seeds its random generator)
    /// where a plain request costs a round trip, and a loopback connection is never seen by
    /// other machines either way.
    HttpThenHttps,
}

/// What is configured for one registry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RegistrySettings {
    pub(crate) plain_http: bool,
    pub(crate) http_fallback: bool,
    pub(crate) insecure: bool,
    pub(crate) roots: Certificates,
    pub(crate) identity: Option<Identity>,
}

/// The settings of every configured registry, keyed by lowercased `host[:port]`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Registries {
    entries: BTreeMap<String, RegistrySettings>,
}

impl Registries {
    /// The settings of `registry`, created empty when missing.
    pub(crate) fn entry(&mut self, registry: &str) -> &mut RegistrySettings {
        self.entries
            .entry(registry.to_ascii_lowercase())
            .or_default()
    }

    /// The settings that apply to `registry`: its own, else its host's.
    pub(crate) fn get(&self, registry: &str) -> Option<&RegistrySettings> {
        let registry = registry.to_ascii_lowercase();
        self.entries
            .get(&registry)
            .or_else(|| self.entries.get(host_of(&registry)))
    }

    /// Every configured registry.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &RegistrySettings)> {
        self.entries
            .iter()
            .map(|(name, settings)| (name.as_str(), settings))
    }

    /// The scheme for `registry`.
    pub(crate) fn scheme(&self, registry: &str) -> Scheme {
        match self.get(registry) {
            Some(settings) if settings.plain_http => Scheme::Http,
            Some(settings) if settings.http_fallback => Scheme::HttpsThenHttp,
            _ if LOOPBACK_HOSTS.contains(&host_of(&registry.to_ascii_lowercase())) => {
                Scheme::HttpThenHttps
            }
            _ => Scheme::Https,
        }
    }

    /// True when certificates of `registry` go unchecked.
    pub(crate) fn is_insecure(&self, registry: &str) -> bool {
        self.get(registry).is_some_and(|settings| settings.insecure)
    }

    /// The TLS profile of `registry`: `base` (the settings for every registry) with the
    /// registry's extra roots added and its identity and `insecure` in force.
    pub(crate) fn tls_profile(&self, registry: &str, base: &TlsProfile) -> TlsProfile {
        let mut profile = base.clone();
        if let Some(settings) = self.get(registry) {
            profile.roots.extend(settings.roots.clone());
            if settings.identity.is_some() {
                profile.identity = settings.identity.clone();
            }
            profile.insecure = settings.insecure;
        }
        profile
    }
}

/// The host of `host[:port]`, IPv6 brackets kept.
pub(crate) fn host_of(registry: &str) -> &str {
    if registry.starts_with('[') {
        return registry.find(']').map_or(registry, |end| &registry[..=end]);
    }
    registry.split(':').next().unwrap_or(registry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_match_the_port_then_the_host() {
        let mut registries = Registries::default();
        registries.entry("Test.Example").insecure = true;
        registries.entry("other.example:8443").insecure = true;
        assert!(registries.is_insecure("test.example"));
        assert!(registries.is_insecure("test.example:443"));
        assert!(registries.is_insecure("other.example:8443"));
        assert!(!registries.is_insecure("other.example"));
        assert!(!registries.is_insecure("ghcr.io"));
    }

    #[test]
    fn loopback_hosts_try_plain_http_first_and_configured_hosts_tls_first() {
        let mut registries = Registries::default();
        registries.entry("Registry.Internal:5000").plain_http = true;
        registries.entry("127.0.0.1:5001").plain_http = true;
        registries.entry("legacy.internal").http_fallback = true;
        assert_eq!(registries.scheme("localhost:5000"), Scheme::HttpThenHttps);
        assert_eq!(registries.scheme("127.0.0.1:41234"), Scheme::HttpThenHttps);
        assert_eq!(registries.scheme("[::1]:5000"), Scheme::HttpThenHttps);
        assert_eq!(registries.scheme("127.0.0.1:5001"), Scheme::Http);
        assert_eq!(registries.scheme("registry.internal:5000"), Scheme::Http);
        assert_eq!(registries.scheme("registry.internal"), Scheme::Https);
        assert_eq!(
            registries.scheme("legacy.internal:80"),
            Scheme::HttpsThenHttp
        );
        assert_eq!(registries.scheme("ghcr.io"), Scheme::Https);
    }
}
