//! One access-log line and one set of request metrics per request, written when the answer's
//! body has been sent whole or abandoned, so they carry the bytes that really went out.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use futures_util::TryStreamExt;
use http::HeaderValue;

use super::Metrics;
use crate::{body::ByteStream, routes::Route};

/// The header carrying a request's id back to the client.
pub const REQUEST_ID: &str = "x-request-id";

/// What is known of a request when its answer is ready; finished when dropped.
#[derive(Debug)]
pub(crate) struct RequestRecord {
    metrics: Arc<Metrics>,
    pub(crate) id: String,
    started: Instant,
    method: String,
    route: &'static str,
    repository: Option<String>,
    user: Option<String>,
    status: u16,
    received: Arc<AtomicU64>,
    sent: u64,
}

impl RequestRecord {
    /// Starts the record of a request that arrived now; `body` is counted as it is read.
    pub(crate) fn start(
        metrics: Arc<Metrics>,
        method: &http::Method,
        body: ByteStream<'static>,
    ) -> (Self, ByteStream<'static>) {
        let received = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&received);
        let body = Box::pin(body.inspect_ok(move |chunk| {
            counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        }));
        let record = Self {
            metrics,
            id: format!("{:016x}", rand::random::<u64>()),
            started: Instant::now(),
            method: method.as_str().to_owned(),
            route: "unknown",
            repository: None,
            user: None,
            status: 0,
            received,
            sent: 0,
        };
        (record, body)
    }

    /// The id as a header value (always visible ASCII: hex digits).
    pub(crate) fn id_header(&self) -> HeaderValue {
        HeaderValue::from_str(&self.id).unwrap_or(HeaderValue::from_static("-"))
    }

    pub(crate) fn set_route(&mut self, route: &Route) {
        self.route = route_label(route);
        self.repository = route.repository().map(|name| name.as_str().to_owned());
    }

    pub(crate) fn set_route_label(&mut self, label: &'static str) {
        self.route = label;
    }

    pub(crate) fn set_user(&mut self, user: Option<&str>) {
        self.user = user.map(str::to_owned);
    }

    pub(crate) fn set_status(&mut self, status: u16) {
        self.status = status;
    }

    pub(crate) fn add_sent(&mut self, bytes: u64) {
        self.sent += bytes;
    }
}

impl Drop for RequestRecord {
    fn drop(&mut self) {
        let elapsed = self.started.elapsed();
        let received = self.received.load(Ordering::Relaxed);
        self.metrics.request_finished(
            self.route,
            &self.method,
            self.status,
            elapsed,
            received,
            self.sent,
        );
        tracing::info!(
            target: "oci_registry::access",
            request_id = %self.id,
            method = %self.method,
            route = self.route,
            repository = self.repository.as_deref().unwrap_or("-"),
            user = self.user.as_deref().unwrap_or("-"),
            status = self.status,
            bytes_in = received,
            bytes_out = self.sent,
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            "request"
        );
    }
}

/// The route's name as a metric label.
fn route_label(route: &Route) -> &'static str {
    match route {
        Route::Base => "base",
        Route::Catalog => "catalog",
        Route::Search => "search",
        Route::Blob { .. } => "blob",
        Route::UploadStart { .. } => "upload_start",
        Route::Upload { .. } => "upload",
        Route::Manifest { .. } => "manifest",
        Route::TagList { .. } => "tags",
        Route::Referrers { .. } => "referrers",
    }
}
