//! Tag lists (`GET /v2/<name>/tags/list`) and the catalog (`GET /v2/_catalog`).

use serde::{Deserialize, Deserializer, Serialize};

/// The body of a tag list answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagList {
    /// The repository.
    pub name: String,
    /// Its tags, in lexical order. Some registries write `null` for none; that reads as empty.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub tags: Vec<String>,
}

/// The body of a catalog answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    /// Repository names, in lexical order. `null` reads as empty.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub repositories: Vec<String>,
}

fn null_as_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    Option::<Vec<String>>::deserialize(deserializer).map(Option::unwrap_or_default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_and_missing_lists_read_as_empty() {
        let tags: TagList = serde_json::from_str(r#"{"name":"a/b","tags":null}"#).unwrap();
        assert_eq!(
            tags,
            TagList {
                name: "a/b".into(),
                tags: vec![]
            }
        );
        let catalog: Catalog = serde_json::from_str("{}").unwrap();
        assert!(catalog.repositories.is_empty());
    }

    #[test]
    fn lists_write_in_the_spec_shape() {
        let tags = TagList {
            name: "a".into(),
            tags: vec!["1".into(), "latest".into()],
        };
        assert_eq!(
            serde_json::to_string(&tags).unwrap(),
            r#"{"name":"a","tags":["1","latest"]}"#
        );
        let catalog = Catalog {
            repositories: vec!["a".into()],
        };
        assert_eq!(
            serde_json::to_string(&catalog).unwrap(),
            r#"{"repositories":["a"]}"#
        );
    }
}
