//! One module per endpoint family. Handlers get validated route parameters and the parts of
//! the request they need, and return an answer or an [`Error`].

pub(crate) mod base;
pub(crate) mod blobs;
#[cfg(feature = "pull-through")]
mod blobs_cached;
pub(crate) mod catalog;
pub(crate) mod manifests;
pub(crate) mod referrers;
pub(crate) mod search;
pub(crate) mod tags;
pub(crate) mod uploads;

use std::sync::Arc;

use http::{HeaderMap, Response, header::CONTENT_LENGTH};

use crate::{
    auth::{Authorizer, Permissions},
    body::ResponseBody,
    config::RegistryConfig,
    error::Error,
    query::{Query, encode_value},
    store::Store,
    zero_copy::FileQueue,
};

/// What a handler answers.
pub(crate) type Answer = Result<Response<ResponseBody>, Error>;

/// The registry state every handler works with.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub store: Store,
    pub metrics: Arc<crate::observe::Metrics>,
    pub config: RegistryConfig,
    pub authorizer: Arc<dyn Authorizer>,
    /// The pull-through cache, when configured.
    #[cfg(feature = "pull-through")]
    pub cache: Option<Arc<crate::pull_through::PullThrough>>,
}

/// The parts of a request handlers read (the body travels separately, by value, to the
/// handlers that consume it).
pub(crate) struct Incoming {
    pub headers: HeaderMap,
    pub query: Query,
    /// `HEAD`: answer headers only.
    pub head: bool,
    /// What the caller may do (the gate has checked what the route itself needs).
    pub permissions: Permissions,
    /// Where the connection sends files zero-copy, when it can (plain HTTP/1.x on Linux).
    pub files: Option<FileQueue>,
}

impl Incoming {
    /// A header as text, when present and visible ASCII.
    pub fn header(&self, name: impl http::header::AsHeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The declared `Content-Length`, when present and numeric.
    pub fn content_length(&self) -> Option<u64> {
        self.header(CONTENT_LENGTH)
            .and_then(|v| v.trim().parse().ok())
    }
}

/// One page of a sorted listing: the items after `last` (exclusive), at most `n` of them, and
/// the cursor for the next page when the list was cut.
pub(crate) fn paginate<T>(
    items: Vec<T>,
    key: impl Fn(&T) -> &str,
    last: Option<&str>,
    n: Option<usize>,
) -> (Vec<T>, Option<String>) {
    let mut rest: Vec<T> = match last {
        Some(last) => items.into_iter().filter(|i| key(i) > last).collect(),
        None => items,
    };
    match n {
        Some(n) if rest.len() > n => {
            rest.truncate(n);
            let next = rest.last().map(|i| key(i).to_owned());
            (rest, next)
        }
        _ => (rest, None),
    }
}

/// A `Link: <path?params>; rel="next"` value; `params` are encoded here.
pub(crate) fn next_link(path: &str, params: &[(&str, &str)]) -> String {
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", encode_value(v)))
        .collect();
    format!("<{path}?{}>; rel=\"next\"", query.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn page(items: &[&str], last: Option<&str>, n: Option<usize>) -> (Vec<String>, Option<String>) {
        let items = items.iter().map(|s| s.to_string()).collect();
        paginate(items, |s: &String| s.as_str(), last, n)
    }

    #[test]
    fn pages() {
        let all = ["a", "b", "c", "d"];
        assert_eq!(
            page(&all, None, Some(2)),
            (vec!["a".into(), "b".into()], Some("b".into()))
        );
        assert_eq!(
            page(&all, Some("b"), Some(2)),
            (vec!["c".into(), "d".into()], None)
        );
        assert_eq!(
            page(&all, Some("b"), None),
            (vec!["c".into(), "d".into()], None)
        );
        assert_eq!(page(&all, None, Some(0)).0.len(), 0);
        assert_eq!(
            page(&all, None, Some(0)).1,
            None,
            "n=0 must not link onwards"
        );
        assert_eq!(
            next_link("/v2/a/tags/list", &[("n", "2"), ("last", "b c")]),
            "</v2/a/tags/list?n=2&last=b+c>; rel=\"next\""
        );
    }

    proptest! {
        #[test]
        fn following_links_lists_everything_once(mut items in proptest::collection::btree_set("[a-z]{1,4}", 0..30), n in 1usize..7) {
            let all: Vec<String> = std::mem::take(&mut items).into_iter().collect();
            let mut seen = Vec::new();
            let mut last: Option<String> = None;
            loop {
                let (got, next) = paginate(all.clone(), |s: &String| s.as_str(), last.as_deref(), Some(n));
                prop_assert!(got.len() <= n);
                seen.extend(got);
                match next { Some(next) => last = Some(next), None => break }
            }
            prop_assert_eq!(seen, all);
        }
    }
}
