//! `GET /v2/_catalog[?n=]`: the repositories of a registry, every page, as a stream.

use futures_util::stream::BoxStream;
use oci_auth::{Scope, Scopes};
use oci_spec_types::Catalog;

use crate::client::Client;
use crate::endpoints::pages::{items, pages};
use crate::error::Error;

impl Client {
    /// The repositories of `registry` (`host[:port]`), asking for `page_size` per page when
    /// given and following `Link` headers to the end. Authorised with `registry:catalog:*`.
    pub fn catalog(
        &self,
        registry: &str,
        page_size: Option<usize>,
    ) -> BoxStream<'static, Result<String, Error>> {
        let first = self.transport().base_url(registry).and_then(|base| {
            let mut url = base.join("_catalog").map_err(|source| Error::Url {
                url: "_catalog".to_owned(),
                source,
            })?;
            if let Some(n) = page_size {
                url.query_pairs_mut().append_pair("n", &n.to_string());
            }
            Ok(url)
        });
        match first {
            Ok(first) => {
                let pages = pages(self, registry, Scopes::from(Scope::catalog()), first);
                items(pages, |page| Ok(page.json::<Catalog>()?.repositories))
            }
            Err(error) => Box::pin(futures_util::stream::once(async { Err(error) })),
        }
    }
}
