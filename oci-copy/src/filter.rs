//! What to copy: tag filters (regular expression, semver range), platform lists and
//! artifact-type filters.

use oci_spec_types::{MediaType, Platform};
use regex::Regex;
use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A tag filter as written in a sync file or on the command line: `regex` and `semver`
/// both apply when both are given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagFilterSpec {
    /// A regular expression a tag must match (anchor it with `^...$` to match whole tags).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// A semver range (`>=1.2, <2`) a tag must fall in, read leniently (see
    /// [`lenient_version`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semver: Option<String>,
}

/// A compiled tag filter.
#[derive(Debug, Clone, Default)]
pub struct TagFilter {
    regex: Option<Regex>,
    semver: Option<VersionReq>,
}

impl TagFilter {
    /// Compiles a filter; an empty spec lets every tag through.
    pub fn new(spec: &TagFilterSpec) -> Result<Self> {
        let regex = spec.regex.as_deref().map(Regex::new).transpose()?;
        let semver = spec.semver.as_deref().map(lenient_range).transpose()?;
        Ok(TagFilter { regex, semver })
    }

    /// Whether `tag` passes.
    pub fn matches(&self, tag: &str) -> bool {
        let regex_ok = self.regex.as_ref().is_none_or(|regex| regex.is_match(tag));
        let semver_ok = self.semver.as_ref().is_none_or(|range| {
            lenient_version(tag).is_some_and(|version| range.matches(&version))
        });
        regex_ok && semver_ok
    }

    /// The tags of `tags` that pass, in their order.
    pub fn apply(&self, tags: Vec<String>) -> Vec<String> {
        tags.into_iter().filter(|tag| self.matches(tag)).collect()
    }
}

/// Reads a tag as a version the way image tags are written: an optional `v`, then one to
/// three numbers (missing ones are 0), then an optional `-pre-release` and `+build`. So
/// `v1.2` is 1.2.0 and `1.25-alpine` is 1.25.0-alpine (a pre-release, which a range only
/// matches when it names a pre-release of the same version). `None` for other tags.
pub fn lenient_version(tag: &str) -> Option<Version> {
    let text = tag.strip_prefix(['v', 'V']).unwrap_or(tag);
    let core_end = text.find(['-', '+']).unwrap_or(text.len());
    let (core, rest) = text.split_at(core_end);
    let numbers: Vec<&str> = core.split('.').collect();
    if numbers.is_empty()
        || numbers.len() > 3
        || !numbers
            .iter()
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let mut padded = numbers.join(".");
    for _ in numbers.len()..3 {
        padded.push_str(".0");
    }
    Version::parse(&format!("{padded}{rest}")).ok()
}

/// Reads a semver range, its versions as leniently as tags are read (see
/// [`lenient_version`]): `1.25-alpine` is `^1.25.0-alpine`, `>=v1.2` is `>=1.2.0`. A
/// range the semver grammar takes as it is keeps its meaning (`1.25` is `^1.25`).
pub fn lenient_range(range: &str) -> Result<VersionReq> {
    let strict_error = match VersionReq::parse(range) {
        Ok(parsed) => return Ok(parsed),
        Err(error) => error,
    };
    let rewritten: Option<Vec<String>> = range
        .split(',')
        .map(|comparator| {
            let comparator = comparator.trim();
            let version_start = comparator
                .find(|c: char| !matches!(c, '=' | '>' | '<' | '~' | '^' | ' '))
                .unwrap_or(comparator.len());
            let (operator, version) = comparator.split_at(version_start);
            lenient_version(version).map(|version| format!("{}{version}", operator.trim()))
        })
        .collect();
    rewritten
        .and_then(|comparators| VersionReq::parse(&comparators.join(", ")).ok())
        .ok_or_else(|| Error::SemverRange {
            range: range.to_owned(),
            source: strict_error,
        })
}

/// Parses a comma-separated platform list such as `linux/amd64,linux/arm64/v8`.
pub fn parse_platforms(list: &str) -> Result<Vec<Platform>> {
    list.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| item.parse::<Platform>().map_err(Error::from))
        .collect()
}

/// Whether an artifact type passes a filter list (an empty list lets everything through).
pub fn artifact_type_allowed(filter: &[MediaType], artifact_type: Option<&MediaType>) -> bool {
    filter.is_empty() || artifact_type.is_some_and(|found| filter.contains(found))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn filter(regex: Option<&str>, semver: Option<&str>) -> TagFilter {
        TagFilter::new(&TagFilterSpec {
            regex: regex.map(Into::into),
            semver: semver.map(Into::into),
        })
        .unwrap()
    }

    #[test]
    fn versions_are_read_leniently() {
        assert_eq!(lenient_version("v1.2"), Some(Version::new(1, 2, 0)));
        assert_eq!(lenient_version("3"), Some(Version::new(3, 0, 0)));
        assert_eq!(
            lenient_version("1.25.3-alpine").unwrap().pre.as_str(),
            "alpine"
        );
        for not_a_version in ["latest", "1..2", "1.2.3.4", "", "v", "1.x", "-1"] {
            assert_eq!(lenient_version(not_a_version), None, "{not_a_version}");
        }
    }

    #[test]
    fn semver_ranges_pick_release_tags() {
        let tags = ["1.0", "1.4.2", "v1.9", "2.0.0", "latest", "1.5-rc1"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            filter(None, Some(">=1.2, <2")).apply(tags.clone()),
            ["1.4.2", "v1.9"]
        );
        assert_eq!(
            filter(Some("^1\\."), None).apply(tags.clone()),
            ["1.0", "1.4.2", "1.5-rc1"]
        );
        assert_eq!(filter(Some("^v"), Some("^1")).apply(tags.clone()), ["v1.9"]);
        assert_eq!(filter(None, None).apply(tags.clone()), tags);
    }

    #[test]
    fn ranges_read_tag_shaped_versions() {
        let tags = [
            "1.25-alpine",
            "1.25.3-alpine",
            "1.26-alpine",
            "1.25",
            "latest",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            filter(None, Some("1.25-alpine")).apply(tags.clone()),
            ["1.25-alpine", "1.25"]
        );
        assert_eq!(
            filter(None, Some(">=v1.25, <1.26")).apply(tags.clone()),
            ["1.25"]
        );
        assert_eq!(
            lenient_range("1.25").unwrap(),
            VersionReq::parse("^1.25").unwrap()
        );
    }

    #[test]
    fn bad_filters_are_typed_errors() {
        let bad_regex = TagFilterSpec {
            regex: Some("(".into()),
            semver: None,
        };
        assert!(matches!(TagFilter::new(&bad_regex), Err(Error::Regex(_))));
        let bad_range = TagFilterSpec {
            regex: None,
            semver: Some(">>1".into()),
        };
        assert!(matches!(
            TagFilter::new(&bad_range),
            Err(Error::SemverRange { .. })
        ));
    }

    #[test]
    fn platform_lists_parse() {
        let platforms = parse_platforms("linux/amd64, linux/arm64/v8").unwrap();
        assert_eq!(platforms.len(), 2);
        assert_eq!(platforms[1].to_string(), "linux/arm64/v8");
        assert!(parse_platforms("linux").is_err());
    }

    #[test]
    fn artifact_filters_let_all_through_when_empty() {
        let sbom = MediaType::from("application/vnd.example.sbom");
        assert!(artifact_type_allowed(&[], None));
        assert!(artifact_type_allowed(
            std::slice::from_ref(&sbom),
            Some(&sbom)
        ));
        assert!(!artifact_type_allowed(std::slice::from_ref(&sbom), None));
    }

    proptest! {
        #[test]
        fn printed_versions_read_back(major in 0u64..1000, minor in 0u64..1000, patch in 0u64..1000, v in any::<bool>()) {
            let text = format!("{}{major}.{minor}.{patch}", if v { "v" } else { "" });
            prop_assert_eq!(lenient_version(&text), Some(Version::new(major, minor, patch)));
        }

        #[test]
        fn lenient_version_never_panics(text in "\\PC{0,20}") {
            let _ = lenient_version(&text);
        }
    }
}
