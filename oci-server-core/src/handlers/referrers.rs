//! `GET /v2/<name>/referrers/<digest>[?artifactType=]` (end-12).

use http::{Response, StatusCode, header::LINK};
use oci_digest::Digest;
use oci_spec_types::{ImageIndex, MediaType};

use super::{Answer, Ctx, Incoming, next_link, paginate};
use crate::{
    names::RepoName,
    response::{OCI_FILTERS_APPLIED, json},
};

/// The referrers index of `subject`: always 200 (an unknown subject has no referrers), filtered
/// by `artifactType` when asked (and saying so in `OCI-Filters-Applied`), paginated with `Link`.
pub(crate) async fn list(ctx: &Ctx, name: RepoName, subject: Digest, req: &Incoming) -> Answer {
    let page_size = req
        .query
        .page_size()?
        .unwrap_or(ctx.config.referrers_page_size.get())
        .clamp(1, ctx.config.referrers_page_size.get());
    let filter = req.query.get("artifactType").filter(|t| !t.is_empty());
    let mut descriptors = ctx.store.referrers(&name, &subject).await?;
    if let Some(wanted) = filter {
        descriptors.retain(|d| d.artifact_type.as_ref().map(MediaType::as_str) == Some(wanted));
    }
    let (page, next) = paginate(
        descriptors,
        |d| d.digest.as_str(),
        req.query.get("last"),
        Some(page_size),
    );
    let mut builder = Response::builder().status(StatusCode::OK);
    if filter.is_some() {
        builder = builder.header(OCI_FILTERS_APPLIED, "artifactType");
    }
    if let Some(next) = &next {
        let mut params = Vec::from_iter(filter.map(|wanted| ("artifactType", wanted)));
        params.push(("last", next));
        let path = format!("/v2/{name}/referrers/{subject}");
        builder = builder.header(LINK, next_link(&path, &params));
    }
    let index = ImageIndex::referrers(page);
    json(builder, MediaType::OciImageIndex.as_str(), &index)
}
