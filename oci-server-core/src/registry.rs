//! The framework-agnostic [`Registry`]: an `http::Request` with a streaming body in, an
//! `http::Response<ResponseBody>` out.

use std::{path::PathBuf, sync::Arc};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, header::HOST};
use http_body::Body;

use crate::{
    auth::{Anonymous, Authorizer},
    body::{BoxError, ByteStream, ResponseBody, request_stream},
    config::RegistryConfig,
    error::Error,
    gate,
    handlers::{self, Answer, Ctx, Incoming},
    names::UploadId,
    observe::{MeteredStorage, Metrics, Probe, REQUEST_ID, RequestRecord},
    operation::Operation,
    query::Query,
    response::{API_VERSION, API_VERSION_VALUE, error_response},
    routes::Route,
    storage::{FsStorage, Storage},
    store::Store,
    zero_copy::FileQueue,
};

/// An OCI distribution registry over any [`Storage`]. Cheap to clone (shared state).
#[derive(Debug, Clone)]
pub struct Registry {
    ctx: Arc<Ctx>,
}

impl Registry {
    /// A registry over `storage`, open to everyone (see [`with_authorizer`](Self::with_authorizer)).
    pub fn new(storage: Arc<dyn Storage>, config: RegistryConfig) -> Self {
        let metrics = Arc::new(Metrics::new());
        let storage = Arc::new(MeteredStorage::new(storage, Arc::clone(&metrics)));
        Self {
            ctx: Arc::new(Ctx {
                store: Store::with_liveness_refresh(storage, config.liveness_refresh)
                    .with_upload_limits(config.upload_limits),
                metrics,
                config,
                authorizer: Arc::new(Anonymous),
                #[cfg(feature = "pull-through")]
                cache: None,
            }),
        }
    }

    /// The same registry, deciding who may do what with `authorizer`.
    pub fn with_authorizer(self, authorizer: Arc<dyn Authorizer>) -> Self {
        Self {
            ctx: Arc::new(Ctx {
                store: self.ctx.store.clone(),
                metrics: Arc::clone(&self.ctx.metrics),
                config: self.ctx.config.clone(),
                authorizer,
                #[cfg(feature = "pull-through")]
                cache: self.ctx.cache.clone(),
            }),
        }
    }

    /// The same registry, mirroring upstream registries through `cache`.
    #[cfg(feature = "pull-through")]
    pub fn with_pull_through(self, cache: Arc<crate::pull_through::PullThrough>) -> Self {
        Self {
            ctx: Arc::new(Ctx {
                store: self.ctx.store.clone(),
                metrics: Arc::clone(&self.ctx.metrics),
                config: self.ctx.config.clone(),
                authorizer: Arc::clone(&self.ctx.authorizer),
                cache: Some(cache),
            }),
        }
    }

    /// The storage backend.
    pub fn storage(&self) -> Arc<dyn Storage> {
        self.ctx.store.storage_arc()
    }

    /// A registry on a filesystem store at `root` (created when missing).
    pub async fn open_fs(root: impl Into<PathBuf>, config: RegistryConfig) -> Result<Self, Error> {
        let storage = FsStorage::open(root).await?;
        Ok(Self::new(Arc::new(storage), config))
    }

    /// The metrics this registry keeps (also served at `/metrics`).
    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.ctx.metrics)
    }

    /// Answers a probe path (`/metrics`, `/healthz`, `/readyz`), for a listener of its own;
    /// `None` for any other path.
    pub async fn handle_probe(&self, path: &str) -> Option<Response<ResponseBody>> {
        let probe = Probe::of(path)?;
        Some(probe.answer(&self.ctx.store, &self.ctx.metrics).await)
    }

    /// [`handle_probe`](Self::handle_probe)'s answer, or an empty 404 for any other path:
    /// what a listener that serves only the probes sends.
    #[cfg(any(feature = "serve", feature = "axum"))]
    pub(crate) async fn probe_or_not_found(&self, path: &str) -> Response<ResponseBody> {
        match self.handle_probe(path).await {
            Some(answer) => answer,
            None => {
                let mut missing = Response::new(ResponseBody::empty());
                *missing.status_mut() = http::StatusCode::NOT_FOUND;
                missing
            }
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &RegistryConfig {
        &self.ctx.config
    }

    /// Answers one request. Never fails: every error becomes its spec error answer. The
    /// answer carries an `X-Request-Id`; its access-log line and metrics are written once its
    /// body has been sent (or dropped).
    pub async fn handle<B>(&self, request: Request<B>) -> Response<ResponseBody>
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let (mut parts, body) = request.into_parts();
        host_from_authority(&mut parts);
        let (mut record, body) = RequestRecord::start(
            Arc::clone(&self.ctx.metrics),
            &parts.method,
            request_stream(body),
        );
        let head = parts.method == Method::HEAD;
        let mut response = self.answer(parts, body, &mut record).await;
        if head {
            // Handlers answer HEAD as GET where the body is small JSON; the headers (including
            // Content-Length) stay, the body never goes out, whatever server embeds us.
            *response.body_mut() = ResponseBody::empty();
        }
        let headers = response.headers_mut();
        headers.insert(API_VERSION, API_VERSION_VALUE);
        headers.insert(REQUEST_ID, record.id_header());
        record.set_status(response.status().as_u16());
        response.map(|body| body.recorded(record))
    }

    /// The answer to a request outside the API (probes, the token endpoint) or inside it.
    async fn answer(
        &self,
        mut parts: http::request::Parts,
        body: ByteStream<'static>,
        record: &mut RequestRecord,
    ) -> Response<ResponseBody> {
        let path = parts.uri.path();
        if self.ctx.config.probes
            && let Some(probe) = Probe::of(path)
        {
            record.set_route_label(probe.label());
            return probe.answer(&self.ctx.store, &self.ctx.metrics).await;
        }
        let authorizer = self.ctx.authorizer.as_ref();
        if authorizer.endpoint() == Some(path) {
            record.set_route_label("token");
            return authorizer
                .serve_endpoint(Request::from_parts(parts, body))
                .await;
        }
        let head = parts.method == Method::HEAD;
        let answer = match Route::parse(path) {
            Ok(route) => {
                record.set_route(&route);
                self.run(route, &mut parts, body, record).await
            }
            Err(err) => Err(err),
        };
        answer.unwrap_or_else(|err| {
            if err.status().is_server_error() {
                tracing::error!(error = ?err, method = %parts.method, uri = %parts.uri, request_id = %record.id, "request failed");
            } else {
                tracing::debug!(error = %err, method = %parts.method, uri = %parts.uri, request_id = %record.id, "request refused");
            }
            error_response(&err, head)
        })
    }

    /// Decides the request's [`Operation`], lets it through the gate and runs it. The
    /// handlers get the head's headers (taken out of `parts`, which keeps method and URI for
    /// the log line).
    async fn run(
        &self,
        route: Route,
        parts: &mut http::request::Parts,
        body: ByteStream<'static>,
        record: &mut RequestRecord,
    ) -> Answer {
        let operation = Operation::of(route, &parts.method, self.ctx.config.delete_enabled)?;
        let permissions =
            gate::admit(self.ctx.authorizer.as_ref(), &parts.headers, &operation).await?;
        record.set_user(permissions.subject());
        let incoming = Incoming {
            headers: std::mem::take(&mut parts.headers),
            query: Query::parse(parts.uri.query()),
            head: parts.method == Method::HEAD,
            permissions,
            files: parts.extensions.get::<FileQueue>().cloned(),
        };
        self.dispatch(operation, incoming, body).await
    }

    async fn dispatch(
        &self,
        operation: Operation,
        req: Incoming,
        body: ByteStream<'static>,
    ) -> Answer {
        use handlers::{base, blobs, catalog, manifests, referrers, search, tags, uploads};
        let ctx = self.ctx.as_ref();
        // An id this server could not have handed out names no upload.
        let known = |id: Result<UploadId, String>| id.map_err(|id| Error::UploadUnknown { id });
        match operation {
            Operation::Version => base::version(),
            Operation::Catalog => catalog::list(ctx, &req).await,
            Operation::Search => search::search(ctx, &req).await,
            Operation::BlobGet { name, digest } => blobs::get(ctx, name, digest, &req).await,
            Operation::BlobDelete { name, digest } => blobs::delete(ctx, name, digest).await,
            Operation::UploadStart { name } => uploads::start(ctx, name, &req, body).await,
            Operation::UploadStatus { name, id } => uploads::status(ctx, name, known(id)?).await,
            Operation::UploadPatch { name, id } => {
                uploads::patch(ctx, name, known(id)?, &req, body).await
            }
            Operation::UploadFinish { name, id } => {
                uploads::finish(ctx, name, known(id)?, &req, body).await
            }
            Operation::UploadCancel { name, id } => uploads::cancel(ctx, name, known(id)?).await,
            Operation::ManifestGet { name, reference } => {
                manifests::get(ctx, name, reference, &req).await
            }
            Operation::ManifestPut { name, reference } => {
                manifests::put(ctx, name, reference, &req, body).await
            }
            Operation::ManifestDelete { name, reference } => {
                manifests::delete(ctx, name, reference).await
            }
            Operation::TagList { name } => tags::list(ctx, name, &req).await,
            Operation::Referrers { name, digest } => referrers::list(ctx, name, digest, &req).await,
        }
    }
}

/// An HTTP/2 request names its host in the `:authority` pseudo-header (the URI), not in
/// `Host`; the absolute URLs the registry hands out (the token realm) read `Host`.
fn host_from_authority(parts: &mut http::request::Parts) {
    if parts.headers.contains_key(HOST) {
        return;
    }
    if let Some(host) = parts
        .uri
        .authority()
        .and_then(|authority| HeaderValue::from_str(authority.as_str()).ok())
    {
        parts.headers.insert(HOST, host);
    }
}
