//! `GET /v2/_catalog[?n=&last=]`: the repository list (a widely used Docker extension), of the
//! repositories the caller may pull only.

use http::{Response, StatusCode, header::LINK};
use oci_spec_types::Catalog;

use super::{Answer, Ctx, Incoming, next_link, paginate};
use crate::{
    auth::Action,
    error::Error,
    response::{json, json_media_type},
};

/// One page of repository names, in lexical order, with a `Link` to the next page when cut.
pub(crate) async fn list(ctx: &Ctx, req: &Incoming) -> Answer {
    let n = req.query.page_size()?;
    let last = req.query.get("last");
    let (repositories, next) = match n {
        Some(n) => visible_page(ctx, req, last, n).await?,
        None => paginate(
            visible_repositories(ctx, req).await?,
            String::as_str,
            last,
            n,
        ),
    };
    let mut builder = Response::builder().status(StatusCode::OK);
    if let (Some(next), Some(n)) = (next, n) {
        let link = next_link("/v2/_catalog", &[("n", &n.to_string()), ("last", &next)]);
        builder = builder.header(LINK, link);
    }
    json(builder, json_media_type(), &Catalog { repositories })
}

/// Up to `n` names after `last` that the caller may pull, read from the store page by page
/// (one page when the caller sees every name), and the `last` of the next page when cut.
async fn visible_page(
    ctx: &Ctx,
    req: &Incoming,
    last: Option<&str>,
    n: usize,
) -> Result<(Vec<String>, Option<String>), Error> {
    let account = ctx.authorizer.account_permissions(&req.permissions);
    let mut visible = Vec::new();
    let mut after = last.map(str::to_owned);
    // One more than the page tells whether another page follows.
    while visible.len() <= n {
        let (names, more) = ctx
            .store
            .repositories_page(after.as_deref(), n.saturating_add(1))
            .await?;
        after = names.last().cloned();
        visible.extend(
            names
                .into_iter()
                .filter(|name| account.actions_on(name).contains(Action::Pull)),
        );
        if !more {
            break;
        }
    }
    Ok(paginate(visible, String::as_str, None, Some(n)))
}

/// Every repository, in lexical order, on which the caller's account (not only the token of
/// this request, which may carry just the catalog scope) has `pull`: a name the caller could
/// not pull is not shown to it.
pub(crate) async fn visible_repositories(ctx: &Ctx, req: &Incoming) -> Result<Vec<String>, Error> {
    let account = ctx.authorizer.account_permissions(&req.permissions);
    let mut names = ctx.store.repositories().await?;
    names.retain(|name| account.actions_on(name).contains(Action::Pull));
    Ok(names)
}
