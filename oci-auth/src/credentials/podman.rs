//! Where podman, buildah and skopeo keep registry credentials (containers-auth.json(5)).

use std::ffi::OsString;
use std::path::PathBuf;

/// The containers auth files to read, in order: `$REGISTRY_AUTH_FILE` alone when it is set;
/// otherwise `$XDG_RUNTIME_DIR/containers/auth.json` (or, with `XDG_RUNTIME_DIR` unset,
/// `/run/containers/$UID/auth.json`, where `podman login` as root writes), then
/// `$HOME/.config/containers/auth.json`. `$UID` is the process's user.
///
/// The files share Docker's format, so [`AuthFile`](super::AuthFile) reads them.
pub fn podman_auth_paths(env: impl Fn(&str) -> Option<OsString>) -> Vec<PathBuf> {
    podman_auth_paths_for(env, current_uid())
}

/// Like [`podman_auth_paths`], for the user `uid` (`None`: unknown, no `/run/containers`).
pub fn podman_auth_paths_for(
    env: impl Fn(&str) -> Option<OsString>,
    uid: Option<u32>,
) -> Vec<PathBuf> {
    let non_empty = |name: &str| env(name).filter(|value| !value.is_empty());
    if let Some(file) = non_empty("REGISTRY_AUTH_FILE") {
        return vec![PathBuf::from(file)];
    }
    let runtime = match non_empty("XDG_RUNTIME_DIR") {
        Some(dir) => Some(PathBuf::from(dir).join("containers/auth.json")),
        None => uid.map(|uid| PathBuf::from(format!("/run/containers/{uid}/auth.json"))),
    };
    let config =
        non_empty("HOME").map(|home| PathBuf::from(home).join(".config/containers/auth.json"));
    runtime.into_iter().chain(config).collect()
}

/// The process's user: the owner of `/proc/self` on Linux; unknown elsewhere.
fn current_uid() -> Option<u32> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self").ok().map(|meta| meta.uid())
    }
    #[cfg(not(target_os = "linux"))]
    None
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
    fn without_a_runtime_dir_the_run_containers_file_of_the_user_is_read() {
        let env = env_of(&[("HOME", "/root")]);
        assert_eq!(
            podman_auth_paths_for(env, Some(0)),
            [
                PathBuf::from("/run/containers/0/auth.json"),
                PathBuf::from("/root/.config/containers/auth.json"),
            ]
        );
        let env = env_of(&[("HOME", "/home/u")]);
        assert_eq!(podman_auth_paths_for(env, None).len(), 1);
        #[cfg(target_os = "linux")]
        assert!(current_uid().is_some());
    }

    #[test]
    fn runtime_dir_then_home_config() {
        let env = env_of(&[("XDG_RUNTIME_DIR", "/run/user/1000"), ("HOME", "/home/u")]);
        assert_eq!(
            podman_auth_paths_for(env, Some(1000)),
            [
                PathBuf::from("/run/user/1000/containers/auth.json"),
                PathBuf::from("/home/u/.config/containers/auth.json"),
            ]
        );
        assert!(podman_auth_paths_for(env_of(&[("REGISTRY_AUTH_FILE", "")]), None).is_empty());
    }
}
