//! [`Tag`]: a tag that has passed the tag grammar, so code holding one need not check again.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::validate_tag;
use crate::error::ReferenceError;

/// A tag, `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`: only [`Tag::new`] (or parsing) makes one, so
/// every `Tag` is valid.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(String);

impl Tag {
    /// Checks `tag` against the tag grammar.
    pub fn new(tag: &str) -> Result<Self, ReferenceError> {
        validate_tag(tag)?;
        Ok(Self(tag.to_owned()))
    }

    /// `latest`, the tag a reference with neither tag nor digest points to.
    pub fn latest() -> Self {
        Self(super::DEFAULT_TAG.to_owned())
    }

    /// The tag's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Tag {
    type Err = ReferenceError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::new(text)
    }
}

impl TryFrom<&str> for Tag {
    type Error = ReferenceError;

    fn try_from(text: &str) -> Result<Self, Self::Error> {
        Self::new(text)
    }
}

impl AsRef<str> for Tag {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Tag {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Tag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::new(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_grammatical_tags_are_made() {
        assert_eq!(Tag::new("v1.0_rc-2").unwrap().as_str(), "v1.0_rc-2");
        for bad in ["", ".hidden", "-x", "a/b", "a:b", &"x".repeat(129)] {
            assert!(Tag::new(bad).is_err(), "{bad:?}");
        }
        assert!(serde_json::from_str::<Tag>("\"ok\"").is_ok());
        assert!(serde_json::from_str::<Tag>("\"not ok\"").is_err());
    }
}
