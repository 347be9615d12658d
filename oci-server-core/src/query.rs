//! Query strings: decoded once, read by name.

use crate::error::Error;

/// The decoded `key=value` pairs of a request's query, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Decodes `application/x-www-form-urlencoded` text (`None` gives an empty query).
    pub fn parse(query: Option<&str>) -> Self {
        let pairs = query
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Self { pairs }
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`, in order (`?tag=a&tag=b`).
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The page size `n`, when given; a value that is not a non-negative integer is refused.
    pub fn page_size(&self) -> Result<Option<usize>, Error> {
        self.get("n")
            .map(|n| {
                n.parse::<usize>().map_err(|_| Error::QueryInvalid {
                    parameter: "n",
                    value: n.to_owned(),
                })
            })
            .transpose()
    }
}

/// Percent-encodes a query value (for the `Link` headers this server writes).
pub fn encode_value(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_and_repeats() {
        let q = Query::parse(Some("tag=a&tag=b&from=x%2Fy&digest=sha256%3Aab&n=5"));
        assert_eq!(q.all("tag").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(q.get("from"), Some("x/y"));
        assert_eq!(q.get("digest"), Some("sha256:ab"));
        assert_eq!(q.page_size().unwrap(), Some(5));
        assert!(Query::parse(Some("n=-1")).page_size().is_err());
        assert_eq!(Query::parse(None).get("n"), None);
    }

    proptest! {
        #[test]
        fn encoded_values_decode_back(value in ".{0,30}") {
            let q = Query::parse(Some(&format!("k={}", encode_value(&value))));
            prop_assert_eq!(q.get("k"), Some(value.as_str()));
        }
    }
}
