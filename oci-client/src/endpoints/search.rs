//! `GET /v1/search?q=&n=`: the legacy registry search (outside the distribution spec) that
//! `docker search` and `podman search` call, where a registry still offers it.

use http::{Method, StatusCode};
use oci_auth::{Scope, Scopes};
use serde::Deserialize;

use crate::client::Client;
use crate::error::Error;
use crate::request::Request;

/// The bytes of a search answer read at most: a page of names, not a download.
const MAX_SEARCH_BODY: u64 = 4 << 20;

/// One page of a `/v1/search` answer; only the names are read.
#[derive(Debug, Deserialize)]
struct SearchPage {
    #[serde(default)]
    results: Vec<SearchResult>,
}

/// One repository found.
#[derive(Debug, Deserialize)]
struct SearchResult {
    name: String,
}

impl Client {
    /// The names of the repositories of `registry` (`host[:port]`) that its `/v1/search`
    /// finds for `term`, at most `limit` of them (the first page the registry answers with).
    /// `None` when the registry has no such endpoint (it answers `404`, as distribution
    /// does); callers then filter the catalog, as podman does. Authorised with
    /// `registry:catalog:search`.
    pub async fn search(
        &self,
        registry: &str,
        term: &str,
        limit: usize,
    ) -> Result<Option<Vec<String>>, Error> {
        let base = self.transport().base_url(registry)?;
        let mut url = base.join("/v1/search").map_err(|source| Error::Url {
            url: "/v1/search".to_owned(),
            source,
        })?;
        url.query_pairs_mut()
            .append_pair("q", term)
            .append_pair("n", &limit.to_string());
        let scopes = Scopes::from(Scope::search());
        let request = Request::new(Method::GET, url.clone(), registry, scopes);
        let response = self.transport().send(request).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let body = response
            .expect(&[StatusCode::OK])
            .await?
            .bytes_capped(MAX_SEARCH_BODY)
            .await?;
        let page: SearchPage = serde_json::from_slice(&body).map_err(|source| Error::Json {
            url: url.to_string(),
            source,
        })?;
        Ok(Some(
            page.results
                .into_iter()
                .map(|result| result.name)
                .take(limit)
                .collect(),
        ))
    }
}
