//! Mirroring: many copies described by a TOML sync file.
//!
//! ```toml
//! [[sync]]
//! source = "docker://registry.example/team/app"   # a repository: its tags are filtered
//! target = "docker://127.0.0.1:5000/mirror/app"
//! tags = { regex = "^v", semver = ">=1.2, <2" }     # optional; all tags when absent
//! platforms = ["linux/amd64", "linux/arm64"]        # optional; all when absent
//! referrers = true                                   # optional
//!
//! [[sync]]
//! source = "docker://registry.example/base:3.20"    # one image: copied under its tag
//! target = "oci:/srv/layouts/base"
//! ```
//!
//! Every entry is planned against what the target already has, so a second run with
//! nothing new only reads manifests and tags.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::end::{Selector, Source};
use crate::error::{Error, Result};
use crate::execute::{ExecuteOptions, Report, execute};
use crate::filter::{TagFilter, TagFilterSpec, parse_platforms};
use crate::location::{Location, Opener};
use crate::plan::{CopyOptions, ImagePair, Plan, build_plan};

/// A sync file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncFile {
    /// The copies to run, in order.
    #[serde(default)]
    pub sync: Vec<SyncEntry>,
}

/// One `[[sync]]` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncEntry {
    /// Where to copy from (any [`Location`] form).
    pub source: String,
    /// Where to copy to.
    pub target: String,
    /// Which tags of a repository source to copy (all when absent).
    #[serde(default)]
    pub tags: Option<TagFilterSpec>,
    /// Platforms to copy (`os/arch[/variant]`); all when empty.
    #[serde(default)]
    pub platforms: Vec<String>,
    /// Keep original index bytes when narrowing platforms.
    #[serde(default)]
    pub sparse_index: bool,
    /// Copy referrers too.
    #[serde(default)]
    pub referrers: bool,
    /// Copy `<alg>-<hex>` digest tags too.
    #[serde(default)]
    pub digest_tags: bool,
}

impl SyncFile {
    /// Parses sync file text.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        toml::from_str(text).map_err(|source| Error::SyncFile {
            path: path.to_owned(),
            source: Box::new(source),
        })
    }

    /// Reads and parses a sync file.
    pub async fn read(path: &Path) -> Result<Self> {
        let text = tokio::fs::read_to_string(path)
            .await
            .map_err(|e| Error::io(path, e))?;
        Self::parse(&text, path)
    }
}

/// One entry's plan, and its run when not a dry run.
#[derive(Debug)]
pub struct SyncOutcome {
    /// The entry.
    pub entry: SyncEntry,
    /// What was planned.
    pub plan: Plan,
    /// What ran (`None` for a dry run).
    pub report: Option<Report>,
}

/// Plans (and unless `dry_run`, runs) every entry in turn. `base` supplies the options
/// an entry does not set (check concurrency, force-recursive, ...). Stops at the first
/// entry that fails to plan; a failed run is recorded in its outcome and the next entry
/// goes on.
pub async fn run_sync(
    file: &SyncFile,
    opener: &Opener,
    base: &CopyOptions,
    execute_options: &ExecuteOptions,
    dry_run: bool,
) -> Result<Vec<SyncOutcome>> {
    let mut outcomes = Vec::with_capacity(file.sync.len());
    for entry in &file.sync {
        let source_location: Location = entry.source.parse()?;
        let target_location: Location = entry.target.parse()?;
        let options = CopyOptions {
            platforms: parse_platforms(&entry.platforms.join(","))?,
            sparse_index: entry.sparse_index || base.sparse_index,
            referrers: entry.referrers || base.referrers,
            digest_tags: entry.digest_tags || base.digest_tags,
            ..base.clone()
        };
        let source = opener.source(&source_location).await?;
        let sink = opener
            .sink(&target_location, source_location.image_name())
            .await?;
        let images = images_to_copy(
            source.as_ref(),
            &source_location,
            &target_location,
            entry.tags.as_ref(),
        )
        .await?;
        let plan = build_plan(source.as_ref(), sink.as_ref(), &images, &options).await?;
        let report = if dry_run {
            None
        } else {
            Some(execute(&plan, source, sink, execute_options).await?)
        };
        outcomes.push(SyncOutcome {
            entry: entry.clone(),
            plan,
            report,
        });
    }
    Ok(outcomes)
}

/// The images a copy takes: the one image the source names (under the target's tag when
/// it names one, else under its own), or the source's tags that pass `filter`.
pub async fn images_to_copy(
    source: &dyn Source,
    from: &Location,
    to: &Location,
    filter: Option<&TagFilterSpec>,
) -> Result<Vec<ImagePair>> {
    if filter.is_none() && from.names_an_image() {
        return Ok(vec![single_image(from, to)]);
    }
    let filter = TagFilter::new(&filter.cloned().unwrap_or_default())?;
    let tags = filter.apply(source.tags().await?);
    Ok(tags.iter().map(|tag| ImagePair::tag(tag)).collect())
}

/// The one image `from` names, under the tag `to` names, else under its own tag (none
/// when read by digest, or as a layout's only image).
pub fn single_image(from: &Location, to: &Location) -> ImagePair {
    let selector = from.selector();
    let own_tag = match &selector {
        Selector::Tag(tag) => Some(tag.clone()),
        _ => None,
    };
    let target = if to.names_an_image() {
        to.target_tag()
    } else {
        own_tag
    };
    ImagePair {
        source: selector,
        target,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sync_files_parse_with_defaults() {
        let text = r#"
            [[sync]]
            source = "docker://127.0.0.1:5000/app"
            target = "oci:/tmp/app"
            tags = { regex = "^v", semver = ">=1" }
            platforms = ["linux/amd64"]

            [[sync]]
            source = "oci:/tmp/a:v1"
            target = "docker://127.0.0.1:5000/b"
        "#;
        let file = SyncFile::parse(text, Path::new("s.toml")).unwrap();
        assert_eq!(file.sync.len(), 2);
        assert_eq!(
            file.sync[0].tags.as_ref().unwrap().semver.as_deref(),
            Some(">=1")
        );
        assert!(!file.sync[1].referrers);
        assert!(file.sync[1].platforms.is_empty());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let error = SyncFile::parse(
            "[[sync]]\nsource='a'\ntarget='b'\ntagz='x'\n",
            Path::new("s.toml"),
        )
        .unwrap_err();
        assert!(matches!(error, Error::SyncFile { .. }));
    }
}
