//! The commands: each parses its references, opens the ends, plans, and (unless asked
//! not to) runs the plan.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use oci_copy::end::{Sink, Source};
use oci_copy::execute::{ExecuteOptions, Limits, execute};
use oci_copy::filter::{TagFilterSpec, parse_platforms};
use oci_copy::plan::{Action, CopyOptions, Root, build_plan};
use oci_copy::sync::{SyncEntry, SyncFile, images_to_copy, run_sync, single_image};
use oci_copy::{DEFAULT_CONCURRENCY, Error, Location, Plan};
use oci_spec_types::{Manifest, MediaType};

use crate::cli::args::{ArchiveFormat, Cli, Command, RegistryArgs, RunArgs, SelectArgs};
pub(crate) use crate::cli::connect::opener;
use crate::cli::progress::{reporter, summary_line};
use crate::cli::{verb_commands, verbs};

/// Requests at once when listing (tags of one repository, its manifests).
const LISTING_JOBS: NonZeroUsize = NonZeroUsize::new(4).unwrap();

/// Why a command failed, which decides the exit code.
pub(crate) enum Failure {
    /// The command line is wrong (exit code 2).
    Usage(String),
    /// The copy (or a read) failed (exit code 1).
    Copy(Error),
    /// A credentials file could not be read or written (exit code 1).
    Credentials(oci_auth::Error),
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        match error {
            Error::Reference { .. }
            | Error::UnknownTransport { .. }
            | Error::Regex(_)
            | Error::SemverRange { .. }
            | Error::Platform(_) => Failure::Usage(oci_copy::error::chain_text(&error)),
            other => Failure::Copy(other),
        }
    }
}

/// Runs the command and maps its result to the exit code.
pub(crate) async fn run(cli: Cli) -> ExitCode {
    match dispatch(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("oci-copy: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Copy(error)) => print_error_chain(&error),
        Err(Failure::Credentials(error)) => print_error_chain(&error),
    }
}

/// Prints `error` and its causes, one a line; the exit code of a failed operation.
fn print_error_chain(error: &dyn std::error::Error) -> ExitCode {
    eprintln!("oci-copy: {error}");
    let mut cause = error.source();
    while let Some(inner) = cause {
        eprintln!("  caused by: {inner}");
        cause = inner.source();
    }
    ExitCode::from(1)
}

async fn dispatch(command: Command) -> Result<(), Failure> {
    match command {
        Command::Copy {
            source,
            destination,
            select,
            run,
            registry,
        } => {
            let (from, to) = (location(&source)?, location(&destination)?);
            copy(&from, &to, &select, &run, &registry).await
        }
        Command::Plan {
            source,
            destination,
            select,
            json,
            registry,
        } => {
            let (from, to) = (location(&source)?, location(&destination)?);
            let run = RunArgs {
                dry_run: true,
                keep_going: false,
                jobs: DEFAULT_CONCURRENCY,
                retries: 0,
                json,
            };
            copy(&from, &to, &select, &run, &registry).await
        }
        Command::Export {
            reference,
            file,
            format,
            select,
            run,
            registry,
        } => {
            let from = location(&reference)?;
            let to = match format {
                ArchiveFormat::Oci => Location::OciArchive {
                    path: file,
                    tag: from.target_tag(),
                },
                ArchiveFormat::Docker => Location::DockerArchive {
                    path: file,
                    name: docker_name(&from),
                },
            };
            copy(&from, &to, &select, &run, &registry).await
        }
        Command::Import {
            file,
            reference,
            run,
            registry,
        } => {
            let from = Location::detect_archive_chosen(&file).await?;
            let to = location(&reference)?;
            copy(&from, &to, &SelectArgs::default(), &run, &registry).await
        }
        Command::Sync {
            file,
            run,
            force_recursive,
            registry,
        } => sync(file, &run, force_recursive, &registry).await,
        Command::Inspect {
            reference,
            raw,
            tags,
            registry,
        } => inspect(&location(&reference)?, raw, tags, &registry).await,
        Command::Verb(verb) => verb_commands::dispatch(verb).await,
    }
}

pub(crate) fn location(text: &str) -> Result<Location, Failure> {
    text.parse::<Location>()
        .map_err(|error| Failure::Usage(error.to_string()))
}

/// `name:tag` for a Docker archive's `RepoTags`, from the image exported.
fn docker_name(from: &Location) -> Option<String> {
    Some(format!("{}:{}", from.image_name()?, from.target_tag()?))
}

fn copy_options(select: &SelectArgs) -> Result<CopyOptions, Failure> {
    Ok(CopyOptions {
        platforms: parse_platforms(&select.platform.join(","))?,
        sparse_index: select.sparse_index,
        referrers: select.referrers || !select.artifact_types.is_empty(),
        artifact_types: select
            .artifact_types
            .iter()
            .map(|text| MediaType::from(text.as_str()))
            .collect(),
        digest_tags: select.digest_tags,
        include_nondistributable: select.include_nondistributable,
        force_recursive: select.force_recursive,
        ..CopyOptions::default()
    })
}

fn execute_options(run: &RunArgs) -> ExecuteOptions {
    ExecuteOptions {
        concurrency: run.jobs,
        keep_going: run.keep_going,
        retries: run.retries,
        limits: Limits::new(run.jobs),
        progress: None,
    }
}

async fn copy(
    from: &Location,
    to: &Location,
    select: &SelectArgs,
    run: &RunArgs,
    registry: &RegistryArgs,
) -> Result<(), Failure> {
    let options = copy_options(select)?;
    let opener = opener(
        registry,
        run.jobs,
        std::slice::from_ref(from),
        std::slice::from_ref(to),
    )?;
    let source = opener.source(from).await?;
    let sink = opener.sink(to, from.image_name()).await?;
    let wants_tags = select.all_tags || select.tags_regex.is_some() || select.tags_semver.is_some();
    if wants_tags && from.names_an_image() {
        // A tag and a tag filter contradict each other; taking either would surprise.
        return Err(Failure::Usage(format!(
            "{from} names one image, but --all-tags/--tags-regex/--tags-semver choose tags: \
             drop the tag or the option"
        )));
    }
    let images = if wants_tags {
        let filter = TagFilterSpec {
            regex: select.tags_regex.clone(),
            semver: select.tags_semver.clone(),
        };
        images_to_copy(source.as_ref(), from, to, Some(&filter)).await?
    } else {
        vec![single_image(from, to)]
    };
    let plan = build_plan(source.as_ref(), sink.as_ref(), &images, &options).await?;
    if run.dry_run {
        print_plan(&plan, run.json)?;
        return Ok(());
    }
    run_plan(&plan, source, sink, run).await
}

fn print_plan(plan: &Plan, json: bool) -> Result<(), Failure> {
    if json {
        verbs::print_json(plan, "plan", true)?;
    } else {
        print!("{}", plan.render());
    }
    Ok(())
}

async fn run_plan(
    plan: &Plan,
    source: Arc<dyn Source>,
    sink: Arc<dyn Sink>,
    run: &RunArgs,
) -> Result<(), Failure> {
    let (progress, bar) = reporter(plan);
    let options = ExecuteOptions {
        progress: Some(progress),
        ..execute_options(run)
    };
    let report = execute(plan, source, sink, &options).await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    eprintln!("{}", summary_line(&report));
    if run.json {
        verbs::print_json(&report.step_results(plan), "report", false)?;
    }
    let report = report.into_result()?;
    if !run.json && report.is_success() {
        let images = plan
            .roots
            .iter()
            .filter(|root| matches!(root, Root::Image { .. }));
        let several = images.clone().count() > 1;
        for root in images {
            if let Root::Image { step, source } = root
                && let Some(step) = plan.steps.get(*step)
            {
                // Several images (--all-tags) go to one repository: each line names its tag.
                let which = match (&step.action, several) {
                    (Action::Tag { tag: Some(tag) }, true) => format!(":{tag}"),
                    (_, true) => source.to_string(),
                    (_, false) => String::new(),
                };
                println!("{}{which} {}", plan.destination, step.descriptor.digest);
            }
        }
    }
    Ok(())
}

async fn sync(
    file: PathBuf,
    run: &RunArgs,
    force_recursive: bool,
    registry: &RegistryArgs,
) -> Result<(), Failure> {
    let sync_file = SyncFile::read(&file).await?;
    let ends = |end: fn(&SyncEntry) -> &String| -> Result<Vec<Location>, Failure> {
        sync_file
            .sync
            .iter()
            .map(|entry| location(end(entry)))
            .collect()
    };
    let (sources, targets) = (ends(|entry| &entry.source)?, ends(|entry| &entry.target)?);
    let opener = opener(registry, run.jobs, &sources, &targets)?;
    let base = CopyOptions {
        force_recursive,
        ..CopyOptions::default()
    };
    let outcomes = run_sync(
        &sync_file,
        &opener,
        &base,
        &execute_options(run),
        run.dry_run,
    )
    .await?;
    let mut first_failure = None;
    for outcome in outcomes {
        match outcome.report {
            None => print_plan(&outcome.plan, run.json)?,
            Some(report) => {
                eprintln!(
                    "{} -> {}: {}",
                    outcome.entry.source,
                    outcome.entry.target,
                    summary_line(&report)
                );
                if let Err(error) = report.into_result() {
                    first_failure.get_or_insert(error);
                }
            }
        }
    }
    first_failure.map_or(Ok(()), |error| Err(Failure::Copy(error)))
}

async fn inspect(
    location: &Location,
    raw: bool,
    tags: bool,
    registry: &RegistryArgs,
) -> Result<(), Failure> {
    let opener = opener(registry, LISTING_JOBS, std::slice::from_ref(location), &[])?;
    let source = opener.source(location).await?;
    if tags {
        for tag in source.tags().await? {
            println!("{tag}");
        }
        return Ok(());
    }
    let root = source.resolve(&location.selector()).await?;
    let bytes = source.manifest(&root).await?;
    if raw {
        println!("{}", String::from_utf8_lossy(&bytes));
        return Ok(());
    }
    let manifest =
        Manifest::parse_lenient(bytes, Some(root.media_type.as_str())).map_err(|source| {
            Failure::Copy(Error::Manifest {
                digest: root.digest.clone(),
                source,
            })
        })?;
    println!("digest:     {}", root.digest);
    println!("media type: {}", manifest.media_type());
    println!("size:       {}", root.size);
    for child in manifest.children() {
        let platform = child
            .platform
            .as_ref()
            .map_or_else(|| "-".to_owned(), ToString::to_string);
        println!("manifest:   {} {platform} {}", child.digest, child.size);
    }
    if let Some(image) = manifest.image() {
        println!("config:     {} {}", image.config.digest, image.config.size);
        for layer in &image.layers {
            println!(
                "layer:      {} {} {}",
                layer.digest, layer.size, layer.media_type
            );
        }
    }
    Ok(())
}
