//! Registry verbs as regctl, crane and oras users know them: small reads of one location
//! (a registry repository, or a layout or archive), with `--json` output.

use std::num::NonZeroUsize;
use std::sync::Arc;

use regex::Regex;
use serde::Serialize;

use oci_copy::{Error, Location, Source};

use crate::cli::args::RegistryArgs;
use crate::cli::commands::{Failure, opener};

/// `--include` and `--exclude` of `tags`.
pub(crate) struct TagPatterns {
    include: Option<Regex>,
    exclude: Option<Regex>,
}

impl TagPatterns {
    /// Compiles the patterns; a bad one is a usage error.
    pub(crate) fn new(include: Option<&str>, exclude: Option<&str>) -> Result<Self, Failure> {
        let compile = |pattern: Option<&str>| {
            pattern
                .map(Regex::new)
                .transpose()
                .map_err(|error| Failure::Usage(format!("invalid tag pattern: {error}")))
        };
        Ok(TagPatterns {
            include: compile(include)?,
            exclude: compile(exclude)?,
        })
    }

    fn keeps(&self, tag: &str) -> bool {
        self.include.as_ref().is_none_or(|re| re.is_match(tag))
            && !self.exclude.as_ref().is_some_and(|re| re.is_match(tag))
    }
}

/// `oci-copy tags REPO`: one tag a line, or a JSON array.
pub(crate) async fn tags(
    location: &Location,
    patterns: &TagPatterns,
    json: bool,
    registry: &RegistryArgs,
) -> Result<(), Failure> {
    let source = open_source(location, registry).await?;
    let tags: Vec<String> = source
        .tags()
        .await?
        .into_iter()
        .filter(|tag| patterns.keeps(tag))
        .collect();
    if json {
        print_json(&tags, "tags", false)?;
    } else {
        for tag in tags {
            println!("{tag}");
        }
    }
    Ok(())
}

/// What `digest --json` prints.
#[derive(Serialize)]
struct Resolved<'a> {
    digest: &'a oci_spec_types::Digest,
    media_type: &'a oci_spec_types::MediaType,
    size: u64,
}

/// `oci-copy digest REF`: the digest of the manifest the reference names (a `HEAD` on a
/// registry).
pub(crate) async fn digest(
    location: &Location,
    json: bool,
    registry: &RegistryArgs,
) -> Result<(), Failure> {
    let source = open_source(location, registry).await?;
    let root = source.resolve(&location.selector()).await?;
    if json {
        let resolved = Resolved {
            digest: &root.digest,
            media_type: &root.media_type,
            size: root.size,
        };
        print_json(&resolved, "digest", false)
    } else {
        println!("{}", root.digest);
        Ok(())
    }
}

async fn open_source(
    location: &Location,
    registry: &RegistryArgs,
) -> Result<Arc<dyn Source>, Failure> {
    let opener = opener(
        registry,
        NonZeroUsize::MIN,
        std::slice::from_ref(location),
        &[],
    )?;
    Ok(opener.source(location).await?)
}

/// Prints `value` as JSON (`what` names it in an error).
pub(crate) fn print_json(value: &impl Serialize, what: &str, pretty: bool) -> Result<(), Failure> {
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    };
    let text = text.map_err(|source| {
        Failure::Copy(Error::Json {
            path: what.into(),
            source,
        })
    })?;
    println!("{text}");
    Ok(())
}
