//! Where a repository's requests go under `registries.conf`: the most specific entry whose
//! prefix covers `registry/name` rewrites it to the entry's location, refuses it when
//! blocked, and lists the mirrors a pull tries first.

use oci_spec_types::reference::{DOCKER_HUB, DOCKER_HUB_API_HOST};

use super::registries_conf::RegistryEntry;
use crate::error::Error;
use crate::repository::Repository;

/// The `registries.conf` entries in force.
#[derive(Debug, Clone, Default)]
pub(crate) struct Routes {
    entries: Vec<RegistryEntry>,
}

impl Routes {
    /// Adds entries; a later entry with the same prefix replaces an earlier one.
    pub(crate) fn extend(&mut self, entries: Vec<RegistryEntry>) {
        for entry in entries {
            self.entries.retain(|known| known.prefix != entry.prefix);
            self.entries.push(entry);
        }
    }

    /// True when no entry is configured (the common case, and a fast one).
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Where requests for `repository` go; [`Error::Blocked`] when its entry is blocked.
    pub(crate) fn primary(&self, repository: &Repository) -> Result<Repository, Error> {
        let Some((entry, rest)) = self.entry_for(repository) else {
            return Ok(repository.clone());
        };
        if entry.blocked {
            return Err(Error::Blocked {
                repository: repository.to_string(),
                prefix: entry.prefix.clone(),
            });
        }
        match &entry.location {
            Some(location) => rewrite(location, &rest),
            None => Ok(repository.clone()),
        }
    }

    /// The repositories a pull tries, in order: the mirrors that serve this kind of pull
    /// (`by_digest` or by tag), then the primary location.
    pub(crate) fn pull_sources(
        &self,
        repository: &Repository,
        by_digest: bool,
    ) -> Result<Vec<Repository>, Error> {
        let primary = self.primary(repository)?;
        let Some((entry, rest)) = self.entry_for(repository) else {
            return Ok(vec![primary]);
        };
        let mut sources = entry
            .mirrors
            .iter()
            .filter(|mirror| mirror.pull_from.serves(by_digest))
            .map(|mirror| rewrite(&mirror.location, &rest))
            .collect::<Result<Vec<_>, _>>()?;
        sources.push(primary);
        Ok(sources)
    }

    /// The entry with the longest prefix covering `repository`, and what follows the prefix
    /// in `registry/name` (empty, or starting with `/`).
    fn entry_for(&self, repository: &Repository) -> Option<(&RegistryEntry, String)> {
        let registry = canonical_host(repository.registry());
        let entry = self
            .entries
            .iter()
            .filter(|entry| covers(&entry.prefix, &registry, repository.name()))
            .max_by_key(|entry| entry.prefix.len())?;
        let rest = match entry.location {
            // A wildcard covers whole hosts: a mirror takes the whole name.
            None => format!("/{}", repository.name()),
            Some(_) => format!("{registry}/{}", repository.name())[entry.prefix.len()..].to_owned(),
        };
        Some((entry, rest))
    }
}

/// True when `prefix` covers `registry/name`, ending at a component boundary.
fn covers(prefix: &str, registry: &str, name: &str) -> bool {
    if let Some(domain) = prefix.strip_prefix("*.") {
        let host = registry.split(':').next().unwrap_or(registry);
        return host
            .strip_suffix(domain)
            .is_some_and(|head| head.ends_with('.') && head.len() > 1);
    }
    let (prefix_host, prefix_path) = match prefix.split_once('/') {
        Some((host, path)) => (host, Some(path)),
        None => (prefix, None),
    };
    if prefix_host != registry {
        return false;
    }
    match prefix_path {
        None => true,
        Some(path) => name
            .strip_prefix(path)
            .is_some_and(|after| after.is_empty() || after.starts_with('/')),
    }
}

/// `location` (`host[:port][/namespace]`) with `rest` appended to its namespace.
fn rewrite(location: &str, rest: &str) -> Result<Repository, Error> {
    let (host, namespace) = match location.split_once('/') {
        Some((host, namespace)) => (host, namespace),
        None => (location, ""),
    };
    let rest = rest.trim_start_matches('/');
    let name = match (namespace.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_owned(),
        (false, true) => namespace.to_owned(),
        (false, false) => format!("{namespace}/{rest}"),
    };
    let host = match host {
        DOCKER_HUB => DOCKER_HUB_API_HOST,
        other => other,
    };
    Ok(Repository::new(host, &name)?)
}

/// Docker Hub's API hosts under the name `registries.conf` gives it.
fn canonical_host(registry: &str) -> String {
    let registry = registry.to_ascii_lowercase();
    match registry.as_str() {
        DOCKER_HUB_API_HOST | "index.docker.io" => DOCKER_HUB.to_owned(),
        _ => registry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::containers::registries_conf::parse;

    fn routes(text: &str) -> Routes {
        let mut routes = Routes::default();
        routes.extend(parse(text).unwrap());
        routes
    }

    fn repo(registry: &str, name: &str) -> Repository {
        Repository::new(registry, name).unwrap()
    }

    #[test]
    fn locations_rewrite_and_the_longest_prefix_wins() {
        let routes = routes(
            r#"
[[registry]]
prefix = "example.com"
location = "internal.example:5000"
[[registry]]
prefix = "example.com/team"
location = "team.example/mirror/team-images"
"#,
        );
        assert_eq!(
            routes.primary(&repo("example.com", "a/b")).unwrap(),
            repo("internal.example:5000", "a/b")
        );
        assert_eq!(
            routes.primary(&repo("example.com", "team/app")).unwrap(),
            repo("team.example", "mirror/team-images/app")
        );
        assert_eq!(
            routes.primary(&repo("example.com", "teamwork")).unwrap(),
            repo("internal.example:5000", "teamwork")
        );
        assert_eq!(
            routes.primary(&repo("other.example", "x")).unwrap(),
            repo("other.example", "x")
        );
    }

    #[test]
    fn mirrors_come_first_for_the_pulls_they_serve() {
        let routes = routes(
            r#"
[[registry]]
prefix = "docker.io"
[[registry.mirror]]
location = "mirror.local:5000/hub"
[[registry.mirror]]
location = "digests.local"
pull-from-mirror = "digest-only"
"#,
        );
        let hub = repo(DOCKER_HUB_API_HOST, "library/alpine");
        assert_eq!(
            routes.pull_sources(&hub, true).unwrap(),
            [
                repo("mirror.local:5000", "hub/library/alpine"),
                repo("digests.local", "library/alpine"),
                hub.clone(),
            ]
        );
        assert_eq!(routes.pull_sources(&hub, false).unwrap().len(), 2);
    }

    #[test]
    fn blocked_entries_refuse_and_wildcards_match_subdomains() {
        let routes = routes("[[registry]]\nprefix = \"*.blocked.example\"\nblocked = true\n");
        let error = routes
            .primary(&repo("a.blocked.example:5000", "x"))
            .unwrap_err();
        assert!(matches!(error, Error::Blocked { .. }), "{error}");
        assert!(routes.primary(&repo("blocked.example", "x")).is_ok());
        assert!(
            routes
                .pull_sources(&repo("b.blocked.example", "x"), true)
                .is_err()
        );
    }
}
