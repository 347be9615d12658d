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
    let names = visible_repositories(ctx, req).await?;
    let (repositories, next) = paginate(names, String::as_str, req.query.get("last"), n);
    let mut builder = Response::builder().status(StatusCode::OK);
    if let (Some(next), Some(n)) = (next, n) {
        let link = next_link("/v2/_catalog", &[("n", &n.to_string()), ("last", &next)]);
        builder = builder.header(LINK, link);
    }
    json(builder, json_media_type(), &Catalog { repositories })
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
