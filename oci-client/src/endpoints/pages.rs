//! Paginated lists (tags, catalog, referrers): follow the `Link: <...>; rel="next"` header
//! from page to page, as a stream, stopping if a link leads back to a page already read.

use std::collections::HashSet;

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use http::{HeaderMap, Method, StatusCode};
use oci_auth::Scopes;
use serde::de::DeserializeOwned;
use url::Url;

use crate::client::Client;
use crate::error::Error;
use crate::headers::next_link;
use crate::request::Request;

/// One page as it came.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl Page {
    /// The body decoded as JSON.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|source| Error::Json {
            url: self.url.to_string(),
            source,
        })
    }
}

/// Where the walk stands.
struct Cursor {
    client: Client,
    registry: String,
    scopes: Scopes,
    next: Url,
    seen: HashSet<String>,
}

/// The pages from `first` on. An error ends the stream.
pub(crate) fn pages(
    client: &Client,
    registry: &str,
    scopes: Scopes,
    first: Url,
) -> impl Stream<Item = Result<Page, Error>> + Send + 'static {
    let cursor = Cursor {
        client: client.clone(),
        registry: registry.to_owned(),
        scopes,
        next: first,
        seen: HashSet::new(),
    };
    futures_util::stream::unfold(Some(cursor), |cursor| async move {
        let mut cursor = cursor?;
        if !cursor.seen.insert(cursor.next.to_string()) {
            let url = cursor.next.to_string();
            return Some((Err(Error::PaginationLoop { url }), None));
        }
        match fetch(&cursor).await {
            Ok((page, next)) => {
                let cursor = next.map(|next| Cursor { next, ..cursor });
                Some((Ok(page), cursor))
            }
            Err(error) => Some((Err(error), None)),
        }
    })
}

/// The items of every page, as `parse` reads them from each.
pub(crate) fn items<T: Send + 'static>(
    pages: impl Stream<Item = Result<Page, Error>> + Send + 'static,
    parse: fn(Page) -> Result<Vec<T>, Error>,
) -> BoxStream<'static, Result<T, Error>> {
    pages
        .flat_map(move |page| {
            let items: Vec<Result<T, Error>> = match page.and_then(parse) {
                Ok(items) => items.into_iter().map(Ok).collect(),
                Err(error) => vec![Err(error)],
            };
            futures_util::stream::iter(items)
        })
        .boxed()
}

/// One page and the link to the next.
async fn fetch(cursor: &Cursor) -> Result<(Page, Option<Url>), Error> {
    let request = Request::new(
        Method::GET,
        cursor.next.clone(),
        &cursor.registry,
        cursor.scopes.clone(),
    );
    let response = cursor
        .client
        .transport()
        .send(request)
        .await?
        .expect(&[StatusCode::OK])
        .await?;
    let next = match response.header("link")?.and_then(next_link) {
        Some(link) => Some(response.url().join(link).map_err(|source| Error::Url {
            url: link.to_owned(),
            source,
        })?),
        None => None,
    };
    let headers = response.headers().clone();
    let body = response
        .bytes_capped(cursor.client.config().max_manifest_size())
        .await?;
    let page = Page {
        url: cursor.next.clone(),
        headers,
        body,
    };
    Ok((page, next))
}
