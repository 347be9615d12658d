//! Validated identifiers: repository names, tags and upload ids.
//!
//! Every value that reaches a storage key goes through one of these types first, so a path can
//! only ever be built from text that matched the distribution-spec grammar.

use std::fmt;

pub use oci_spec_types::Tag;

use crate::error::Error;

/// A repository name that matched the distribution-spec name grammar.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RepoName(String);

impl RepoName {
    /// Validates `name` (`[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/...)*`, at most 255 characters).
    pub fn parse(name: &str) -> Result<Self, Error> {
        oci_spec_types::validate_repository(name).map_err(|_| Error::NameInvalid {
            name: name.to_owned(),
        })?;
        Ok(Self(name.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name's path components (`a/b/c` gives `a`, `b`, `c`).
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Validates a tag from a request (a path segment or `?tag=`): the spec's `TAG_INVALID`
/// when it breaks the tag grammar.
pub(crate) fn parse_tag(tag: &str) -> Result<Tag, Error> {
    Tag::new(tag).map_err(|_| Error::TagInvalid {
        tag: tag.to_owned(),
    })
}

/// The id of an upload session: 32 lowercase hex characters, chosen by the server.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UploadId(String);

impl UploadId {
    const LEN: usize = 32;

    /// A fresh random id (128 bits).
    pub fn random() -> Self {
        let bits: u128 = rand::random();
        Self(format!("{bits:032x}"))
    }

    /// Accepts only ids of the shape this server hands out; anything else names no upload.
    pub fn parse(id: &str) -> Option<Self> {
        let well_formed = id.len() == Self::LEN
            && id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        well_formed.then(|| Self(id.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UploadId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn traversal_names_are_refused() {
        for bad in [
            "..", "a/../b", "/abs", "a//b", "a/./b", "%2e%2e", "a\0b", "A", "",
        ] {
            assert!(RepoName::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(RepoName::parse("a/b-c/d_e").unwrap().as_str(), "a/b-c/d_e");
    }

    #[test]
    fn tags_follow_the_grammar() {
        assert!(parse_tag("v1.0_rc-2").is_ok());
        for bad in [".hidden", "-x", "a/b", "..", ""] {
            assert!(
                matches!(parse_tag(bad), Err(Error::TagInvalid { .. })),
                "{bad:?} accepted"
            );
        }
    }

    #[test]
    fn random_upload_ids_parse_back() {
        let id = UploadId::random();
        assert_eq!(UploadId::parse(id.as_str()), Some(id));
    }

    proptest! {
        #[test]
        fn upload_id_parse_accepts_only_lowercase_hex_of_32(s in ".{0,40}") {
            let accepted = UploadId::parse(&s).is_some();
            let expected = s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            prop_assert_eq!(accepted, expected);
        }

        #[test]
        fn valid_names_never_hold_dot_segments(s in "[a-z0-9./_-]{1,30}") {
            if let Ok(name) = RepoName::parse(&s) {
                prop_assert!(name.components().all(|c| !c.is_empty() && c != "." && c != ".." && !c.starts_with('.')));
            }
        }
    }
}
