//! The registry client the commands share: credentials from the flags and the usual files,
//! plain HTTP and insecure hosts, certs.d directories and registries.conf.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use oci_auth::{CredentialStore, Credentials};
use oci_copy::{Location, Opener};
use oci_distribution_client::{Client, ClientConfig, ContainersConventions};

use crate::cli::args::{ConnectionArgs, RegistryArgs};
use crate::cli::commands::Failure;

/// A client for the registries of `sources` and `targets`, with `--src-creds` for every
/// source registry and `--dest-creds` for every target registry.
pub(crate) fn opener(
    args: &RegistryArgs,
    jobs: NonZeroUsize,
    sources: &[Location],
    targets: &[Location],
) -> Result<Opener, Failure> {
    let mut store = CredentialStore::from_env();
    for (creds, locations) in [(&args.src_creds, sources), (&args.dest_creds, targets)] {
        let Some(creds) = creds else {
            continue;
        };
        let (user, password) = creds
            .split_once(':')
            .ok_or_else(|| Failure::Usage("credentials must be USER:PASSWORD".into()))?;
        for location in locations {
            if let Location::Registry { reference, .. } = location {
                store = store.with_credentials(
                    reference.registry(),
                    Credentials::basic(user, password.to_owned()),
                );
            }
        }
    }
    Ok(Opener::new(client(&args.connection, jobs, store)?))
}

/// A client with `credentials` and the connection settings of `args`, for `jobs` transfers
/// at once.
pub(crate) fn client(
    args: &ConnectionArgs,
    jobs: NonZeroUsize,
    credentials: CredentialStore,
) -> Result<Client, Failure> {
    // A copy between two repositories of one registry holds a download and an upload
    // per transfer, so the client's per-host limit must exceed twice the transfers.
    let mut builder = ClientConfig::builder()
        .credentials(credentials)
        .max_requests_per_host(jobs.saturating_add(jobs.get()).saturating_add(4))
        .user_agent(concat!("oci-copy/", env!("CARGO_PKG_VERSION")));
    for host in &args.plain_http {
        builder = builder.plain_http(host);
    }
    for host in &args.insecure {
        builder = builder.insecure(host);
    }
    let builder = builder
        .containers_conventions(&containers_conventions(args))
        .map_err(|error| Failure::Copy(error.into()))?;
    Client::new(builder.build()).map_err(|error| Failure::Copy(error.into()))
}

/// The system's certs.d directories and registries.conf, each replaced by the flags that
/// name others.
fn containers_conventions(args: &ConnectionArgs) -> ContainersConventions {
    let system = ContainersConventions::system();
    let certs_dirs = match args.certs_dir.is_empty() {
        true => system.certs_dirs().to_vec(),
        false => args.certs_dir.clone(),
    };
    let registries_confs: Vec<PathBuf> = match &args.registries_conf {
        Some(file) => vec![file.clone()],
        None => system.registries_confs().map(Path::to_owned).collect(),
    };
    let conventions = certs_dirs.into_iter().fold(
        ContainersConventions::new(),
        ContainersConventions::with_certs_dir,
    );
    registries_confs
        .into_iter()
        .fold(conventions, ContainersConventions::with_registries_conf)
}
