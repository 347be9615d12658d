//! `oci-registry gc`: garbage collection from the command line.

use std::{io::Write, time::Duration};

use clap::Args;
use oci_server_core::gc::{GcOptions, collect_garbage};

use crate::{StoreArgs, duration};

/// What to collect.
#[derive(Debug, Args)]
pub(crate) struct GcArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// List what would be removed without removing anything.
    #[arg(long)]
    dry_run: bool,
    /// Keep everything younger than this (`90s`, `30m`, `1h`, `2d`, `1h30m`).
    #[arg(long, default_value = "1h", value_parser = duration)]
    grace: Duration,
    /// Also remove manifests that no tag reaches.
    #[arg(long)]
    untagged: bool,
}

/// Collects and prints one line per removed item, then a summary.
pub(crate) async fn run(args: GcArgs) -> Result<(), Box<dyn std::error::Error>> {
    let storage = args.store.open(false).await?;
    let options = GcOptions::default()
        .with_grace(args.grace)
        .with_untagged(args.untagged)
        .with_dry_run(args.dry_run);
    let report = collect_garbage(storage, &options).await?;
    let mut out = std::io::stdout().lock();
    for manifest in &report.manifests {
        writeln!(out, "manifest {}@{}", manifest.repository, manifest.digest)?;
    }
    for blob in &report.blobs {
        writeln!(out, "blob {} {}", blob.digest, blob.size)?;
    }
    for (repository, digest) in &report.links {
        writeln!(out, "link {repository} {digest}")?;
    }
    for upload in &report.uploads {
        writeln!(out, "upload {upload}")?;
    }
    let verb = if report.dry_run {
        "would remove"
    } else {
        "removed"
    };
    writeln!(
        out,
        "{verb} {} manifests, {} blobs ({} bytes), {} links, {} uploads; kept {} young unreferenced blobs",
        report.manifests.len(),
        report.blobs.len(),
        report.bytes_freed(),
        report.links.len(),
        report.uploads.len(),
        report.young_blobs,
    )?;
    Ok(())
}
