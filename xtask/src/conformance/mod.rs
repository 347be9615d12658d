//! `cargo xtask conformance`: the OCI distribution conformance checks.
//!
//! Without `--url`, builds `oci-registry`, starts it on a free port with a temporary store
//! ([`server`]) and stops it at the end. With `OCI_CONFORMANCE_BIN` set, runs that official suite
//! ([`crate::official`]); otherwise runs the project's own checks, written from the spec.
//!
//! The checks, in the order they run:
//! - [`pull`]: blobs and manifests by digest and tag, misses, answer headers.
//! - [`push`], [`push_chunked`], [`push_manifests`]: streamed, monolithic and chunked uploads,
//!   cross-repository mounts, manifest uploads and their error codes.
//! - [`discovery`], [`referrers`]: tag lists (order, `n`, `last`, `Link`), the catalog, and the
//!   referrers API.
//! - [`management`]: deleting tags, manifests and blobs.
//! - [`newer_blobs`], [`newer_ranges`], [`newer_manifests`]: features newer than v1.1.1 (sha512,
//!   Range GETs, upload cancel, tag parameters) and the newer harness's data sets
//!   ([`dataset_builders`], run by [`datasets`]).
//!
//! The machinery: [`report`] (cases, groups, outcomes, summary), [`expect`] (assertions about
//! answers), [`client`] (requests that always end in a [`client::Reply`]), [`data`] (generated
//! content) and [`steps`] (multi-request setup and teardown steps).

mod client;
pub(crate) mod data;
mod dataset_builders;
mod datasets;
mod discovery;
mod expect;
mod management;
pub(crate) mod moto;
mod newer_blobs;
mod newer_manifests;
mod newer_ranges;
mod pull;
mod push;
mod push_chunked;
mod push_manifests;
mod referrers;
mod report;
pub(crate) mod server;
mod steps;
mod test_ca;

use std::process::ExitCode;

use crate::error::XtaskError;
use client::Api;
use data::Rng;
pub use report::Counts;
use report::Report;

const USAGE: &str = "\
usage: cargo xtask conformance [--url URL] [--release] [--storage fs|s3] [--tls] [--keep-going]

  --url URL      test an already-running registry instead of starting oci-registry
  --release      build and run oci-registry in release mode (default: debug)
  --storage fs|s3  the store oci-registry runs on: `fs`, a temporary directory (default), or
                   `s3`, a bucket on a moto_server started for the run
  --tls          serve oci-registry over HTTPS with a certificate of a CA made for the run,
                 which the checks trust (the project's checks only)
  --keep-going   run every case even after its workflow's setup failed

With OCI_CONFORMANCE_BIN=<path to the official conformance binary> set, runs that suite
instead of the built-in checks (v1.1 and newer harness variables set; any OCI_* variable you
set yourself wins, e.g. OCI_AUTOMATIC_CROSSMOUNT=1) and summarises its junit.xml, which is
kept in <target>/conformance-report/.
";

/// Command-line options of `cargo xtask conformance`.
#[derive(Debug, Default, PartialEq, Eq)]
struct Options {
    url: Option<String>,
    release: bool,
    keep_going: bool,
    storage: server::Backend,
    tls: bool,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options, XtaskError> {
        let usage = |problem: String| XtaskError::Usage(format!("{problem}\n{USAGE}"));
        let mut options = Options::default();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--url" => {
                    let url = args
                        .next()
                        .ok_or_else(|| usage("--url needs a URL".into()))?;
                    options.url = Some(url.trim_end_matches('/').to_string());
                }
                "--release" => options.release = true,
                "--keep-going" => options.keep_going = true,
                "--tls" => options.tls = true,
                "--storage" => match args.next().map(String::as_str) {
                    Some("fs") => options.storage = server::Backend::Filesystem,
                    Some("s3") => options.storage = server::Backend::S3,
                    other => {
                        return Err(usage(format!("unsupported --storage {other:?}")));
                    }
                },
                "-h" | "--help" => return Err(XtaskError::Usage(USAGE.to_string())),
                other => return Err(usage(format!("unexpected argument {other:?}"))),
            }
        }
        Ok(options)
    }
}

/// Entry point of `cargo xtask conformance`.
pub fn main(args: &[String]) -> Result<ExitCode, XtaskError> {
    let options = Options::parse(args)?;
    // Keeps the spawned registry (if any) alive until the end; dropping it stops the process.
    let official = std::env::var_os("OCI_CONFORMANCE_BIN");
    if options.tls && (official.is_some() || options.url.is_some()) {
        return Err(XtaskError::Usage(format!(
            "--tls starts oci-registry for the project's checks: not with --url or OCI_CONFORMANCE_BIN\n{USAGE}"
        )));
    }
    let (url, server) = match &options.url {
        Some(url) => (url.clone(), None),
        None => {
            let server = server::Server::start(options.release, options.storage, options.tls)?;
            (server.url().to_string(), Some(server))
        }
    };
    if let Some(binary) = official {
        return crate::official::run(std::path::Path::new(&binary), &url);
    }
    let ca = server.as_ref().and_then(server::Server::ca_pem);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(run_checks(&url, ca, options.keep_going))?;
    report.print_summary();
    Ok(if report.totals().failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// What every workflow needs: the registry and this run's repository namespace.
#[derive(Debug)]
pub struct Ctx {
    /// The registry under test.
    pub api: Api,
    /// A namespace unique to this run, so runs never collide.
    pub namespace: String,
}

impl Ctx {
    /// The repository `<namespace>/<name>`.
    pub fn repo(&self, name: &str) -> String {
        format!("{}/{name}", self.namespace)
    }
}

async fn run_checks(
    url: &str,
    ca_pem: Option<&str>,
    keep_going: bool,
) -> Result<Report, XtaskError> {
    let mut rng = Rng::from_clock();
    let ctx = Ctx {
        api: Api::new(url, ca_pem)?,
        namespace: format!("xtask-{}", rng.token(8)),
    };
    println!(
        "conformance checks against {} (repositories under {}/)",
        ctx.api.base(),
        ctx.namespace
    );
    let mut report = Report::new(keep_going);
    pull::run(&ctx, &mut rng, &mut report).await;
    push::run(&ctx, &mut rng, &mut report).await;
    push_manifests::run(&ctx, &mut rng, &mut report).await;
    discovery::run(&ctx, &mut rng, &mut report).await;
    referrers::run(&ctx, &mut rng, &mut report).await;
    management::run(&ctx, &mut rng, &mut report).await;
    newer_blobs::run(&ctx, &mut rng, &mut report).await;
    newer_manifests::run(&ctx, &mut rng, &mut report).await;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|arg| arg.to_string()).collect()
    }

    #[test]
    fn parses_every_option() {
        let options = Options::parse(&args(&[
            "--url",
            "http://127.0.0.1:5000/",
            "--release",
            "--storage",
            "fs",
            "--keep-going",
            "--tls",
        ]))
        .unwrap();
        assert_eq!(
            options,
            Options {
                url: Some("http://127.0.0.1:5000".into()),
                release: true,
                keep_going: true,
                storage: server::Backend::Filesystem,
                tls: true,
            }
        );
    }

    #[test]
    fn chooses_the_object_storage_backend() {
        let options = Options::parse(&args(&["--storage", "s3"])).unwrap();
        assert_eq!(options.storage, server::Backend::S3);
    }

    #[test]
    fn rejects_unknown_storage_and_arguments() {
        assert!(Options::parse(&args(&["--storage", "gcs"])).is_err());
        assert!(Options::parse(&args(&["--bogus"])).is_err());
        assert!(Options::parse(&args(&["--url"])).is_err());
    }
}
