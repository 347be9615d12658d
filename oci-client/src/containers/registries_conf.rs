//! `registries.conf` (version 2, containers-registries.conf(5)): the `[[registry]]` tables
//! with `prefix`, `location`, `insecure`, `blocked`, `mirror-by-digest-only` and their
//! `[[registry.mirror]]` lists. Other keys (search registries, short-name aliases) do not
//! concern a client that is always given full references, and are ignored.

use std::path::Path;

use serde::Deserialize;

use crate::error::Error;

/// The file's top level; only `[[registry]]` is read.
#[derive(Debug, Default, Deserialize)]
struct File {
    #[serde(default)]
    registry: Vec<RegistryTable>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RegistryTable {
    prefix: Option<String>,
    location: Option<String>,
    #[serde(default)]
    insecure: bool,
    #[serde(default)]
    blocked: bool,
    #[serde(default)]
    mirror_by_digest_only: bool,
    #[serde(default)]
    mirror: Vec<MirrorTable>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct MirrorTable {
    location: String,
    #[serde(default)]
    insecure: bool,
    pull_from_mirror: Option<String>,
}

/// Which pulls a mirror serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PullFrom {
    All,
    DigestOnly,
    TagOnly,
}

impl PullFrom {
    /// True when a pull by digest (`by_digest`) or by tag may use the mirror.
    pub(crate) fn serves(self, by_digest: bool) -> bool {
        match self {
            PullFrom::All => true,
            PullFrom::DigestOnly => by_digest,
            PullFrom::TagOnly => !by_digest,
        }
    }
}

/// A mirror of a registry entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mirror {
    /// `host[:port][/namespace]`.
    pub(crate) location: String,
    pub(crate) insecure: bool,
    pub(crate) pull_from: PullFrom,
}

/// One `[[registry]]` entry, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RegistryEntry {
    /// What references the entry covers: `host[:port][/path]`, or `*.domain`.
    pub(crate) prefix: String,
    /// Where they really live (`host[:port][/namespace]`); `None` for wildcard prefixes.
    pub(crate) location: Option<String>,
    pub(crate) insecure: bool,
    pub(crate) blocked: bool,
    pub(crate) mirrors: Vec<Mirror>,
}

/// Reads and checks a `registries.conf`; a missing file holds no entry.
pub(crate) fn read(path: &Path) -> Result<Vec<RegistryEntry>, Error> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(Error::ConfigFile {
                path: path.to_owned(),
                source,
            });
        }
    };
    parse(&text).map_err(|problem| match problem {
        Problem::Toml(source) => Error::RegistriesConf {
            path: path.to_owned(),
            source: Box::new(source),
        },
        Problem::Entry(message) => Error::RegistriesConfEntry {
            path: path.to_owned(),
            message,
        },
    })
}

/// What is wrong with a file's text.
#[derive(Debug)]
pub(crate) enum Problem {
    Toml(toml::de::Error),
    Entry(String),
}

/// Parses and checks the text of a `registries.conf`.
pub(crate) fn parse(text: &str) -> Result<Vec<RegistryEntry>, Problem> {
    let file: File = toml::from_str(text).map_err(Problem::Toml)?;
    file.registry.into_iter().map(check).collect()
}

fn check(table: RegistryTable) -> Result<RegistryEntry, Problem> {
    let trim = |text: String| text.trim().trim_end_matches('/').to_ascii_lowercase();
    let prefix = table.prefix.map(trim);
    let location = table.location.map(trim).filter(|text| !text.is_empty());
    let prefix = match (prefix, &location) {
        (Some(prefix), _) if !prefix.is_empty() => prefix,
        (_, Some(location)) => location.clone(),
        _ => {
            return Err(Problem::Entry(
                "a [[registry]] entry needs a prefix or a location".to_owned(),
            ));
        }
    };
    let wildcard = prefix.starts_with("*.");
    if wildcard && prefix[2..].contains(['/', '*']) {
        return Err(Problem::Entry(format!(
            "wildcard prefix {prefix:?} must be *.domain only"
        )));
    }
    if wildcard && location.is_some() {
        return Err(Problem::Entry(format!(
            "wildcard prefix {prefix:?} cannot have a location"
        )));
    }
    if !wildcard && prefix.contains('*') {
        return Err(Problem::Entry(format!(
            "prefix {prefix:?} has a '*' that does not start it"
        )));
    }
    let default_pull = match table.mirror_by_digest_only {
        true => PullFrom::DigestOnly,
        false => PullFrom::All,
    };
    let mirrors = table
        .mirror
        .into_iter()
        .map(|mirror| {
            let pull_from = match mirror.pull_from_mirror.as_deref() {
                None => default_pull,
                Some("all") => PullFrom::All,
                Some("digest-only") => PullFrom::DigestOnly,
                Some("tag-only") => PullFrom::TagOnly,
                Some(other) => {
                    return Err(Problem::Entry(format!(
                        "pull-from-mirror {other:?} is not all, digest-only or tag-only"
                    )));
                }
            };
            Ok(Mirror {
                location: trim(mirror.location),
                insecure: mirror.insecure,
                pull_from,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if mirrors.iter().any(|mirror| mirror.location.is_empty()) {
        return Err(Problem::Entry(format!(
            "a mirror of {prefix:?} has no location"
        )));
    }
    Ok(RegistryEntry {
        location: match wildcard {
            true => None,
            false => Some(location.unwrap_or_else(|| prefix.clone())),
        },
        prefix,
        insecure: table.insecure,
        blocked: table.blocked,
        mirrors,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_mirrors_and_defaults_are_read() {
        let entries = parse(
            r#"
unqualified-search-registries = ["docker.io"]

[[registry]]
prefix = "docker.io"
location = "docker.io"
mirror-by-digest-only = true

[[registry.mirror]]
location = "Mirror.Local:5000/hub/"
insecure = true

[[registry.mirror]]
location = "second.local"
pull-from-mirror = "all"

[[registry]]
location = "legacy.internal:5000"
insecure = true

[[registry]]
prefix = "*.blocked.example"
blocked = true

[aliases]
"alpine" = "docker.io/library/alpine"
"#,
        )
        .unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].mirrors[0].location, "mirror.local:5000/hub");
        assert!(entries[0].mirrors[0].insecure);
        assert_eq!(entries[0].mirrors[0].pull_from, PullFrom::DigestOnly);
        assert_eq!(entries[0].mirrors[1].pull_from, PullFrom::All);
        assert_eq!(entries[1].prefix, "legacy.internal:5000");
        assert_eq!(entries[1].location.as_deref(), Some("legacy.internal:5000"));
        assert!(entries[1].insecure);
        assert!(entries[2].blocked && entries[2].location.is_none());
    }

    #[test]
    fn broken_entries_are_refused() {
        for text in [
            "[[registry]]\ninsecure = true\n",
            "[[registry]]\nprefix = \"*.a.example/x\"\n",
            "[[registry]]\nprefix = \"*.a.example\"\nlocation = \"b.example\"\n",
            "[[registry]]\nprefix = \"a.*.example\"\n",
            "[[registry]]\nlocation = \"a.example\"\n[[registry.mirror]]\nlocation = \"m\"\npull-from-mirror = \"sometimes\"\n",
        ] {
            assert!(matches!(parse(text), Err(Problem::Entry(_))), "{text}");
        }
        assert!(matches!(
            parse("[[registry]\nlocation = 1"),
            Err(Problem::Toml(_))
        ));
        assert!(parse("").unwrap().is_empty());
        assert!(
            read(Path::new("/nonexistent/registries.conf"))
                .unwrap()
                .is_empty()
        );
    }
}
