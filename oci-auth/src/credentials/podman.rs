//! Where podman, buildah and skopeo keep registry credentials (containers-auth.json(5)).

use std::ffi::OsString;
use std::path::PathBuf;

/// The containers auth files to read, in order: `$REGISTRY_AUTH_FILE` alone when it is set;
/// otherwise `$XDG_RUNTIME_DIR/containers/auth.json`, then `$HOME/.config/containers/auth.json`.
///
/// The files share Docker's format, so [`AuthFile`](super::AuthFile) reads them.
pub fn podman_auth_paths(env: impl Fn(&str) -> Option<OsString>) -> Vec<PathBuf> {
    let non_empty = |name: &str| env(name).filter(|value| !value.is_empty());
    if let Some(file) = non_empty("REGISTRY_AUTH_FILE") {
        return vec![PathBuf::from(file)];
    }
    let runtime =
        non_empty("XDG_RUNTIME_DIR").map(|dir| PathBuf::from(dir).join("containers/auth.json"));
    let config =
        non_empty("HOME").map(|home| PathBuf::from(home).join(".config/containers/auth.json"));
    runtime.into_iter().chain(config).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn registry_auth_file_stands_alone() {
        let env = env_of(&[("REGISTRY_AUTH_FILE", "/a/auth.json"), ("HOME", "/home/u")]);
        assert_eq!(podman_auth_paths(env), [PathBuf::from("/a/auth.json")]);
    }

    #[test]
    fn runtime_dir_then_home_config() {
        let env = env_of(&[("XDG_RUNTIME_DIR", "/run/user/1000"), ("HOME", "/home/u")]);
        assert_eq!(
            podman_auth_paths(env),
            [
                PathBuf::from("/run/user/1000/containers/auth.json"),
                PathBuf::from("/home/u/.config/containers/auth.json"),
            ]
        );
        assert!(podman_auth_paths(env_of(&[("REGISTRY_AUTH_FILE", "")])).is_empty());
    }
}
