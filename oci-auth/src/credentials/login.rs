//! Writing credentials files: what `login` and `logout` change in Docker's `config.json` or a
//! containers `auth.json`, or hand to the credential helper such a file names.
//!
//! Only the `auths` entries of the registry are touched; every other member of the file
//! (credential helpers, proxies, fields this crate does not know) is written back as it was.
//! The new file goes to a temporary file in the same directory and is renamed over the old
//! one, so a reader never sees half a file, and it is mode 0600: it holds passwords.

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use serde_json::{Map, Value};

use super::{AuthFile, CredentialHelper, canonical_registry, helper_server_url};
use crate::error::Error;
use crate::secret::Secret;

/// Where [`store_login`] put the credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoredIn {
    /// The file's `auths`.
    File,
    /// The credential helper the file names for the registry (the program's name).
    Helper(String),
}

/// Stores `username` and `password` for `registry` (`host[:port]`) as `docker login` does:
/// with the credential helper the file at `path` names for the registry (`credHelpers`,
/// else `credsStore`; searched in `helper_search_path`, else on `PATH`), otherwise in the
/// file's `auths`, creating the file (and its directory) when missing. An `auths` entry is
/// keyed the way `docker login` keys it (Docker Hub under its legacy URL, others by host)
/// and replaces every entry for the same registry under another alias; entries scoped to a
/// repository (`host/namespace`) stay. With a helper, no password stays in the file.
pub fn store_login(
    path: &Path,
    registry: &str,
    username: &str,
    password: &Secret,
    helper_search_path: Option<&OsStr>,
) -> Result<StoredIn, Error> {
    let mut file = read_object(path)?;
    // The shape is checked before a helper runs: a file that cannot be written back is
    // refused whole.
    auths_of(&mut file, path)?;
    if let Some(helper) = helper_for(path, registry, helper_search_path)? {
        helper.store(registry, username, password)?;
        if auths_of(&mut file, path)?
            .keys()
            .any(|key| names_registry(key, registry))
        {
            auths_of(&mut file, path)?.retain(|key, _| !names_registry(key, registry));
            write_atomically(path, &Value::Object(file))?;
        }
        return Ok(StoredIn::Helper(helper.program()));
    }
    let auths = auths_of(&mut file, path)?;
    auths.retain(|key, _| !names_registry(key, registry));
    let encoded = base64::engine::general_purpose::STANDARD
        .encode(format!("{username}:{}", password.expose()));
    let mut entry = Map::new();
    entry.insert("auth".to_owned(), Value::String(encoded));
    auths.insert(helper_server_url(registry), Value::Object(entry));
    write_atomically(path, &Value::Object(file))?;
    Ok(StoredIn::File)
}

/// Removes the credentials for `registry` (under any alias): from the credential helper the
/// file at `path` names for it, and from the file's `auths`. Returns whether either held
/// some; a missing file holds none and is not created.
pub fn remove_login(
    path: &Path,
    registry: &str,
    helper_search_path: Option<&OsStr>,
) -> Result<bool, Error> {
    if !path.exists() {
        return Ok(false);
    }
    let erased = match helper_for(path, registry, helper_search_path)? {
        Some(helper) => helper.erase(registry)?,
        None => false,
    };
    let mut file = read_object(path)?;
    let auths = auths_of(&mut file, path)?;
    let before = auths.len();
    auths.retain(|key, _| !names_registry(key, registry));
    if auths.len() == before {
        return Ok(erased);
    }
    write_atomically(path, &Value::Object(file))?;
    Ok(true)
}

/// The credential helper the file at `path` names for `registry`, if any.
fn helper_for(
    path: &Path,
    registry: &str,
    search_path: Option<&OsStr>,
) -> Result<Option<CredentialHelper>, Error> {
    let Some(file) = AuthFile::load(path)? else {
        return Ok(None);
    };
    Ok(file.helper_for(registry).map(|name| {
        let helper = CredentialHelper::new(name);
        match search_path {
            Some(search_path) => helper.with_search_path(search_path),
            None => helper,
        }
    }))
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
        store_login(
            &path,
            "registry-1.docker.io",
            "alice",
            &Secret::new("pw"),
            None,
        )
        .unwrap();
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
        store_login(&path, "127.0.0.1:5000", "bob", &Secret::new("s3cret"), None).unwrap();
        store_login(&path, "ghcr.io", "carol", &Secret::new("t"), None).unwrap();
        assert!(remove_login(&path, "http://127.0.0.1:5000/v2/", None).unwrap());
        assert!(!remove_login(&path, "127.0.0.1:5000", None).unwrap());
        let file = AuthFile::load(&path).unwrap().unwrap();
        assert_eq!(file.credentials_for("127.0.0.1:5000", None).unwrap(), None);
        assert_eq!(
            file.credentials_for("ghcr.io", None).unwrap(),
            Some(Credentials::basic("carol", "t"))
        );
        assert!(!remove_login(&dir.path().join("absent.json"), "ghcr.io", None).unwrap());
        assert!(!dir.path().join("absent.json").exists());
        let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file stays behind");
    }

    /// A folder holding the test helper (a link to the fixture script), and the search path
    /// that finds it (then the system's, for `sh`'s tools).
    fn helper_dir() -> (tempfile::TempDir, std::ffi::OsString) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("bin")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/docker-credential-testhelper"
            ),
            dir.path().join("bin/docker-credential-testhelper"),
        )
        .unwrap();
        let mut dirs = vec![dir.path().join("bin")];
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        let search_path = std::env::join_paths(dirs).unwrap();
        (dir, search_path)
    }

    #[cfg(unix)]
    #[test]
    fn a_registry_with_a_helper_has_its_credentials_stored_and_erased_there() {
        let (dir, search_path) = helper_dir();
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"credsStore":"testhelper","auths":{"helper.example":{"auth":"b2xkOm9sZA=="}}}"#,
        )
        .unwrap();
        let stored = store_login(
            &path,
            "helper.example",
            "dora",
            &Secret::new("pw"),
            Some(&search_path),
        )
        .unwrap();
        assert_eq!(
            stored,
            StoredIn::Helper("docker-credential-testhelper".into())
        );
        let request: Value = serde_json::from_str(
            std::fs::read_to_string(dir.path().join("bin/store.log"))
                .unwrap()
                .trim(),
        )
        .unwrap();
        assert_eq!(request["ServerURL"], "helper.example");
        assert_eq!(
            (&request["Username"], &request["Secret"]),
            (&"dora".into(), &"pw".into())
        );
        let value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(
            value["auths"],
            serde_json::json!({}),
            "no password left in the file"
        );
        assert_eq!(value["credsStore"], "testhelper");

        assert!(remove_login(&path, "helper.example", Some(&search_path)).unwrap());
        assert!(!remove_login(&path, "other.example", Some(&search_path)).unwrap());
        let erased = std::fs::read_to_string(dir.path().join("bin/erase.log")).unwrap();
        assert_eq!(erased, "helper.example\nother.example\n");
    }

    #[test]
    fn files_of_another_shape_are_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("auth.json");
        for text in ["[1]", r#"{"auths":[]}"#] {
            std::fs::write(&path, text).unwrap();
            let error = store_login(&path, "ghcr.io", "u", &Secret::new("p"), None).unwrap_err();
            assert!(matches!(error, Error::ConfigShape { .. }), "{error:?}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        }
        std::fs::write(&path, "{not json").unwrap();
        let error = remove_login(&path, "ghcr.io", None).unwrap_err();
        assert!(matches!(error, Error::ParseConfig { .. }), "{error:?}");
    }
}
