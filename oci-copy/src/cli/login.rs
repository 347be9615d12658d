//! `login` and `logout`: credentials checked with the registry, then written to (or removed
//! from) the containers `auth.json` that podman, skopeo and buildah read, as `podman login`
//! does.

use std::io::BufRead;
use std::num::NonZeroUsize;
use std::path::PathBuf;

use oci_auth::{
    CredentialStore, Credentials, Secret, StoredIn, podman_auth_paths, remove_login, store_login,
};

use oci_copy::Error;

use crate::cli::commands::Failure;
use crate::cli::connect::client;
use crate::cli::manifest_verbs::io_failure;
use crate::cli::verb_args::{LoginArgs, LogoutArgs};

/// The file `login` writes: `--authfile`, else the first file podman reads
/// (`REGISTRY_AUTH_FILE`, else `$XDG_RUNTIME_DIR/containers/auth.json`, ...).
fn auth_file(flag: Option<&PathBuf>) -> Result<PathBuf, Failure> {
    if let Some(path) = flag {
        return Ok(path.clone());
    }
    podman_auth_paths(|name| std::env::var_os(name))
        .into_iter()
        .next()
        .ok_or_else(|| {
            Failure::Usage(
                "no credentials file: set REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR or HOME, or \
                 give --authfile"
                    .into(),
            )
        })
}

/// `login HOST -u USER (-p PASSWORD | --password-stdin)`: a `GET /v2/` with the credentials
/// (a token is fetched where the registry asks for one); only when it is let in are they
/// stored.
pub(crate) async fn login(args: &LoginArgs) -> Result<(), Failure> {
    let password = match (&args.password, args.password_stdin) {
        (Some(password), _) => Secret::new(password.clone()),
        (None, true) => read_password_line()?,
        (None, false) => {
            return Err(Failure::Usage(
                "give the password with --password-stdin (or --password)".into(),
            ));
        }
    };
    let path = auth_file(args.authfile.as_ref())?;
    let credentials = CredentialStore::new().with_credentials(
        &args.registry_host,
        Credentials::basic(&args.username, password.clone()),
    );
    let checking = client(&args.connection, NonZeroUsize::MIN, credentials)?;
    checking
        .ping(&args.registry_host)
        .await
        .map_err(Error::from)?;
    // A helper the file names for the registry is searched on PATH, as docker does.
    let stored = store_login(&path, &args.registry_host, &args.username, &password, None)
        .map_err(Failure::Credentials)?;
    let place = match stored {
        StoredIn::Helper(program) => program,
        _ => path.display().to_string(),
    };
    println!("Login Succeeded: {} in {place}", args.registry_host);
    Ok(())
}

/// The first line of standard input, without its line end.
fn read_password_line() -> Result<Secret, Failure> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|source| io_failure("standard input", source))?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        return Err(Failure::Usage(
            "the password read from standard input is empty".into(),
        ));
    }
    Ok(Secret::new(password))
}

/// `logout HOST`: the registry's entries removed from the credentials file; failing when
/// there was none, so a typo in the host does not pass for a logout.
pub(crate) fn logout(args: &LogoutArgs) -> Result<(), Failure> {
    let path = auth_file(args.authfile.as_ref())?;
    if remove_login(&path, &args.registry_host, None).map_err(Failure::Credentials)? {
        println!("Removed login credentials for {}", args.registry_host);
        Ok(())
    } else {
        Err(Failure::Copy(Error::Io {
            path: path.clone(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("not logged in to {}", args.registry_host),
            ),
        }))
    }
}
