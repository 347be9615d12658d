//! `cargo xtask conformance`: the OCI distribution conformance checks, a judge of any registry.
//!
//! Without `--url`, builds `oci-registry`, starts it on a free port with a temporary store
//! ([`server`]) and stops it at the end. With `OCI_CONFORMANCE_BIN` set, runs that official suite
//! ([`crate::official`]); otherwise runs the project's own checks, written from the spec. Every
//! check rests on a [`basis::Basis`]: a MUST (fails the run), a SHOULD (a warning) or an
//! optional feature (a skip when the registry does not offer it).
//!
//! The checks, in the order they run:
//! - [`pull`], [`pull_paths`]: blobs and manifests by digest and tag, misses, answer headers,
//!   malformed references and dot-segments.
//! - [`push`], [`push_chunked`], [`push_mounts`], [`push_manifests`]: streamed, monolithic and
//!   chunked uploads, cross-repository mounts, manifest uploads and their refusals.
//! - [`discovery`], [`referrers`] (content in [`referrers_data`]): tag lists (order, `n`, `last`, `Link`), the catalog, and the
//!   referrers API.
//! - [`management`]: deleting tags, manifests and blobs.
//! - [`newer_blobs`], [`newer_ranges`], [`newer_manifests`]: features newer than v1.1.1 (sha512,
//!   Range GETs, upload cancel, tag parameters) and the newer harness's data sets
//!   ([`dataset_builders`], run by [`datasets`]).
//!
//! The machinery: [`options`] (the command line), [`report`] and [`scope`] (cases, groups,
//! outcomes), [`checks`] and [`expect`] (assertions), [`basis`] (what a check rests on),
//! [`summary`] and [`junit`] (output), [`client`], [`auth`] and [`raw`] (requests that always
//! end in a [`client::Reply`] or a status), [`data`] (generated content) and [`steps`]
//! (multi-request steps).

pub(crate) mod auth;
mod basis;
mod checks;
mod client;
pub(crate) mod data;
mod dataset_builders;
mod datasets;
mod discovery;
mod expect;
mod junit;
mod management;
pub(crate) mod moto;
mod newer_blobs;
mod newer_manifests;
mod newer_ranges;
mod options;
mod pull;
mod pull_paths;
mod push;
mod push_chunked;
mod push_manifests;
mod push_mounts;
mod raw;
mod referrers;
mod referrers_data;
mod report;
mod scope;
pub(crate) mod server;
mod steps;
mod summary;
mod test_ca;

use std::process::ExitCode;

use crate::error::XtaskError;
use client::{Api, Connection};
use data::Rng;
use options::Options;
use report::{Report, RunPolicy, Workflow};
pub use summary::Counts;

/// Entry point of `cargo xtask conformance`.
pub fn main(args: &[String]) -> Result<ExitCode, XtaskError> {
    let options = Options::parse(args)?;
    let official = std::env::var_os("OCI_CONFORMANCE_BIN");
    if options.tls && official.is_some() {
        return Err(XtaskError::Usage(format!(
            "--tls starts oci-registry for the project's checks: not with OCI_CONFORMANCE_BIN\n{}",
            options::USAGE
        )));
    }
    // Keeps the spawned registry (if any) alive until the end; dropping it stops the process.
    let (url, connection, _server) = match &options.url {
        Some(url) => (url.clone(), options.connection.clone(), None),
        None => {
            let server =
                server::Server::start(options.release, options.storage, options.auth, options.tls)?;
            let connection = Connection {
                credentials: server.credentials().cloned(),
                ca_pem: server.ca_pem().map(str::to_string),
                ..Connection::default()
            };
            (server.url().to_string(), connection, Some(server))
        }
    };
    if let Some(binary) = official {
        return crate::official::run(
            std::path::Path::new(&binary),
            &url,
            connection.credentials.as_ref(),
        );
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut rng = Rng::from_clock();
    let run = rng.token(6);
    let namespace = options
        .namespace
        .clone()
        .unwrap_or_else(|| "xtask-conformance".to_string());
    let ctx = Ctx {
        api: Api::new(&url, &connection)?,
        mount_namespace: options.mount_namespace.clone().unwrap_or(namespace.clone()),
        namespace,
        run,
    };
    let report = runtime.block_on(run_checks(&ctx, &mut rng, options.policy.clone()));
    if let Some(path) = &options.junit {
        std::fs::write(path, junit::render(report.results()))?;
        println!("\nJUnit report written to {}", path.display());
    }
    // Last, so the closing line is the last line.
    summary::print_summary(report.results(), report.features());
    let counts = summary::Counts::of(report.results());
    Ok(
        if counts.failed == 0 && !(options.deny_warnings && counts.warned > 0) {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        },
    )
}

/// What every workflow needs: the registry and where to create repositories.
#[derive(Debug)]
pub struct Ctx {
    /// The registry under test.
    pub api: Api,
    /// The namespace repositories are created in.
    pub namespace: String,
    /// The namespace mounts target.
    pub mount_namespace: String,
    /// A token unique to this run, so runs never collide.
    pub run: String,
}

impl Ctx {
    /// The repository `<namespace>/<name>-<run>`.
    pub fn repo(&self, name: &str) -> String {
        format!("{}/{name}-{}", self.namespace, self.run)
    }

    /// The repository `<mount namespace>/<name>-<run>`, a mount target.
    pub fn mount_repo(&self, name: &str) -> String {
        format!("{}/{name}-{}", self.mount_namespace, self.run)
    }
}

async fn run_checks(ctx: &Ctx, rng: &mut Rng, policy: RunPolicy) -> Report {
    use Workflow::{ContentDiscovery, ContentManagement, Pull, Push};
    println!(
        "conformance checks against {} (repositories {} and {})",
        ctx.api.base(),
        ctx.repo("<check>"),
        ctx.mount_repo("<check>"),
    );
    let mut report = Report::new(policy);
    if report.selects_any(&[Pull]) {
        pull::run(ctx, rng, &mut report).await;
    }
    if report.selects_any(&[Push]) {
        push::run(ctx, rng, &mut report).await;
        push_mounts::run(ctx, rng, &mut report).await;
        push_manifests::run(ctx, rng, &mut report).await;
    }
    if report.selects_any(&[ContentDiscovery]) {
        discovery::run(ctx, rng, &mut report).await;
    }
    if report.selects_any(&[ContentDiscovery, ContentManagement]) {
        referrers::run(ctx, rng, &mut report).await;
    }
    if report.selects_any(&[ContentManagement]) {
        management::run(ctx, rng, &mut report).await;
    }
    if report.selects_any(&[Push, Pull]) {
        newer_blobs::run(ctx, rng, &mut report).await;
    }
    if report.selects_any(&[Push, Pull, ContentManagement]) {
        newer_manifests::run(ctx, rng, &mut report).await;
    }
    report
}
