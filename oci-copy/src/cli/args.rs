//! The command line.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use oci_copy::{DEFAULT_CONCURRENCY, DEFAULT_RETRIES};

pub(crate) use crate::cli::verb_args::VerbCommand;

/// Copy and mirror OCI images between registries, image layouts and archives.
///
/// References: `registry/repo[:tag][@digest]` or `docker://...`, `oci:DIR[:tag]`,
/// `oci-archive:FILE[:tag]`, `docker-archive:FILE[:name:tag]`.
#[derive(Debug, Parser)]
#[command(name = "oci-copy", version)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    /// More log output (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub(crate) verbose: u8,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Copy an image (or tags of a repository) from SRC to DST.
    Copy {
        /// Where to copy from.
        source: String,
        /// Where to copy to.
        destination: String,
        #[command(flatten)]
        select: SelectArgs,
        #[command(flatten)]
        run: RunArgs,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Print what `copy SRC DST` would do, without doing it.
    Plan {
        /// Where to copy from.
        source: String,
        /// Where to copy to.
        destination: String,
        #[command(flatten)]
        select: SelectArgs,
        /// Print the plan as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Run every copy of a TOML sync file.
    Sync {
        /// The sync file.
        file: PathBuf,
        #[command(flatten)]
        run: RunArgs,
        /// Check every manifest and blob, even under manifests the target has.
        #[arg(long)]
        force_recursive: bool,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Write an image to a tar archive (OCI archive, or `docker load` format).
    Export {
        /// The image.
        reference: String,
        /// The archive to write.
        file: PathBuf,
        /// Archive format.
        #[arg(long, value_enum, default_value_t = ArchiveFormat::Oci)]
        format: ArchiveFormat,
        #[command(flatten)]
        select: SelectArgs,
        #[command(flatten)]
        run: RunArgs,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Copy the image of a tar archive (OCI or Docker, detected) to REF.
    Import {
        /// The archive: FILE, or FILE:name, FILE@N (from 0) or FILE@DIGEST for one of its
        /// images.
        file: String,
        /// Where to copy the image to.
        reference: String,
        #[command(flatten)]
        run: RunArgs,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Show an image's manifest: digest, media type, platforms or layers.
    Inspect {
        /// The image.
        reference: String,
        /// Print the manifest bytes as they are.
        #[arg(long)]
        raw: bool,
        /// List the tags of the repository instead.
        #[arg(long)]
        tags: bool,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// The registry verbs (tags, manifests, blobs, artifacts, login...).
    #[command(flatten)]
    Verb(VerbCommand),
}

/// Archive formats of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ArchiveFormat {
    /// An OCI image layout in a tar (`oci-archive:`).
    Oci,
    /// The `docker save` / `docker load` format (`docker-archive:`), single platform.
    Docker,
}

/// What to copy.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct SelectArgs {
    /// Copy every tag of the source repository.
    #[arg(long)]
    pub(crate) all_tags: bool,
    /// Copy the source tags matching this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub(crate) tags_regex: Option<String>,
    /// Copy the source tags in this semver range (e.g. ">=1.2, <2").
    #[arg(long, value_name = "RANGE")]
    pub(crate) tags_semver: Option<String>,
    /// Platforms to copy from an index, e.g. linux/amd64,linux/arm64.
    #[arg(long, value_delimiter = ',', value_name = "OS/ARCH[/VARIANT]")]
    pub(crate) platform: Vec<String>,
    /// With --platform: keep the original index (and digest), copying only some children.
    #[arg(long)]
    pub(crate) sparse_index: bool,
    /// Copy referrers (signatures, SBOMs, attestations) too.
    #[arg(long)]
    pub(crate) referrers: bool,
    /// Only referrers of these artifact types.
    #[arg(long = "artifact-type", value_name = "MEDIA_TYPE")]
    pub(crate) artifact_types: Vec<String>,
    /// Copy `sha256-<hex>` digest tags (tag-schema referrers, cosign signatures) too.
    #[arg(long)]
    pub(crate) digest_tags: bool,
    /// Copy layers with `urls` or non-distributable media types too.
    #[arg(long)]
    pub(crate) include_nondistributable: bool,
    /// Check every manifest and blob, even under manifests the destination has.
    #[arg(long)]
    pub(crate) force_recursive: bool,
}

/// How to run.
#[derive(Debug, Clone, Args)]
pub(crate) struct RunArgs {
    /// Print the plan and stop.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Go on after a failed step with everything that does not depend on it.
    #[arg(long)]
    pub(crate) keep_going: bool,
    /// Transfers at once per registry.
    #[arg(long, short = 'j', default_value_t = DEFAULT_CONCURRENCY)]
    pub(crate) jobs: NonZeroUsize,
    /// Extra tries of a failed step (and resumptions of a broken stream).
    #[arg(long, default_value_t = DEFAULT_RETRIES)]
    pub(crate) retries: u32,
    /// Print the plan (with --dry-run) or the report as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

/// How to reach registries, and with which credentials.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct RegistryArgs {
    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
    /// Credentials for the source registry, USER:PASSWORD.
    #[arg(
        long,
        value_name = "USER:PASSWORD",
        env = "OCI_COPY_SRC_CREDS",
        hide_env_values = true
    )]
    pub(crate) src_creds: Option<String>,
    /// Credentials for the destination registry, USER:PASSWORD.
    #[arg(
        long,
        value_name = "USER:PASSWORD",
        env = "OCI_COPY_DEST_CREDS",
        hide_env_values = true
    )]
    pub(crate) dest_creds: Option<String>,
}

/// How to reach registries: plain HTTP, TLS checks, certificates, registries.conf.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ConnectionArgs {
    /// Speak plain HTTP to this registry (host[:port]); loopback hosts fall back to it when
    /// they do not speak TLS.
    #[arg(long, value_name = "HOST")]
    pub(crate) plain_http: Vec<String>,
    /// Do not check this registry's TLS certificate.
    #[arg(long, value_name = "HOST")]
    pub(crate) insecure: Vec<String>,
    /// Read registries' CAs and client certificates from DIR/HOST[:PORT]/ (ca.crt,
    /// client.cert, client.key) instead of ~/.config/containers/certs.d,
    /// /etc/containers/certs.d and /etc/docker/certs.d.
    #[arg(long, value_name = "DIR")]
    pub(crate) certs_dir: Vec<std::path::PathBuf>,
    /// Read mirrors, locations, insecure and blocked registries from FILE instead of the
    /// system's registries.conf.
    #[arg(long, value_name = "FILE")]
    pub(crate) registries_conf: Option<std::path::PathBuf>,
}
