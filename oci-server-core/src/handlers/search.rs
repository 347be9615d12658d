//! `GET /v1/search?q=&n=&page=`: the legacy registry search Docker clients still call
//! (`docker search HOST/term`, podman's first try), answered in the Docker Hub format over the
//! repositories the caller may pull whose name contains the query.
//!
//! The registry keeps no descriptions, stars or official/automated marks, so those fields are
//! empty, zero and false; they are there because clients read them.

use std::num::NonZeroUsize;

use http::{Response, StatusCode};
use serde::Serialize;

use super::{Answer, Ctx, Incoming, catalog::visible_repositories};
use crate::{
    error::Error,
    response::{json, json_media_type},
};

/// Results per page when `n` is not given (Docker Hub's default).
const DEFAULT_PAGE_SIZE: usize = 25;
/// The largest page size served; larger `n` are cut to it (as Docker Hub does).
const MAX_PAGE_SIZE: usize = 100;

/// One page of results.
#[derive(Debug, Serialize)]
struct SearchAnswer {
    num_results: usize,
    num_pages: usize,
    page: usize,
    page_size: usize,
    query: String,
    results: Vec<SearchResult>,
}

/// One repository found.
#[derive(Debug, Serialize)]
struct SearchResult {
    name: String,
    description: String,
    star_count: u64,
    is_official: bool,
    is_automated: bool,
}

/// Searches the repositories the caller may pull.
pub(crate) async fn search(ctx: &Ctx, req: &Incoming) -> Answer {
    let query = req.query.get("q").unwrap_or_default().trim().to_owned();
    let page_size = positive(req, "n")?.map_or(DEFAULT_PAGE_SIZE, |n| n.get().min(MAX_PAGE_SIZE));
    let page = positive(req, "page")?.map_or(1, NonZeroUsize::get);
    let needle = query.to_lowercase();
    let mut found = visible_repositories(ctx, req).await?;
    found.retain(|name| name.contains(&needle));
    let num_results = found.len();
    let results = found
        .into_iter()
        .skip((page - 1).saturating_mul(page_size))
        .take(page_size)
        .map(|name| SearchResult {
            name,
            description: String::new(),
            star_count: 0,
            is_official: false,
            is_automated: false,
        })
        .collect();
    let answer = SearchAnswer {
        num_results,
        num_pages: num_results.div_ceil(page_size),
        page,
        page_size,
        query,
        results,
    };
    json(
        Response::builder().status(StatusCode::OK),
        json_media_type(),
        &answer,
    )
}

/// A query parameter that must be a positive integer when given.
fn positive(req: &Incoming, parameter: &'static str) -> Result<Option<NonZeroUsize>, Error> {
    req.query
        .get(parameter)
        .map(|text| {
            text.parse::<NonZeroUsize>()
                .map_err(|_| Error::QueryInvalid {
                    parameter,
                    value: text.to_owned(),
                })
        })
        .transpose()
}
