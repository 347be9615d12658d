//! `certs.d` directories (containers-certs.d(5), Docker's `certs.d`): one subdirectory per
//! registry, named `host[:port]`, holding certificate authorities (`*.crt`, such as
//! `ca.crt`) and client identities (`*.cert` with the `*.key` of the same name, such as
//! `client.cert` and `client.key`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::tls::{Certificates, Identity};

/// What one registry's directory holds.
#[derive(Debug, Default)]
pub(crate) struct RegistryCerts {
    pub(crate) roots: Certificates,
    pub(crate) identity: Option<Identity>,
}

/// The registries of `dirs`, each read from the first directory that has a subdirectory for
/// it (as containers/image does); missing directories are skipped.
pub(crate) fn read_all(dirs: &[PathBuf]) -> Result<BTreeMap<String, RegistryCerts>, Error> {
    let mut found = BTreeMap::new();
    for dir in dirs {
        for (registry, path) in registry_dirs(dir)? {
            if let std::collections::btree_map::Entry::Vacant(slot) = found.entry(registry) {
                slot.insert(read_registry(&path)?);
            }
        }
    }
    Ok(found)
}

/// `(registry, path)` for each subdirectory of `dir`, lowercased; nothing when `dir` is
/// missing.
fn registry_dirs(dir: &Path) -> Result<Vec<(String, PathBuf)>, Error> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(config_file(dir, source)),
    };
    let mut dirs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| config_file(dir, source))?;
        let path = entry.path();
        if path.is_dir()
            && let Some(name) = entry.file_name().to_str()
        {
            dirs.push((name.to_ascii_lowercase(), path));
        }
    }
    Ok(dirs)
}

/// The roots and identity in one registry's directory.
fn read_registry(dir: &Path) -> Result<RegistryCerts, Error> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| config_file(dir, source))?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()
        .map_err(|source| config_file(dir, source))?;
    // Sorted, so which identity wins among several does not depend on the file system.
    files.sort();
    let mut certs = RegistryCerts::default();
    for path in &files {
        match path.extension().and_then(|ext| ext.to_str()) {
            Some("crt") => certs.roots.extend(Certificates::from_pem_file(path)?),
            Some("cert") if certs.identity.is_none() => {
                let key = path.with_extension("key");
                if !key.exists() {
                    return Err(Error::CertsDir {
                        path: path.clone(),
                        problem: "a client certificate without its .key file",
                    });
                }
                certs.identity = Some(Identity::from_pem_files(path, &key)?);
            }
            Some("key") if !path.with_extension("cert").exists() => {
                return Err(Error::CertsDir {
                    path: path.clone(),
                    problem: "a key without its .cert file",
                });
            }
            _ => {}
        }
    }
    Ok(certs)
}

fn config_file(path: &Path, source: std::io::Error) -> Error {
    Error::ConfigFile {
        path: path.to_owned(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn the_first_directory_with_a_registry_wins() {
        let made = rcgen::generate_simple_self_signed(vec!["r.example".to_owned()]).unwrap();
        let (cert, key) = (made.cert.pem(), made.signing_key.serialize_pem());
        let root = tempfile::tempdir().unwrap();
        let (first, second) = (root.path().join("a"), root.path().join("b"));
        write(&first.join("R.Example:5000/ca.crt"), &cert);
        write(&first.join("R.Example:5000/client.cert"), &cert);
        write(&first.join("R.Example:5000/client.key"), &key);
        write(
            &second.join("r.example:5000/ca.crt"),
            &format!("{cert}{cert}"),
        );
        write(&second.join("other.example/extra.crt"), &cert);
        write(&second.join("other.example/notes.txt"), "ignored");

        let found = read_all(&[first, second, root.path().join("missing")]).unwrap();
        let registry = &found["r.example:5000"];
        assert_eq!(registry.roots.len(), 1);
        assert!(registry.identity.is_some());
        let other = &found["other.example"];
        assert_eq!(other.roots.len(), 1);
        assert!(other.identity.is_none());
    }

    #[test]
    fn half_an_identity_is_an_error() {
        let made = rcgen::generate_simple_self_signed(vec!["r.example".to_owned()]).unwrap();
        let root = tempfile::tempdir().unwrap();
        write(&root.path().join("r.example/client.cert"), &made.cert.pem());
        let error = read_all(&[root.path().to_owned()]).unwrap_err();
        assert!(matches!(error, Error::CertsDir { .. }), "{error}");

        let root = tempfile::tempdir().unwrap();
        write(&root.path().join("r.example/ca.crt"), "not PEM at all");
        let error = read_all(&[root.path().to_owned()]).unwrap_err();
        assert!(matches!(error, Error::Tls(_)), "{error}");
    }
}
