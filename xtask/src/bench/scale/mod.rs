//! `cargo xtask bench --only scale`: what a page of tags, a page of the catalog, deleting a
//! manifest that many tags name and a garbage-collection sweep cost once a store is large
//! (100,000 tags in one repository, 10,000 repositories, 100,000 blobs by default), for
//! oci-registry and distribution, on a filesystem folder and on S3 (moto).
//!
//! Each server is filled over HTTP ([`populate()`]) with the same data, then measured; the
//! table goes to stdout and into its own section of `xtask/BENCHMARKS.md`.

mod content;
mod populate;
mod retry;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use oci_digest::Digest;
use reqwest::StatusCode;

pub use self::content::{MANIFEST_TYPE, config, layer, manifest};
pub use self::populate::mount;
use self::populate::{Sizes, TAGS_REPO, populate, repo_name, tag_name};
use self::retry::Retries;
use super::api::{Api, send};
use super::backends::{Backend, Server};
use super::error::BenchError;
use super::moto::RecordedMoto;
use super::peers::PeerKind;
use crate::error::XtaskError;

const USAGE: &str = "\
usage: cargo xtask bench --only scale [--tags N] [--repos N] [--blobs N] [--per-manifest N]
                         [--backend fs|s3]... [--store-dir DIR]

  --tags N          tags in one repository (default 100000)
  --per-manifest N  tags naming each of its manifests, so the DELETE removes N (default 10000)
  --repos N         repositories (default 10000)
  --blobs N         blobs (default 100000)
  --backend B       fs (a folder in --store-dir) or s3 (moto_server); default both
  --store-dir DIR   where filesystem stores go (default: the system's temporary folder)
";

/// Page requests measured per row; the table shows their median.
const PAGE_SAMPLES: usize = 5;

/// Command-line options of the scale benchmark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    sizes: Sizes,
    backends: Vec<String>,
    store_dir: PathBuf,
}

impl Options {
    /// Reads `args` (everything after `bench`, `--only scale` included).
    pub fn parse(args: &[String]) -> Result<Options, XtaskError> {
        let usage = |problem: String| XtaskError::Usage(format!("{problem}\n{USAGE}"));
        let mut options = Options {
            sizes: Sizes {
                tags: 100_000,
                per_manifest: 10_000,
                repos: 10_000,
                blobs: 100_000,
            },
            backends: Vec::new(),
            store_dir: std::env::temp_dir(),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next()
                    .ok_or_else(|| usage(format!("{arg} needs a value")))
            };
            let mut number = || -> Result<u64, XtaskError> {
                let text = value()?;
                text.parse()
                    .map_err(|_| usage(format!("{arg} wants a whole number, not {text:?}")))
            };
            match arg.as_str() {
                "--only" => {
                    value()?;
                }
                "--tags" => options.sizes.tags = number()?,
                "--per-manifest" => options.sizes.per_manifest = number()?.max(1),
                "--repos" => options.sizes.repos = number()?,
                "--blobs" => options.sizes.blobs = number()?,
                "--store-dir" => options.store_dir = PathBuf::from(value()?),
                "--backend" => match value()?.as_str() {
                    backend @ ("fs" | "s3") => options.backends.push(backend.to_string()),
                    other => return Err(usage(format!("unknown backend {other:?}"))),
                },
                "-h" | "--help" => return Err(XtaskError::Usage(USAGE.to_string())),
                other => return Err(usage(format!("unknown argument {other:?}"))),
            }
        }
        if options.backends.is_empty() {
            options.backends = vec!["fs".to_string(), "s3".to_string()];
        }
        Ok(options)
    }

    /// The backends asked for (`fs`, `s3`), in order.
    pub fn backends(&self) -> &[String] {
        &self.backends
    }

    fn command_line(&self) -> String {
        let s = self.sizes;
        let mut line = format!(
            "cargo xtask bench --only scale --tags {} --per-manifest {} --repos {} --blobs {}",
            s.tags, s.per_manifest, s.repos, s.blobs
        );
        for backend in &self.backends {
            line.push_str(&format!(" --backend {backend}"));
        }
        line
    }
}

/// What one server measured.
#[derive(Debug, Default, Clone)]
struct Measured {
    populate: Duration,
    requests: u64,
    /// Fill steps sent again after a 500 (see [`Retries`]).
    retried: u64,
    /// Requests moto answered 500 during the fill (on S3).
    store_errors: Option<u64>,
    tag_page: Page,
    catalog_page: Page,
    delete: Duration,
    gc: Duration,
}

/// The times of one page's requests.
#[derive(Debug, Default, Clone, Copy)]
struct Page {
    /// The median of [`PAGE_SAMPLES`] requests.
    median: Duration,
    /// The first request's (a server keeping listings in memory builds them then).
    first: Duration,
    /// How many entries it listed.
    listed: u64,
}

/// Runs the benchmark; returns its Markdown section.
pub async fn run(options: &Options, ours: &Path) -> Result<String, BenchError> {
    let mut columns = Vec::new();
    for backend in &options.backends {
        for kind in [PeerKind::Ours, PeerKind::Distribution] {
            // A moto of its own for each server: moto scans its whole bucket for every
            // listing, so a server sharing it would pay for the other's keys.
            let moto = match backend.as_str() {
                "s3" => Some(RecordedMoto::start().await?),
                _ => None,
            };
            let backend = match &moto {
                Some(moto) => Backend::S3(moto),
                None => Backend::Fs(&options.store_dir),
            };
            eprintln!("bench scale: {} on {}", kind.name(), backend.name());
            let server = Server::start(kind, ours, backend, "scale").await?;
            let measured = measure(&server, moto.as_ref(), options.sizes).await?;
            // Also as it comes, so a run stopped later still tells what it measured.
            eprintln!(
                "bench scale: {} on {}: {measured:?}",
                kind.name(),
                backend.name()
            );
            columns.push((format!("{} {}", kind.name(), backend.name()), measured));
        }
    }
    Ok(table(options, &columns))
}

async fn measure(
    server: &Server,
    moto: Option<&RecordedMoto>,
    sizes: Sizes,
) -> Result<Measured, BenchError> {
    let api = Api::new(server.url())?;
    let retries = Retries::default();
    let errors_before = moto.map(RecordedMoto::internal_errors).transpose()?;
    let started = Instant::now();
    let requests = populate(&api, sizes, &retries).await?;
    let populate = started.elapsed();
    let store_errors = match (moto, errors_before) {
        (Some(moto), Some(before)) => Some(moto.internal_errors()?.saturating_sub(before)),
        _ => None,
    };
    let tags_url = page_url(
        &api,
        &format!("{TAGS_REPO}/tags/list"),
        &tag_name(sizes.tags / 2),
    );
    let after_middle = |n: u64| n.saturating_sub(n / 2 + 1).min(100);
    let tag_page = median_page(
        &api,
        &tags_url,
        "tags",
        after_middle(sizes.tags),
        sizes.tags,
    )
    .await?;
    let catalog_url = page_url(&api, "_catalog", &repo_name(sizes.repos / 2));
    // Besides `scale/r*`: `scale/tags`, which sorts after them (`scale/blobs` sorts before).
    let catalog_page = median_page(
        &api,
        &catalog_url,
        "repositories",
        (after_middle(sizes.repos) + 1).min(100),
        sizes.repos + 2,
    )
    .await?;
    let digest = Digest::compute(&populate::first_tagged_manifest());
    let url = api.url(&format!("{TAGS_REPO}/manifests/{digest}"));
    let started = Instant::now();
    send(
        "deleting a manifest",
        api.http().delete(url.clone()),
        &url,
        StatusCode::ACCEPTED,
    )
    .await?;
    let delete = started.elapsed();
    let first_tag = api.url(&format!("{TAGS_REPO}/manifests/{}", tag_name(0)));
    let request = api
        .http()
        .head(first_tag.clone())
        .header("Accept", MANIFEST_TYPE);
    send(
        "checking a deleted manifest's tag",
        request,
        &first_tag,
        StatusCode::NOT_FOUND,
    )
    .await?;
    let gc = server.collect_garbage()?;
    Ok(Measured {
        populate,
        requests,
        retried: retries.count(),
        store_errors,
        tag_page,
        catalog_page,
        delete,
        gc,
    })
}

fn page_url(api: &Api, path: &str, last: &str) -> reqwest::Url {
    let mut url = api.url(path);
    url.query_pairs_mut()
        .append_pair("n", "100")
        .append_pair("last", last);
    url
}

/// The median and first times of [`PAGE_SAMPLES`] GETs of `url`, and how many entries it
/// listed under `field`: `expected` (a page) or `whole` (a server without paging answers
/// everything, as distribution 2.8 does for tags).
async fn median_page(
    api: &Api,
    url: &reqwest::Url,
    field: &str,
    expected: u64,
    whole: u64,
) -> Result<Page, BenchError> {
    let mut times = Vec::new();
    let mut listed = 0;
    for _ in 0..PAGE_SAMPLES {
        let started = Instant::now();
        let answer = send(
            "reading a page",
            api.http().get(url.clone()),
            url,
            StatusCode::OK,
        )
        .await?;
        let body: serde_json::Value = answer.json().await.map_err(|source| BenchError::Http {
            step: "reading a page",
            url: url.to_string(),
            source,
        })?;
        times.push(started.elapsed());
        listed = body[field].as_array().map_or(0, Vec::len) as u64;
        if listed != expected && listed != whole {
            return Err(BenchError::BadAnswer {
                url: url.to_string(),
                reason: format!("listed {listed} {field}, expected {expected} (or all {whole})"),
            });
        }
    }
    let first = times[0];
    times.sort();
    Ok(Page {
        median: times[times.len() / 2],
        first,
        listed,
    })
}

/// How one row shows a measurement.
type Cell = dyn Fn(&Measured) -> String;

fn table(options: &Options, columns: &[(String, Measured)]) -> String {
    let s = options.sizes;
    let mut out = format!(
        "## Scale: {} tags in one repository, {} repositories, {} blobs\n\n\
         Produced by `{}` (load average at the end: {}). Every server was filled over HTTP \
         (on S3, each with a moto of its own) with the same data, {} requests in flight (a step answered 500 was sent again, and \
         counted in brackets, beside the requests moto itself failed with a 500; the rate \
         counts the fill's own requests only); pages are medians of {PAGE_SAMPLES} requests with `n=100` from \
         the middle (and, in brackets, the first of them); the DELETE removes a manifest that {} tags name; the sweep is each \
         server's own offline collector (`oci-registry gc`, `docker-registry \
         garbage-collect`) on the filled store, nothing to remove.\n\n| what |",
        s.tags,
        s.repos,
        s.blobs,
        options.command_line(),
        super::machine::load_average(),
        populate::PARALLEL,
        s.per_manifest.min(s.tags),
    );
    for (name, _) in columns {
        out.push_str(&format!(" {name} |"));
    }
    out.push_str("\n|---|");
    out.push_str(&"---:|".repeat(columns.len()));
    out.push('\n');
    fn ms(d: Duration) -> String {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    }
    fn page(page: Page) -> String {
        let times = format!("{} (first {})", ms(page.median), ms(page.first));
        match page.listed > 100 {
            true => format!("{times} (no paging: all {})", page.listed),
            false => times,
        }
    }
    let rows: [(&str, &Cell); 5] = [
        ("fill over HTTP (requests/s)", &|m| {
            let rate = m.requests as f64 / m.populate.as_secs_f64().max(1e-9);
            let mut notes = Vec::new();
            if let Some(n) = m.store_errors.filter(|n| *n > 0) {
                notes.push(format!("moto answered 500 to {n} requests"));
            }
            if m.retried > 0 {
                notes.push(format!("{} steps sent again after a 500", m.retried));
            }
            match notes.is_empty() {
                true => format!("{rate:.0}"),
                false => format!("{rate:.0} ({})", notes.join("; ")),
            }
        }),
        ("one page of tags", &|m| page(m.tag_page)),
        ("one page of the catalog", &|m| page(m.catalog_page)),
        ("DELETE of the manifest", &|m| ms(m.delete)),
        ("GC sweep", &|m| format!("{:.2} s", m.gc.as_secs_f64())),
    ];
    for (what, cell) in rows {
        out.push_str(&format!("| {what} |"));
        for (_, measured) in columns {
            out.push_str(&format!(" {} |", cell(measured)));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, XtaskError> {
        Options::parse(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn sizes_and_backends_are_flags() {
        let options = parse(&[
            "--only",
            "scale",
            "--tags",
            "300",
            "--repos",
            "20",
            "--blobs",
            "50",
            "--backend",
            "fs",
        ])
        .unwrap();
        assert_eq!(options.sizes.tags, 300);
        assert_eq!(options.sizes.repos, 20);
        assert_eq!(options.sizes.blobs, 50);
        assert_eq!(options.backends, ["fs"]);
        assert_eq!(parse(&[]).unwrap().backends, ["fs", "s3"]);
        assert!(matches!(
            parse(&["--backend", "tape"]),
            Err(XtaskError::Usage(_))
        ));
        assert!(matches!(
            parse(&["--tags", "many"]),
            Err(XtaskError::Usage(_))
        ));
    }
}
