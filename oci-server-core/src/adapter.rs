//! Glue to the axum/tower world: a tower [`Service`](tower::Service) and an axum `Router`.
//! (The crate's own connection layer, [`serve`](crate::serve), needs neither.)

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;

use crate::{
    body::{BoxError, ResponseBody},
    registry::Registry,
};

/// A [`Registry`] as a `tower::Service` over any request body.
#[derive(Debug, Clone)]
pub struct RegistryService {
    registry: Registry,
}

impl RegistryService {
    /// Wraps a registry.
    pub fn new(registry: Registry) -> Self {
        Self { registry }
    }
}

impl<B> tower::Service<Request<B>> for RegistryService
where
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let registry = self.registry.clone();
        Box::pin(async move { Ok(registry.handle(request).await) })
    }
}

/// An axum `Router` answering every path with the registry; nest or merge it into a larger
/// application as needed.
pub fn router(registry: Registry) -> axum::Router {
    axum::Router::new().fallback_service(RegistryService::new(registry))
}

/// An axum `Router` answering only the probes (`/metrics`, `/healthz`, `/readyz`; 404
/// otherwise), for a listener of their own.
pub fn probe_router(registry: Registry) -> axum::Router {
    axum::Router::new().fallback(move |uri: http::Uri| {
        let registry = registry.clone();
        async move {
            registry
                .probe_or_not_found(uri.path())
                .await
                .map(axum::body::Body::new)
        }
    })
}
