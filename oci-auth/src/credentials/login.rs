//! Writing credentials files: what `login` and `logout` change in Docker's `config.json` or a
//! containers `auth.json`.
//!
//! Only the `auths` entries of the registry are touched; every other member of the file
//! (credential helpers, proxies, fields this crate does not know) is written back as it was.
//! The new file goes to a temporary file in the same directory and is renamed over the old
//! one, so a reader never sees half a file, and it is mode 0600: it holds passwords.

use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{Map, Value};

use super::{canonical_registry, helper_server_url};
use crate::error::Error;
use crate::secret::Secret;

/// Stores `username` and `password` for `registry` (`host[:port]`) in the credentials file
/// at `path`, creating it (and its directory) when missing. The entry is keyed the way
/// `docker login` keys it (Docker Hub under its legacy URL, others by host) and replaces
/// every entry for the same registry under another alias; entries scoped to a repository
/// (`host/namespace`) stay.
pub fn store_login(
    path: &Path,
    registry: &str,
    username: &str,
    password: &Secret,
) -> Result<(), Error> {
    let mut file = read_object(path)?;
    let auths = auths_of(&mut file, path)?;
    auths.retain(|key, _| !names_registry(key, registry));
    let encoded = base64::engine::general_purpose::STANDARD
        .encode(format!("{username}:{}", password.expose()));
    let mut entry = Map::new();
    entry.insert("auth".to_owned(), Value::String(encoded));
    auths.insert(helper_server_url(registry), Value::Object(entry));
    write_atomically(path, &Value::Object(file))
}

/// Removes the entries for `registry` (under any alias) from the credentials file at
/// `path`. Returns whether there was one; a missing file holds none and is not created.
pub fn remove_login(path: &Path, registry: &str) -> Result<bool, Error> {
    if !path.exists() {
        return Ok(false);
    }
    let mut file = read_object(path)?;
    let auths = auths_of(&mut file, path)?;
    let before = auths.len();
    auths.retain(|key, _| !names_registry(key, registry));
    if auths.len() == before {
        return Ok(false);
    }
    write_atomically(path, &Value::Object(file))?;
    Ok(true)
}

/// Whether an `auths` key stands for the whole of `registry`: its host under any alias,
/// with no repository path (Docker Hub's `/v1/` and a `/v2/` suffix are no paths).
fn names_registry(key: &str, registry: &str) -> bool {
    let lowered = key.to_ascii_lowercase();
    let without_scheme = lowered
        .strip_prefix("https://")
        .or_else(|| lowered.strip_prefix("http://"))
        .unwrap_or(&lowered);
    let path = without_scheme
        .split_once('/')
        .map_or("", |(_, path)| path.trim_end_matches('/'));
    matches!(path, "" | "v1" | "v2") && canonical_registry(key) == canonical_registry(registry)
}

/// The file's JSON object; an empty or missing file is an empty object.
fn read_object(path: &Path) -> Result<Map<String, Value>, Error> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(source) => {
            return Err(Error::ReadConfig {
                path: path.to_owned(),
                source,
            });
        }
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(Error::ConfigShape {
            path: path.to_owned(),
        }),
        Err(source) => Err(Error::ParseConfig {
            path: path.to_owned(),
            source,
        }),
    }
}

/// The `auths` object of `file`, created when missing.
fn auths_of<'a>(
    file: &'a mut Map<String, Value>,
    path: &Path,
) -> Result<&'a mut Map<String, Value>, Error> {
    match file
        .entry("auths")
        .or_insert_with(|| Value::Object(Map::new()))
    {
        Value::Object(auths) => Ok(auths),
        _ => Err(Error::ConfigShape {
            path: path.to_owned(),
        }),
    }
}

/// Writes `value` to a temporary file (mode 0600) beside `path`, then renames it over `path`.
fn write_atomically(path: &Path, value: &Value) -> Result<(), Error> {
    let failed = |source| Error::WriteConfig {
        path: path.to_owned(),
        source,
    };
    let mut text = serde_json::to_vec_pretty(value).map_err(|source| Error::ParseConfig {
        path: path.to_owned(),
        source,
    })?;
    text.push(b'\n');
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    create_private_dir(&dir).map_err(failed)?;
    let name = path
        .file_name()
        .map_or_else(|| "auth.json".into(), |name| name.to_string_lossy());
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = write_private(&temporary, &text).and_then(|()| std::fs::rename(&temporary, path));
    if let Err(source) = written {
        // The temporary file is worthless now; failing to remove it changes nothing.
        let _ = std::fs::remove_file(&temporary);
        return Err(failed(source));
    }
    Ok(())
}

/// Creates `dir` and its parents, the new ones readable by the owner only.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Writes `bytes` to a new file at `path` that only its owner may read, and syncs it.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    // A stale temporary file of an earlier run keeps its mode through `open`: set it again.
    #[cfg(unix)]
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credentials::{AuthFile, Credentials};

    #[test]
    fn login_keeps_other_members_and_replaces_aliases() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/config.json");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"b2xkOm9sZA=="},
                "docker.io/team":{"auth":"dGVhbTp0"},"ghcr.io":{"auth":"Zzpn"}},
              "credHelpers":{"quay.io":"pass"},"proxies":{"default":{}}}"#,
        )
        .unwrap();
        store_login(&path, "registry-1.docker.io", "alice", &Secret::new("pw")).unwrap();
        let value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let auths = value["auths"].as_object().unwrap();
        let mut keys: Vec<&str> = auths.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["docker.io/team", "ghcr.io", "https://index.docker.io/v1/"]
        );
        assert_eq!(value["credHelpers"]["quay.io"], "pass");
        assert!(value["proxies"].is_object());
        let file = AuthFile::load(&path).unwrap().unwrap();
        assert_eq!(
            file.credentials_for("docker.io", None).unwrap(),
            Some(Credentials::basic("alice", "pw"))
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn login_creates_the_file_and_logout_removes_only_that_registry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("containers/auth.json");
        store_login(&path, "127.0.0.1:5000", "bob", &Secret::new("s3cret")).unwrap();
        store_login(&path, "ghcr.io", "carol", &Secret::new("t")).unwrap();
        assert!(remove_login(&path, "http://127.0.0.1:5000/v2/").unwrap());
        assert!(!remove_login(&path, "127.0.0.1:5000").unwrap());
        let file = AuthFile::load(&path).unwrap().unwrap();
        assert_eq!(file.credentials_for("127.0.0.1:5000", None).unwrap(), None);
        assert_eq!(
            file.credentials_for("ghcr.io", None).unwrap(),
            Some(Credentials::basic("carol", "t"))
        );
        assert!(!remove_login(&dir.path().join("absent.json"), "ghcr.io").unwrap());
        assert!(!dir.path().join("absent.json").exists());
        let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file stays behind");
    }

    #[test]
    fn files_of_another_shape_are_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.json");
        for text in ["[1]", r#"{"auths":[]}"#] {
            std::fs::write(&path, text).unwrap();
            let error = store_login(&path, "ghcr.io", "u", &Secret::new("p")).unwrap_err();
            assert!(matches!(error, Error::ConfigShape { .. }), "{error:?}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        }
        std::fs::write(&path, "{not json").unwrap();
        let error = remove_login(&path, "ghcr.io").unwrap_err();
        assert!(matches!(error, Error::ParseConfig { .. }), "{error:?}");
    }
}
