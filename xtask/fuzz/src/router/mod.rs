//! The router targets' machinery (`server_router`, `route_parse`): a fresh [`Registry`] over
//! [`MemoryStorage`] for every input, the requests of a [`model::Session`] (or one raw request)
//! sent to it one by one, and the checks every answer must pass. With `OCI_FUZZ_TRACE` set, every
//! request and status is printed, which shows what a crash file stands for.
//!
//! Findings, each a panic with the request and the answer in its message:
//! - any 5xx answer (the registry failed on input it should have refused or served);
//! - an answer without `Docker-Distribution-API-Version`;
//! - a body that differs from its `Content-Length`, a `HEAD` answer with a body, a body
//!   stream that fails;
//! - a `200` with `Docker-Content-Digest` whose body has another digest;
//! - a 4xx without a spec error document;
//! - a 2xx `Location` that is not a route of the API, or a `201` whose `Location` cannot be
//!   fetched at once with the digest it announced.

pub mod model;
pub mod render;

use std::num::NonZeroUsize;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Empty, Full};
use oci_digest::Digest;
use oci_server_core::{MemoryStorage, Registry, RegistryConfig, Route};
use oci_spec_types::ErrorResponse;
use tokio::runtime::Runtime;

use model::{ConfigChoice, MAX_REQUESTS, Session};
use render::History;

/// The current-thread runtime every input runs on, created once per process.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread tokio runtime starts")
    })
}

/// A registry over a new, empty [`MemoryStorage`].
pub fn registry(choice: &ConfigChoice) -> Registry {
    let mut config = RegistryConfig::default()
        .with_delete(choice.delete_enabled)
        .with_chunk_min_length(choice.chunk_min_length.map(u64::from))
        .with_referrers_page_size(
            NonZeroUsize::new(usize::from(choice.referrers_page_size)).unwrap_or(NonZeroUsize::MIN),
        )
        .with_sparse_images(!choice.require_manifest_blobs)
        .with_automatic_cross_mount(choice.automatic_cross_mount);
    if choice.small_manifest_limit {
        config = config.with_max_manifest_size(512);
    }
    Registry::new(Arc::new(MemoryStorage::new()), config)
}

/// Sends the session's requests to a fresh registry, checking every answer.
pub fn run_session(session: &Session) {
    let registry = registry(&session.config);
    runtime().block_on(async {
        let mut history = History::default();
        for choice in session.requests.iter().take(MAX_REQUESTS) {
            let Some((request, body)) = render::request(choice, &history) else {
                continue;
            };
            let sent = exchange(&registry, request).await;
            follow_created(&registry, &sent).await;
            if let Some(location) = sent.header(header::LOCATION) {
                history.locations.push(location.to_owned());
            }
            history.bodies.push(body);
        }
    });
}

/// Sends one request to a fresh default registry and checks the answer.
pub fn answer_once(request: Request<Full<Bytes>>) {
    let registry = Registry::new(Arc::new(MemoryStorage::new()), RegistryConfig::default());
    runtime().block_on(async {
        let sent = exchange(&registry, request).await;
        follow_created(&registry, &sent).await;
    });
}

/// A request and the whole answer to it.
#[derive(Debug)]
pub struct Exchange {
    /// The request's method.
    pub method: Method,
    /// The request's URI.
    pub uri: String,
    /// The answer's status.
    pub status: StatusCode,
    /// The answer's headers.
    pub headers: HeaderMap,
    /// The answer's body, read to the end.
    pub body: Bytes,
}

impl Exchange {
    /// A header as text.
    pub fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Panics with the exchange in the message.
    fn finding(&self, what: &str) -> ! {
        let body = String::from_utf8_lossy(&self.body[..self.body.len().min(600)]);
        panic!(
            "{what}\n  request: {} {}\n  answer: {} {:?}\n  body: {body}",
            self.method, self.uri, self.status, self.headers
        );
    }
}

/// Sends `request`, reads the whole answer and checks it.
pub async fn exchange<B>(registry: &Registry, request: Request<B>) -> Exchange
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<oci_server_core::BoxError>,
{
    let method = request.method().clone();
    let uri = request.uri().to_string();
    if tracing_exchanges() {
        eprintln!("> {method} {uri} {:?}", request.headers());
    }
    let (parts, body) = registry.handle(request).await.into_parts();
    let body = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => panic!("the answer's body failed: {error}\n  request: {method} {uri}"),
    };
    let exchange = Exchange {
        method,
        uri,
        status: parts.status,
        headers: parts.headers,
        body,
    };
    if tracing_exchanges() {
        eprintln!("< {}", exchange.status);
    }
    check(&exchange);
    exchange
}

/// The checks every answer must pass.
pub fn check(exchange: &Exchange) {
    let status = exchange.status;
    if status.is_server_error() {
        exchange.finding("server error");
    }
    if exchange
        .headers
        .get("docker-distribution-api-version")
        .map(|v| v.as_bytes())
        != Some(b"registry/2.0")
    {
        exchange.finding("no Docker-Distribution-API-Version: registry/2.0");
    }
    let head = exchange.method == Method::HEAD;
    if head && !exchange.body.is_empty() {
        exchange.finding("HEAD answered with a body");
    }
    if let Some(length) = exchange.header(header::CONTENT_LENGTH)
        && !head
        && length.parse::<usize>().ok() != Some(exchange.body.len())
    {
        exchange.finding("Content-Length differs from the body");
    }
    if status == StatusCode::OK
        && !head
        && let Some(digest) = exchange.header(oci_digest_header())
    {
        match Digest::parse(digest) {
            Ok(digest) if digest.verify(&exchange.body).is_ok() => {}
            _ => exchange.finding("body does not match Docker-Content-Digest"),
        }
    }
    if status.is_client_error()
        && !head
        && serde_json::from_slice::<ErrorResponse>(&exchange.body)
            .map_or(true, |document| document.errors.is_empty())
    {
        exchange.finding("4xx without an error document");
    }
    if status.is_success()
        && let Some(location) = exchange.header(header::LOCATION)
    {
        let path = location.split('?').next().unwrap_or(location);
        if Route::parse(path).is_err() {
            exchange.finding("Location is not a route of the API");
        }
    }
}

/// A `201` announces content at its `Location` with its `Docker-Content-Digest`: fetch it.
async fn follow_created(registry: &Registry, created: &Exchange) {
    if created.status != StatusCode::CREATED {
        return;
    }
    let (Some(location), Some(digest)) = (
        created.header(header::LOCATION),
        created.header(oci_digest_header()),
    ) else {
        return;
    };
    let Ok(request) = Request::get(location).body(Empty::<Bytes>::new()) else {
        created.finding("201 with a Location that is not a URI");
    };
    let fetched = exchange(registry, request).await;
    if fetched.status != StatusCode::OK || fetched.header(oci_digest_header()) != Some(digest) {
        fetched.finding(&format!(
            "content just created as {digest} cannot be fetched from its Location"
        ));
    }
}

/// `OCI_FUZZ_TRACE=1` prints every exchange: run a target binary on one input with it to see
/// the session that input stands for.
fn tracing_exchanges() -> bool {
    static TRACE: OnceLock<bool> = OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("OCI_FUZZ_TRACE").is_some())
}

fn oci_digest_header() -> header::HeaderName {
    header::HeaderName::from_static("docker-content-digest")
}
