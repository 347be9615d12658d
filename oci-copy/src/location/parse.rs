//! The text forms of a location: parsed from what users write, printed back the same way.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use oci_spec_types::{Digest, Reference};

use super::Location;
use crate::end::Selector;
use crate::error::{Error, Result};

impl FromStr for Location {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self> {
        let split = split_path;
        let empty_path = |path: &PathBuf| path.as_os_str().is_empty();
        let location = if let Some(rest) = input.strip_prefix("oci:") {
            let (path, tag) = split(rest);
            Location::Layout { path, tag }
        } else if let Some(rest) = input.strip_prefix("oci-archive:") {
            let (path, tag) = split(rest);
            Location::OciArchive { path, tag }
        } else if let Some(rest) = input.strip_prefix("docker-archive:") {
            let (path, name) = split(rest);
            Location::DockerArchive { path, name }
        } else {
            if let Some((scheme, _)) = input.split_once("://")
                && scheme != "docker"
            {
                return Err(Error::UnknownTransport {
                    input: input.to_owned(),
                    transport: scheme.to_owned(),
                });
            }
            let text = input.strip_prefix("docker://").unwrap_or(input);
            let reference =
                Reference::parse(text).map_err(|source| Error::reference(input, source))?;
            let last = text.rsplit('/').next().unwrap_or(text);
            let explicit = last.contains(':') || last.contains('@');
            return Ok(Location::Registry {
                reference,
                explicit,
            });
        };
        match &location {
            Location::Layout { path, .. }
            | Location::OciArchive { path, .. }
            | Location::DockerArchive { path, .. }
                if empty_path(path) =>
            {
                Err(Error::Unsupported {
                    end: input.to_owned(),
                    operation: "an empty path",
                })
            }
            _ => Ok(location),
        }
    }
}

/// Splits `PATH[:tag]`, `PATH@N` or `PATH@digest`; the last two keep their `@`, which
/// tells a position or digest from a tag (no tag starts with `@`).
pub(super) fn split_path(rest: &str) -> (PathBuf, Option<String>) {
    if let Some((path, chosen)) = rest.rsplit_once('@')
        && (chosen.parse::<usize>().is_ok() || Digest::parse(chosen).is_ok())
    {
        return (PathBuf::from(path), Some(format!("@{chosen}")));
    }
    match rest.split_once(':') {
        Some((path, tag)) if !tag.is_empty() => (PathBuf::from(path), Some(tag.to_owned())),
        Some((path, _)) => (PathBuf::from(path), None),
        None => (PathBuf::from(rest), None),
    }
}

/// What the part after a layout's or archive's path selects: `@N`, `@digest` or a tag.
pub(super) fn chosen_selector(chosen: &str) -> Selector {
    let Some(after_at) = chosen.strip_prefix('@') else {
        return Selector::Tag(chosen.to_owned());
    };
    match (after_at.parse::<usize>(), Digest::parse(after_at)) {
        (Ok(position), _) => Selector::Position(position),
        (_, Ok(digest)) => Selector::Digest(digest),
        _ => Selector::Tag(chosen.to_owned()),
    }
}

/// The tag or name part of a layout or archive location, unless it selects by `@`.
pub(super) fn chosen_name(chosen: &Option<String>) -> Option<&str> {
    chosen.as_deref().filter(|text| !text.starts_with('@'))
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let suffix = |tag: &Option<String>| match tag.as_deref() {
            Some(chosen) if chosen.starts_with('@') => chosen.to_owned(),
            Some(tag) => format!(":{tag}"),
            None => String::new(),
        };
        match self {
            Location::Registry { reference, .. } => write!(f, "docker://{reference}"),
            Location::Layout { path, tag } => write!(f, "oci:{}{}", path.display(), suffix(tag)),
            Location::OciArchive { path, tag } => {
                write!(f, "oci-archive:{}{}", path.display(), suffix(tag))
            }
            Location::DockerArchive { path, name } => {
                write!(f, "docker-archive:{}{}", path.display(), suffix(name))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(text: &str) -> Location {
        text.parse().unwrap()
    }

    #[test]
    fn every_form_parses() {
        assert_eq!(
            parse("oci:/tmp/x:v1"),
            Location::Layout {
                path: "/tmp/x".into(),
                tag: Some("v1".into())
            }
        );
        assert_eq!(
            parse("oci:rel"),
            Location::Layout {
                path: "rel".into(),
                tag: None
            }
        );
        assert_eq!(
            parse("oci-archive:a.tar"),
            Location::OciArchive {
                path: "a.tar".into(),
                tag: None
            }
        );
        let docker = parse("docker-archive:a.tar:team/app:1.0");
        assert_eq!(docker.target_tag().as_deref(), Some("1.0"));
        assert_eq!(docker.image_name().as_deref(), Some("team/app"));
        assert_eq!(
            parse("127.0.0.1:5000/team/app:v2").image_name().as_deref(),
            Some("127.0.0.1:5000/team/app")
        );
        assert_eq!(parse("ubuntu").image_name().as_deref(), Some("ubuntu"));
        assert_eq!(parse("team/app").image_name().as_deref(), Some("team/app"));
        let registry = parse("docker://127.0.0.1:5000/team/app:v2");
        assert_eq!(registry.selector(), Selector::Tag("v2".into()));
        assert!(registry.names_an_image());
        let bare = parse("127.0.0.1:5000/team/app");
        assert!(!bare.names_an_image());
        assert_eq!(bare.target_tag().as_deref(), Some("latest"));
        assert_eq!(bare.to_string(), "docker://127.0.0.1:5000/team/app:latest");
    }

    #[test]
    fn bad_locations_are_typed_errors() {
        assert!(matches!(
            "ftp://host/x".parse::<Location>(),
            Err(Error::UnknownTransport { .. })
        ));
        assert!(matches!(
            "oci:".parse::<Location>(),
            Err(Error::Unsupported { .. })
        ));
        assert!(matches!(
            "Upper/Case".parse::<Location>(),
            Err(Error::Reference { .. })
        ));
    }

    proptest! {
        #[test]
        fn parsing_never_panics(text in "\\PC{0,40}") {
            let _ = text.parse::<Location>();
        }

        #[test]
        fn layout_locations_print_back(path in "[a-z/]{1,12}", tag in proptest::option::of("[a-z0-9]{1,8}")) {
            let location = Location::Layout { path: PathBuf::from(&path), tag };
            prop_assert_eq!(location.to_string().parse::<Location>().unwrap(), location);
        }
    }
}
