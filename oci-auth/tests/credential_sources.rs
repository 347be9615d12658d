//! Credential lookup from real files and a real credential helper process, with the
//! environment given explicitly (the real home directory is never read).

mod common;

use std::ffi::OsString;
use std::fs;
use std::path::PathBuf;

use common::{Behaviour, TokenServer};
use oci_auth::{
    Authenticator, BearerChallenge, Challenge, CredentialHelper, CredentialStore, Credentials,
    Error, Scope, Scopes, Secret,
};

const HELPER_FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/docker-credential-testhelper"
);

/// A fake home: `home/`, `docker/` (for DOCKER_CONFIG), `run/` (XDG_RUNTIME_DIR) and `bin/`
/// holding the test helper.
struct Sandbox {
    root: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        let root = tempfile::tempdir().unwrap();
        for dir in ["home", "docker", "run", "bin"] {
            fs::create_dir_all(root.path().join(dir)).unwrap();
        }
        // A symlink, not a copy: writing an executable while other test threads fork lets a
        // child inherit the open write handle, and exec then fails with "Text file busy".
        // The script logs beside `$0`, which stays the link's path.
        std::os::unix::fs::symlink(
            HELPER_FIXTURE,
            root.path().join("bin/docker-credential-testhelper"),
        )
        .unwrap();
        Sandbox { root }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.path().join(relative)
    }

    fn write(&self, relative: &str, contents: &str) {
        let path = self.path(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
    }

    /// PATH with the helper's folder first, then the system's (the script needs `sh`).
    fn search_path(&self) -> OsString {
        let mut dirs = vec![self.path("bin")];
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        std::env::join_paths(dirs).unwrap()
    }

    /// A store from an environment of HOME, PATH and the given extra variables.
    fn store(&self, extra: &[(&str, PathBuf)]) -> CredentialStore {
        let home = self.path("home");
        let path = self.search_path();
        let extra: Vec<(String, OsString)> = extra
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone().into_os_string()))
            .collect();
        CredentialStore::from_env_with(move |name| match name {
            "HOME" => Some(home.clone().into_os_string()),
            "PATH" => Some(path.clone()),
            _ => extra
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone()),
        })
    }

    fn helper_requests(&self) -> Vec<String> {
        fs::read_to_string(self.path("bin/requests.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

fn basic(username: &str, password: &str) -> Credentials {
    Credentials::basic(username, password)
}

fn docker_config(sandbox: &Sandbox, json: &str) -> CredentialStore {
    sandbox.write("docker/config.json", json);
    sandbox.store(&[("DOCKER_CONFIG", sandbox.path("docker"))])
}

#[test]
fn helper_answers_with_username_and_password() {
    let sandbox = Sandbox::new();
    let store = docker_config(
        &sandbox,
        r#"{"credHelpers":{"helper.example":"testhelper"}}"#,
    );
    assert_eq!(
        store.get("helper.example").unwrap(),
        basic("helper-user", "helper-pass")
    );
    assert_eq!(sandbox.helper_requests(), ["helper.example"]);
    // No helper is configured for other registries.
    assert_eq!(store.get("other.example").unwrap(), Credentials::Anonymous);
    assert_eq!(sandbox.helper_requests().len(), 1);
}

#[test]
fn helper_token_username_means_identity_token() {
    let sandbox = Sandbox::new();
    let store = docker_config(&sandbox, r#"{"credsStore":"testhelper"}"#);
    assert_eq!(
        store.get("token.example").unwrap(),
        Credentials::IdentityToken(Secret::new("identity-123"))
    );
}

#[test]
fn creds_store_is_asked_about_docker_hub_by_its_legacy_url() {
    let sandbox = Sandbox::new();
    let store = docker_config(&sandbox, r#"{"credsStore":"testhelper"}"#);
    for alias in ["docker.io", "registry-1.docker.io", "index.docker.io"] {
        assert_eq!(
            store.get(alias).unwrap(),
            basic("hub-user", "hub-pass"),
            "{alias}"
        );
    }
    assert_eq!(
        sandbox.helper_requests(),
        ["https://index.docker.io/v1/"; 3]
    );
}

#[test]
fn helper_without_credentials_falls_back_to_auths() {
    let sandbox = Sandbox::new();
    let store = docker_config(
        &sandbox,
        r#"{"credsStore":"testhelper","auths":{"fallback.example":{"auth":"dTpw"}}}"#,
    );
    assert_eq!(store.get("fallback.example").unwrap(), basic("u", "p"));
    assert_eq!(
        store.get("nothing.example").unwrap(),
        Credentials::Anonymous
    );
    assert_eq!(
        sandbox.helper_requests(),
        ["fallback.example", "nothing.example"]
    );
}

#[test]
fn cred_helpers_win_over_creds_store() {
    let sandbox = Sandbox::new();
    let store = docker_config(
        &sandbox,
        r#"{"credsStore":"absent","credHelpers":{"https://helper.example/v2/":"testhelper"}}"#,
    );
    assert_eq!(
        store.get("helper.example").unwrap(),
        basic("helper-user", "helper-pass")
    );
    // Every other registry goes to the missing `absent` store.
    assert!(
        matches!(store.get("x.example"), Err(Error::HelperSpawn { program, .. }) if program == "docker-credential-absent")
    );
}

#[test]
fn helper_failures_are_typed() {
    let sandbox = Sandbox::new();
    let helper = CredentialHelper::new("testhelper").with_search_path(sandbox.search_path());
    match helper.get("failing.example") {
        Err(Error::HelperFailed {
            program,
            exit_code,
            message,
        }) => {
            assert_eq!(program, "docker-credential-testhelper");
            assert_eq!(exit_code, Some(2));
            assert_eq!(message, "the keychain is locked");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(
        helper.get("garbage.example"),
        Err(Error::HelperOutput { .. })
    ));
    assert_eq!(helper.get("unknown.example").unwrap(), None);
}

#[test]
fn config_json_entry_variants() {
    let sandbox = Sandbox::new();
    // auth = base64("user:pass"); the default location is ~/.docker/config.json.
    sandbox.write(
        "home/.docker/config.json",
        r#"{
            "auths": {
                "https://index.docker.io/v1/": {"auth": "aHViOmh1YnBhc3M="},
                "auth.example": {"auth": "dXNlcjpwYXNz"},
                "fields.example": {"username": "fu", "password": "fp"},
                "identity.example": {"auth": "dXNlcjo=", "identitytoken": "refresh-abc"},
                "http://ported.example:5000/v2/": {"auth": "dXNlcjpwYXNz"},
                "empty.example": {}
            }
        }"#,
    );
    let store = sandbox.store(&[]);
    assert_eq!(
        store.get("registry-1.docker.io").unwrap(),
        basic("hub", "hubpass")
    );
    assert_eq!(store.get("auth.example").unwrap(), basic("user", "pass"));
    assert_eq!(store.get("fields.example").unwrap(), basic("fu", "fp"));
    assert_eq!(
        store.get("identity.example").unwrap(),
        Credentials::IdentityToken(Secret::new("refresh-abc"))
    );
    assert_eq!(
        store.get("ported.example:5000").unwrap(),
        basic("user", "pass")
    );
    assert_eq!(store.get("empty.example").unwrap(), Credentials::Anonymous);
}

#[test]
fn every_docker_hub_key_spelling_is_found() {
    for key in [
        "https://index.docker.io/v1/",
        "index.docker.io",
        "docker.io",
        "registry-1.docker.io",
    ] {
        let sandbox = Sandbox::new();
        let store = docker_config(
            &sandbox,
            &format!(r#"{{"auths":{{"{key}":{{"auth":"dTpw"}}}}}}"#),
        );
        assert_eq!(store.get("docker.io").unwrap(), basic("u", "p"), "{key}");
    }
}

#[test]
fn corrupt_config_is_an_error_naming_the_file() {
    let sandbox = Sandbox::new();
    let store = docker_config(&sandbox, "{ not json");
    match store.get("r.example") {
        Err(Error::ParseConfig { path, .. }) => {
            assert_eq!(path, sandbox.path("docker/config.json"))
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn podman_auth_file_locations() {
    let auth_json =
        |user: &str| format!(r#"{{"auths":{{"quay.example/ns":{{"auth":"{user}"}}}}}}"#);
    let sandbox = Sandbox::new();
    // u:p in the runtime dir, a:b in the home config: the runtime dir is read first.
    sandbox.write("run/containers/auth.json", &auth_json("dTpw"));
    sandbox.write("home/.config/containers/auth.json", &auth_json("YTpi"));
    sandbox.write("elsewhere/auth.json", &auth_json("eDp5"));

    let runtime = sandbox.store(&[("XDG_RUNTIME_DIR", sandbox.path("run"))]);
    assert_eq!(runtime.get("quay.example").unwrap(), basic("u", "p"));

    let home_only = sandbox.store(&[]);
    assert_eq!(home_only.get("quay.example").unwrap(), basic("a", "b"));

    let explicit = sandbox.store(&[
        ("XDG_RUNTIME_DIR", sandbox.path("run")),
        ("REGISTRY_AUTH_FILE", sandbox.path("elsewhere/auth.json")),
    ]);
    assert_eq!(explicit.get("quay.example").unwrap(), basic("x", "y"));
}

#[test]
fn podman_files_come_before_docker_config_and_explicit_before_both() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "docker/config.json",
        r#"{"auths":{"r.example":{"auth":"dTpw"}}}"#,
    );
    sandbox.write(
        "run/containers/auth.json",
        r#"{"auths":{"r.example":{"auth":"YTpi"},"p.example":{"auth":"YTpi"}}}"#,
    );
    let store = sandbox.store(&[
        ("DOCKER_CONFIG", sandbox.path("docker")),
        ("XDG_RUNTIME_DIR", sandbox.path("run")),
    ]);
    // As podman and skopeo read them: a later `podman login` (or `oci-copy login`) is not
    // shadowed by an old `docker login`.
    assert_eq!(store.get("r.example").unwrap(), basic("a", "b"));
    assert_eq!(store.get("p.example").unwrap(), basic("a", "b"));
    let store = store.with_credentials("r.example", basic("e", "f"));
    assert_eq!(store.get("r.example").unwrap(), basic("e", "f"));
}

#[test]
fn explicit_paths_need_no_environment() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "custom/docker.json",
        r#"{"credHelpers":{"helper.example":"testhelper"}}"#,
    );
    sandbox.write(
        "custom/podman.json",
        r#"{"auths":{"p.example":{"username":"pu","password":"pp"}}}"#,
    );
    let store = CredentialStore::new()
        .with_docker_config(sandbox.path("custom/docker.json"))
        .with_podman_auth_file(sandbox.path("custom/podman.json"))
        .with_helper_search_path(sandbox.search_path());
    assert_eq!(
        store.get("helper.example").unwrap(),
        basic("helper-user", "helper-pass")
    );
    assert_eq!(store.get("p.example").unwrap(), basic("pu", "pp"));
}

#[tokio::test]
async fn helper_credentials_feed_the_token_flow() {
    let sandbox = Sandbox::new();
    let store = docker_config(
        &sandbox,
        r#"{"credHelpers":{"token.example":"testhelper"}}"#,
    );
    let server = TokenServer::start(Behaviour::default()).await; // accepts identity-123
    let auth = Authenticator::new(reqwest::Client::new(), store);
    let challenge = Challenge::Bearer(BearerChallenge::new(server.realm(), Some(common::SERVICE)));
    let scopes = Scopes::from(Scope::pull("a").unwrap());
    let header = auth
        .authorization_for("token.example", &challenge, &scopes)
        .await
        .unwrap();
    assert!(header.is_some());
    // A second token request reuses the credentials without running the helper again.
    auth.invalidate("token.example", &scopes);
    auth.authorization_for("token.example", &challenge, &scopes)
        .await
        .unwrap();
    assert_eq!(sandbox.helper_requests(), ["token.example"]);
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert!(
        seen.iter()
            .all(|s| s.param("refresh_token") == Some("identity-123"))
    );
}
