//! What requests address: a [`Repository`] on a registry, and a [`ManifestReference`] in it.

use std::fmt;
use std::str::FromStr;

use oci_digest::Digest;
use oci_spec_types::reference::validate_registry;
use oci_spec_types::{Reference, ReferenceError, Tag, validate_repository};

/// A repository on a registry: `registry` is the API host (`host[:port]`), `name` the
/// repository (`library/alpine`). Both are validated, so they are safe to put in a URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Repository {
    registry: String,
    name: String,
}

impl Repository {
    /// A repository, checked against the distribution spec's grammars.
    pub fn new(registry: &str, name: &str) -> Result<Repository, ReferenceError> {
        validate_registry(registry)?;
        validate_repository(name)?;
        Ok(Repository {
            registry: registry.to_owned(),
            name: name.to_owned(),
        })
    }

    /// The registry host requests go to, `host[:port]`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl From<&Reference> for Repository {
    /// The reference's repository on its API host (`registry-1.docker.io` for Docker Hub).
    fn from(reference: &Reference) -> Self {
        Repository {
            registry: reference.api_host().to_owned(),
            name: reference.repository().to_owned(),
        }
    }
}

impl FromStr for Repository {
    type Err = ReferenceError;

    /// `[registry[:port]/]name`, normalised as image references are (`alpine` is
    /// `library/alpine` on Docker Hub, whose API host `registry-1.docker.io` is used). A tag
    /// or digest is refused: a repository has none.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let last = text.rsplit('/').next().unwrap_or(text);
        if text.contains('@') || last.contains(':') {
            return Err(ReferenceError::InvalidRepository {
                repository: text.to_owned(),
            });
        }
        Reference::parse(text).map(|reference| Repository::from(&reference))
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.name)
    }
}

/// The `<reference>` of a manifest request: a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ManifestReference {
    /// A tag (valid by construction).
    Tag(Tag),
    /// A digest.
    Digest(Digest),
}

impl ManifestReference {
    /// A tag reference, checked against the tag grammar.
    pub fn tag(tag: &str) -> Result<ManifestReference, ReferenceError> {
        Tag::new(tag).map(ManifestReference::Tag)
    }

    /// The digest, for a digest reference.
    pub fn digest(&self) -> Option<&Digest> {
        match self {
            ManifestReference::Digest(digest) => Some(digest),
            ManifestReference::Tag(_) => None,
        }
    }

    /// The text that goes into the URL.
    pub fn as_str(&self) -> &str {
        match self {
            ManifestReference::Tag(tag) => tag.as_str(),
            ManifestReference::Digest(digest) => digest.as_str(),
        }
    }
}

impl From<&ManifestReference> for ManifestReference {
    fn from(reference: &ManifestReference) -> Self {
        reference.clone()
    }
}

impl TryFrom<&str> for ManifestReference {
    type Error = ReferenceError;

    /// As [`FromStr`]: a digest when the text holds a `:`, else a tag.
    fn try_from(text: &str) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Digest> for ManifestReference {
    fn from(digest: Digest) -> Self {
        ManifestReference::Digest(digest)
    }
}

impl From<&Reference> for ManifestReference {
    /// The digest when the reference has one (it pins the content), else the tag (a
    /// reference without a digest always has one).
    fn from(reference: &Reference) -> Self {
        match (reference.digest(), reference.typed_tag()) {
            (Some(digest), _) => ManifestReference::Digest(digest.clone()),
            (None, Some(tag)) => ManifestReference::Tag(tag.clone()),
            (None, None) => ManifestReference::Tag(Tag::latest()),
        }
    }
}

impl From<Tag> for ManifestReference {
    fn from(tag: Tag) -> Self {
        ManifestReference::Tag(tag)
    }
}

impl FromStr for ManifestReference {
    type Err = ReferenceError;

    /// A digest when the text holds a `:` (tags cannot), else a tag.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if text.contains(':') {
            Digest::parse(text)
                .map(ManifestReference::Digest)
                .map_err(ReferenceError::InvalidDigest)
        } else {
            ManifestReference::tag(text)
        }
    }
}

impl fmt::Display for ManifestReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn repositories_come_from_references() {
        let reference = Reference::parse("127.0.0.1:5000/team/app:v1").unwrap();
        let repository = Repository::from(&reference);
        assert_eq!(repository.registry(), "127.0.0.1:5000");
        assert_eq!(repository.name(), "team/app");
        assert_eq!(repository.to_string(), "127.0.0.1:5000/team/app");
        assert_eq!(
            ManifestReference::from(&reference),
            ManifestReference::tag("v1").unwrap()
        );
        let hub = Reference::parse("alpine").unwrap();
        assert_eq!(Repository::from(&hub).registry(), "registry-1.docker.io");
    }

    #[test]
    fn repositories_parse_from_text() {
        let parsed: Repository = "127.0.0.1:5000/team/app".parse().unwrap();
        assert_eq!(
            parsed,
            Repository::new("127.0.0.1:5000", "team/app").unwrap()
        );
        let hub: Repository = "alpine".parse().unwrap();
        assert_eq!(hub.to_string(), "registry-1.docker.io/library/alpine");
        for bad in [
            "r.example/app:v1",
            "r.example/app@sha256:00",
            "",
            "r.example/Upper",
        ] {
            assert!(bad.parse::<Repository>().is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_names_are_refused() {
        assert!(Repository::new("r.example", "Upper").is_err());
        assert!(Repository::new("r.example", "a/../b").is_err());
        assert!(Repository::new("bad host/x", "a").is_err());
        assert!(Repository::new("r.example:5000", "a/b").is_ok());
    }

    #[test]
    fn references_parse_as_tag_or_digest() {
        let digest = Digest::compute(b"x");
        assert_eq!(
            digest.as_str().parse::<ManifestReference>().unwrap(),
            ManifestReference::Digest(digest)
        );
        assert_eq!(
            "v1.0".parse::<ManifestReference>().unwrap(),
            ManifestReference::tag("v1.0").unwrap()
        );
        assert!("sha256:short".parse::<ManifestReference>().is_err());
        assert!(".bad".parse::<ManifestReference>().is_err());
    }

    proptest! {
        #[test]
        fn reference_parsing_never_panics_and_round_trips(text in any::<String>()) {
            if let Ok(reference) = text.parse::<ManifestReference>() {
                prop_assert_eq!(reference.to_string(), text);
            }
        }
    }
}
