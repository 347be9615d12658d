//! The arguments of the registry verbs: `tags`, `digest`, `manifest`, `blob`, `tag`,
//! `delete`, `catalog`, `referrers`, `artifact`, `login`, `logout` and `search`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::cli::args::{ConnectionArgs, RegistryArgs};

/// The registry verbs regctl, crane and oras users reach for.
#[derive(Debug, Subcommand)]
pub(crate) enum VerbCommand {
    /// List the tags of a repository (or layout, or archive).
    Tags {
        /// The repository.
        reference: String,
        /// Only tags matching this regular expression.
        #[arg(long, value_name = "REGEX")]
        include: Option<String>,
        /// No tags matching this regular expression.
        #[arg(long, value_name = "REGEX")]
        exclude: Option<String>,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Print the digest of the manifest an image reference names.
    Digest {
        /// The image.
        reference: String,
        /// Print digest, media type and size as a JSON object.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Read, write or delete a manifest as bytes: `manifest get|put|delete`.
    Manifest {
        #[command(subcommand)]
        action: ManifestAction,
    },
    /// Read, write or delete a blob, streamed: `blob get|put|delete`.
    Blob {
        #[command(subcommand)]
        action: BlobAction,
    },
    /// Push files as an artifact, or pull an artifact's files (as oras does).
    Artifact {
        #[command(subcommand)]
        action: ArtifactAction,
    },
    /// Check credentials with a registry, then store them where podman and skopeo read them.
    Login(LoginArgs),
    /// Remove a registry's credentials from the credentials file.
    Logout(LogoutArgs),
    /// Find repositories whose name contains TERM (the registry's `/v1/search`, else its
    /// catalog filtered).
    Search {
        /// The registry, `host[:port]`.
        registry_host: String,
        /// The text to look for.
        term: String,
        /// At most this many results.
        #[arg(long, default_value_t = 25)]
        limit: usize,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Point more tags of REF's repository at the manifest REF names (no blob is copied).
    Tag {
        /// The image.
        reference: String,
        /// The new tags.
        #[arg(required = true)]
        tags: Vec<String>,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Delete the manifest REF names (by digest; a tag is resolved first).
    Delete {
        /// The image.
        reference: String,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// List the repositories of a registry (`GET /v2/_catalog`, every page).
    Catalog {
        /// The registry, `host[:port]`.
        registry_host: String,
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// List the referrers of the manifest REF names (referrers API or its fallback tag).
    Referrers {
        /// The subject.
        reference: String,
        /// Only referrers of this artifact type.
        #[arg(long, value_name = "TYPE")]
        artifact_type: Option<String>,
        /// Print the descriptors as a JSON array.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        registry: RegistryArgs,
    },
}

/// What `manifest` does.
#[derive(Debug, Subcommand)]
pub(crate) enum ManifestAction {
    /// Print the manifest's bytes as the registry holds them.
    Get {
        /// The image.
        reference: String,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Push manifest bytes as they are under REF's tag (or digest); prints the digest.
    Put {
        /// Where to put it: `registry/repo:tag` or `registry/repo@digest`.
        reference: String,
        /// The manifest file; `-` (the default) reads standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
        /// The media type to send; by default the manifest's own `mediaType` field.
        #[arg(long, value_name = "TYPE")]
        media_type: Option<String>,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Delete the manifest REF names (by digest; a tag is resolved first), as `delete` does.
    Delete {
        /// The image.
        reference: String,
        #[command(flatten)]
        registry: RegistryArgs,
    },
}

/// What `blob` does.
#[derive(Debug, Subcommand)]
pub(crate) enum BlobAction {
    /// Stream a blob to standard output or a file, verifying its digest.
    Get {
        /// The blob: `registry/repo@digest`.
        reference: String,
        /// Write to this file (renamed into place only once verified) instead of standard
        /// output.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Stream a file (or standard input) into a repository as a blob; prints its digest.
    Put {
        /// The repository: `registry/repo`.
        repository: String,
        /// The file; `-` (the default) reads standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
        /// Print digest and size as a JSON object.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Delete a blob from a repository.
    Delete {
        /// The blob: `registry/repo@digest`.
        reference: String,
        #[command(flatten)]
        registry: RegistryArgs,
    },
}

/// What `artifact` does.
#[derive(Debug, Subcommand)]
pub(crate) enum ArtifactAction {
    /// Push files as the layers of an artifact manifest, each named by its
    /// `org.opencontainers.image.title` annotation; prints the manifest's digest.
    Push {
        /// Where to push: `registry/repo[:tag]` (without a tag, by digest only).
        reference: String,
        /// The files, as `FILE` or `FILE:MEDIA_TYPE`.
        #[arg(required = true)]
        files: Vec<String>,
        /// The manifest's `artifactType`.
        #[arg(
            long,
            value_name = "TYPE",
            default_value = "application/vnd.unknown.artifact.v1"
        )]
        artifact_type: String,
        /// Make the artifact a referrer of this manifest (same repository; a tag or digest,
        /// or a full reference).
        #[arg(long, value_name = "REF")]
        subject: Option<String>,
        /// An annotation of the manifest, KEY=VALUE (repeatable).
        #[arg(long = "annotation", value_name = "KEY=VALUE")]
        annotations: Vec<String>,
        #[command(flatten)]
        registry: RegistryArgs,
    },
    /// Pull the named layers of an artifact into DIR as files, each verified.
    Pull {
        /// The artifact: `registry/repo:tag` or `@digest`.
        reference: String,
        /// The directory to write into (created when missing).
        #[arg(short, long, value_name = "DIR", default_value = ".")]
        output: PathBuf,
        #[command(flatten)]
        registry: RegistryArgs,
    },
}

/// The arguments of `login`.
#[derive(Debug, Args)]
pub(crate) struct LoginArgs {
    /// The registry, `host[:port]`.
    pub(crate) registry_host: String,
    /// The user name.
    #[arg(short, long)]
    pub(crate) username: String,
    /// The password (or token). Prefer --password-stdin: arguments are visible to others.
    #[arg(
        short,
        long,
        env = "OCI_COPY_PASSWORD",
        hide_env_values = true,
        conflicts_with = "password_stdin"
    )]
    pub(crate) password: Option<String>,
    /// Read the password from standard input (up to the first line end).
    #[arg(long)]
    pub(crate) password_stdin: bool,
    /// The credentials file to write; by default `REGISTRY_AUTH_FILE`, else
    /// `$XDG_RUNTIME_DIR/containers/auth.json`, as `podman login` does.
    #[arg(long, value_name = "FILE")]
    pub(crate) authfile: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) connection: ConnectionArgs,
}

/// The arguments of `logout`.
#[derive(Debug, Args)]
pub(crate) struct LogoutArgs {
    /// The registry, `host[:port]`.
    pub(crate) registry_host: String,
    /// The credentials file to change; the same default as `login`.
    #[arg(long, value_name = "FILE")]
    pub(crate) authfile: Option<PathBuf>,
}
