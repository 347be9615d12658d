//! The containers' conventions a client reads when asked: the `certs.d` directories of
//! podman, skopeo and Docker, and `registries.conf` (version 2).
//!
//! | file | what the client takes from it |
//! |---|---|
//! | `certs.d/HOST[:PORT]/*.crt` | certificate authorities for that registry |
//! | `certs.d/HOST[:PORT]/*.cert` + `*.key` | the client certificate for that registry |
//! | `registries.conf` `[[registry]]` | `location` rewrites, `insecure`, `blocked` |
//! | `registries.conf` `[[registry.mirror]]` | mirrors a pull tries in order before the registry |
//!
//! `insecure = true` has its containers meaning: TLS first without checking the certificate,
//! then plain HTTP.

mod certs_dir;
mod registries_conf;
mod routes;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

pub(crate) use self::routes::Routes;
use crate::config::Registries;
use crate::error::Error;

/// Where the containers' configuration is read from. [`system`](Self::system) names the
/// files podman and Docker read; [`new`](Self::new) names none, for tests and for tools
/// that point elsewhere.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainersConventions {
    certs_dirs: Vec<PathBuf>,
    registries_confs: Vec<PathBuf>,
}

/// The system-wide `registries.conf`.
pub const SYSTEM_REGISTRIES_CONF: &str = "/etc/containers/registries.conf";
/// The system-wide `certs.d` directories, in the order they are searched.
pub const SYSTEM_CERTS_DIRS: [&str; 2] = ["/etc/containers/certs.d", "/etc/docker/certs.d"];

impl ContainersConventions {
    /// No directory and no file.
    pub fn new() -> Self {
        ContainersConventions::default()
    }

    /// The process environment's conventions (see [`system_with`](Self::system_with)).
    pub fn system() -> Self {
        ContainersConventions::system_with(|name| std::env::var_os(name))
    }

    /// The conventions for an environment given as a lookup function:
    ///
    /// * `certs.d`: `$HOME/.config/containers/certs.d`, then [`SYSTEM_CERTS_DIRS`];
    /// * `registries.conf`: `$CONTAINERS_REGISTRIES_CONF` when set; otherwise
    ///   `$HOME/.config/containers/registries.conf` when it exists (it replaces the system
    ///   file, as in podman), else [`SYSTEM_REGISTRIES_CONF`].
    pub fn system_with(env: impl Fn(&str) -> Option<OsString>) -> Self {
        let non_empty = |name: &str| env(name).filter(|value| !value.is_empty());
        let user = non_empty("HOME").map(|home| PathBuf::from(home).join(".config/containers"));
        let mut certs_dirs: Vec<PathBuf> = user.iter().map(|dir| dir.join("certs.d")).collect();
        certs_dirs.extend(SYSTEM_CERTS_DIRS.iter().map(PathBuf::from));
        let registries_conf = match non_empty("CONTAINERS_REGISTRIES_CONF") {
            Some(path) => PathBuf::from(path),
            None => user
                .map(|dir| dir.join("registries.conf"))
                .filter(|path| path.exists())
                .unwrap_or_else(|| PathBuf::from(SYSTEM_REGISTRIES_CONF)),
        };
        ContainersConventions {
            certs_dirs,
            registries_confs: vec![registries_conf],
        }
    }

    /// Also searches `dir` for `HOST[:PORT]` subdirectories, after the directories already
    /// named.
    pub fn with_certs_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.certs_dirs.push(dir.into());
        self
    }

    /// Also reads the `registries.conf` at `path` and the `*.conf` files of `<path>.d`; an
    /// entry replaces an entry of an earlier file with the same prefix. A missing file holds
    /// no entry.
    pub fn with_registries_conf(mut self, path: impl Into<PathBuf>) -> Self {
        self.registries_confs.push(path.into());
        self
    }

    /// The `certs.d` directories, in search order.
    pub fn certs_dirs(&self) -> &[PathBuf] {
        &self.certs_dirs
    }

    /// The `registries.conf` files, in reading order.
    pub fn registries_confs(&self) -> impl Iterator<Item = &Path> {
        self.registries_confs.iter().map(PathBuf::as_path)
    }

    /// Each `registries.conf`, followed by the `*.conf` files of its drop-in directory
    /// (`registries.conf.d`) in name order, as containers/image reads them.
    fn registries_files(&self) -> Result<Vec<PathBuf>, Error> {
        let mut files = Vec::new();
        for path in &self.registries_confs {
            files.push(path.clone());
            let mut drop_ins = path.clone().into_os_string();
            drop_ins.push(".d");
            let drop_ins = PathBuf::from(drop_ins);
            let entries = match std::fs::read_dir(&drop_ins) {
                Ok(entries) => entries,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => {
                    return Err(Error::ConfigFile {
                        path: drop_ins,
                        source,
                    });
                }
            };
            let mut found: Vec<PathBuf> = entries
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|path| path.extension().is_some_and(|ext| ext == "conf"))
                .collect();
            found.sort();
            files.extend(found);
        }
        Ok(files)
    }

    /// Reads everything named into per-registry settings and routes.
    pub(crate) fn apply(
        &self,
        registries: &mut Registries,
        routes: &mut Routes,
    ) -> Result<(), Error> {
        for (registry, certs) in certs_dir::read_all(&self.certs_dirs)? {
            let settings = registries.entry(&registry);
            settings.roots.extend(certs.roots);
            if certs.identity.is_some() {
                settings.identity = certs.identity;
            }
        }
        for path in self.registries_files()? {
            let entries = registries_conf::read(&path)?;
            for entry in &entries {
                let insecure_hosts = entry.location.iter().filter(|_| entry.insecure).chain(
                    entry
                        .mirrors
                        .iter()
                        .filter(|m| m.insecure)
                        .map(|m| &m.location),
                );
                for location in insecure_hosts {
                    let host = location.split('/').next().unwrap_or(location);
                    let settings = registries.entry(host);
                    settings.insecure = true;
                    settings.http_fallback = true;
                }
            }
            routes.extend(entries);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_paths_follow_the_environment() {
        let home = tempfile::tempdir().unwrap();
        let home_text = home.path().as_os_str().to_owned();
        let env = |name: &str| (name == "HOME").then(|| home_text.clone());
        let conventions = ContainersConventions::system_with(env);
        assert_eq!(
            conventions.certs_dirs()[0],
            home.path().join(".config/containers/certs.d")
        );
        assert_eq!(
            conventions.certs_dirs()[1..],
            SYSTEM_CERTS_DIRS.map(PathBuf::from)
        );
        assert_eq!(
            conventions.registries_confs().collect::<Vec<_>>(),
            [Path::new(SYSTEM_REGISTRIES_CONF)]
        );

        let user_conf = home.path().join(".config/containers/registries.conf");
        std::fs::create_dir_all(user_conf.parent().unwrap()).unwrap();
        std::fs::write(&user_conf, "").unwrap();
        let conventions = ContainersConventions::system_with(env);
        assert_eq!(
            conventions.registries_confs().collect::<Vec<_>>(),
            [user_conf.as_path()]
        );

        let chosen = ContainersConventions::system_with(|name| match name {
            "CONTAINERS_REGISTRIES_CONF" => Some("/etc/alt.conf".into()),
            _ => None,
        });
        assert_eq!(
            chosen.registries_confs().collect::<Vec<_>>(),
            [Path::new("/etc/alt.conf")]
        );
        assert_eq!(chosen.certs_dirs().len(), 2);
    }

    #[test]
    fn insecure_locations_and_mirrors_fall_back_to_http() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("registries.conf");
        std::fs::write(
            &conf,
            "[[registry]]\nlocation = \"a.example:5000\"\ninsecure = true\n[[registry.mirror]]\nlocation = \"m.example/ns\"\ninsecure = true\n",
        )
        .unwrap();
        let drop_ins = dir.path().join("registries.conf.d");
        std::fs::create_dir_all(&drop_ins).unwrap();
        std::fs::write(
            drop_ins.join("50-more.conf"),
            "[[registry]]\nlocation = \"b.example\"\ninsecure = true\n",
        )
        .unwrap();
        std::fs::write(drop_ins.join("ignored.txt"), "not toml [").unwrap();
        let (mut registries, mut routes) = (Registries::default(), Routes::default());
        ContainersConventions::new()
            .with_registries_conf(&conf)
            .apply(&mut registries, &mut routes)
            .unwrap();
        assert!(registries.is_insecure("a.example:5000"));
        assert!(registries.is_insecure("m.example"));
        assert!(!registries.is_insecure("a.example"));
        assert!(registries.is_insecure("b.example"));
        assert!(!routes.is_empty());
    }
}
