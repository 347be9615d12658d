//! `GET /v2/_catalog[?n=&last=]`: the repository list (a widely used Docker extension).

use http::{Response, StatusCode, header::LINK};
use oci_spec_types::Catalog;

use super::{Answer, Ctx, Incoming, next_link, paginate};
use crate::response::{json, json_media_type};

/// One page of repository names, in lexical order, with a `Link` to the next page when cut.
pub(crate) async fn list(ctx: &Ctx, req: &Incoming) -> Answer {
    let n = req.query.page_size()?;
    let names = ctx.store.repositories().await?;
    let (repositories, next) = paginate(names, String::as_str, req.query.get("last"), n);
    let mut builder = Response::builder().status(StatusCode::OK);
    if let (Some(next), Some(n)) = (next, n) {
        let link = next_link("/v2/_catalog", &[("n", &n.to_string()), ("last", &next)]);
        builder = builder.header(LINK, link);
    }
    json(builder, json_media_type(), &Catalog { repositories })
}
