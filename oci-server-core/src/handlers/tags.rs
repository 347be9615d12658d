//! `GET /v2/<name>/tags/list[?n=&last=]` (end-8).

use http::{Response, StatusCode, header::LINK};
use oci_spec_types::TagList;

use super::{Answer, Ctx, Incoming, next_link, paginate};
use crate::{
    error::Error,
    names::RepoName,
    response::{json, json_media_type},
};

/// One page of tags in lexical order; `n=0` answers an empty list without `Link`.
pub(crate) async fn list(ctx: &Ctx, name: RepoName, req: &Incoming) -> Answer {
    let n = req.query.page_size()?;
    let last = req.query.get("last");
    let (tags, next) = match (mirrored_tags(ctx, &name).await?, n) {
        (Some(all), _) => paginate(all, String::as_str, last, n),
        (None, Some(n)) => stored_page(ctx, &name, last, n).await?,
        (None, None) => paginate(stored_tags(ctx, &name).await?, String::as_str, last, n),
    };
    let mut builder = Response::builder().status(StatusCode::OK);
    if let (Some(next), Some(n)) = (next, n) {
        let path = format!("/v2/{name}/tags/list");
        builder = builder.header(
            LINK,
            next_link(&path, &[("n", &n.to_string()), ("last", &next)]),
        );
    }
    let list = TagList {
        name: name.to_string(),
        tags,
    };
    json(builder, json_media_type(), &list)
}

/// One page of the store's tags, read from the page's start (not the whole list), and the
/// `last` of the next page when there is one.
async fn stored_page(
    ctx: &Ctx,
    name: &RepoName,
    last: Option<&str>,
    n: usize,
) -> Result<(Vec<String>, Option<String>), Error> {
    let (page, more) = match n {
        0 => (Vec::new(), false),
        n => ctx.store.tags_page(name, last, n).await?,
    };
    // An empty page may be an unknown repository; a full one cannot be.
    if page.is_empty() && !ctx.store.repository_exists(name).await? {
        return Err(unknown(name));
    }
    let next = more.then(|| page.last().cloned()).flatten();
    Ok((page, next))
}

/// Every tag the store holds for `name`.
async fn stored_tags(ctx: &Ctx, name: &RepoName) -> Result<Vec<String>, Error> {
    if !ctx.store.repository_exists(name).await? {
        return Err(unknown(name));
    }
    ctx.store.tags(name).await
}

fn unknown(name: &RepoName) -> Error {
    Error::NameUnknown {
        name: name.to_string(),
    }
}

/// Upstream's tags for a mirrored repository (`None`: not mirrored, or upstream cannot
/// answer, so the store's tags are the answer).
#[cfg_attr(not(feature = "pull-through"), allow(clippy::unused_async))]
async fn mirrored_tags(ctx: &Ctx, name: &RepoName) -> Result<Option<Vec<String>>, Error> {
    #[cfg(feature = "pull-through")]
    if let Some(cache) = &ctx.cache {
        use crate::pull_through::Upstream;
        match cache.upstream_tags(name).await {
            Some(Upstream::Answered(tags)) => return Ok(Some(tags)),
            Some(Upstream::Unknown) => return Err(unknown(name)),
            Some(Upstream::Unavailable) | None => {}
        }
    }
    #[cfg(not(feature = "pull-through"))]
    let _ = (ctx, name);
    Ok(None)
}
