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
    let all = all_tags(ctx, &name).await?;
    let (tags, next) = paginate(all, String::as_str, req.query.get("last"), n);
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

/// Every tag of the repository: upstream's list for a mirrored repository (the cache's when
/// upstream cannot answer), else the store's.
async fn all_tags(ctx: &Ctx, name: &RepoName) -> Result<Vec<String>, Error> {
    let unknown = || Error::NameUnknown {
        name: name.to_string(),
    };
    #[cfg(feature = "pull-through")]
    if let Some(cache) = &ctx.cache {
        use crate::pull_through::Upstream;
        match cache.upstream_tags(name).await {
            Some(Upstream::Answered(tags)) => return Ok(tags),
            Some(Upstream::Unknown) => return Err(unknown()),
            Some(Upstream::Unavailable) | None => {}
        }
    }
    if !ctx.store.repository_exists(name).await? {
        return Err(unknown());
    }
    ctx.store.tags(name).await
}
