//! Image references: `[registry[:port]/]repository[:tag][@digest]`.

mod parse;
mod tag;
pub mod validate;

use std::fmt;
use std::str::FromStr;

use oci_digest::Digest;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ReferenceError;
pub use parse::{DEFAULT_TAG, DOCKER_HUB, DOCKER_HUB_API_HOST};
pub use tag::Tag;
pub use validate::{NAME_TOTAL_MAX, TAG_MAX, validate_registry, validate_repository, validate_tag};

/// A parsed, normalised image reference.
///
/// Parsing follows the distribution grammar and Docker's conventions: the first
/// component is a registry when the name has several and it contains `.` or `:` or is
/// `localhost`; without one the registry is `docker.io`, where single-component names get
/// the `library/` namespace; `index.docker.io` reads as `docker.io`; the tag defaults to
/// `latest` only when there is no digest. Printing gives the normalised form, which
/// parses back to the same reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<Tag>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parses and normalises a reference.
    pub fn parse(input: &str) -> Result<Reference, ReferenceError> {
        parse::parse(input)
    }

    /// The registry, `host[:port]` (`docker.io` for Docker Hub).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository, e.g. `library/ubuntu`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag, if any (`latest` when neither tag nor digest was given).
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_ref().map(Tag::as_str)
    }

    /// The tag as a [`Tag`], if any.
    pub fn typed_tag(&self) -> Option<&Tag> {
        self.tag.as_ref()
    }

    /// The digest, if any.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// The host to send registry API requests to: `registry-1.docker.io` for Docker Hub,
    /// else the registry itself.
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API_HOST
        } else {
            &self.registry
        }
    }

    /// The `<reference>` of a manifest request: the digest when there is one (it pins the
    /// content), else the tag.
    pub fn manifest_reference(&self) -> &str {
        match (&self.digest, &self.tag) {
            (Some(digest), _) => digest.as_str(),
            (None, Some(tag)) => tag.as_str(),
            (None, None) => DEFAULT_TAG,
        }
    }

    /// The same repository with another tag (any digest is kept).
    pub fn with_tag(&self, tag: &str) -> Result<Reference, ReferenceError> {
        Ok(Reference {
            tag: Some(Tag::new(tag)?),
            ..self.clone()
        })
    }

    /// The same repository and tag, pinned to a digest.
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            digest: Some(digest),
            ..self.clone()
        }
    }
}

impl fmt::Display for Reference {
    /// Writes `registry/repository[:tag][@digest]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl FromStr for Reference {
    type Err = ReferenceError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Reference::parse(input)
    }
}

impl Serialize for Reference {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Reference {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Reference::parse(&text).map_err(serde::de::Error::custom)
    }
}
