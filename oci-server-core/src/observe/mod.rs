//! What an operator watches: Prometheus metrics ([`Metrics`]), one access-log line per
//! request (tracing target `oci_registry::access`, with the request id also sent back as
//! [`REQUEST_ID`]), and the probes `/metrics`, `/healthz` (the process answers) and
//! `/readyz` (the store answers).

mod access;
mod metered;
mod metrics;

use http::{Response, StatusCode, header::CONTENT_TYPE};

pub use self::access::REQUEST_ID;
pub use self::metrics::{ConnectionGuard, Metrics};
pub(crate) use self::{access::RequestRecord, metered::MeteredStorage};
use crate::{body::ResponseBody, storage::Key, store::Store};

/// A path answered outside the distribution API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Probe {
    Metrics,
    Health,
    Ready,
}

impl Probe {
    pub(crate) fn of(path: &str) -> Option<Probe> {
        match path {
            "/metrics" => Some(Probe::Metrics),
            "/healthz" => Some(Probe::Health),
            "/readyz" => Some(Probe::Ready),
            _ => None,
        }
    }

    pub(crate) fn label(self) -> &'static str {
        match self {
            Probe::Metrics => "metrics",
            Probe::Health => "healthz",
            Probe::Ready => "readyz",
        }
    }

    /// The probe's answer. Readiness and the upload-session gauge ask the store.
    pub(crate) async fn answer(self, store: &Store, metrics: &Metrics) -> Response<ResponseBody> {
        let (status, content_type, body) = match self {
            Probe::Health => (StatusCode::OK, "text/plain", "ok\n".to_owned()),
            Probe::Ready => match store.storage().meta_list(&Key::repositories()).await {
                Ok(_) => (StatusCode::OK, "text/plain", "ready\n".to_owned()),
                Err(e) => {
                    tracing::warn!(error = %e, "not ready: the store does not answer");
                    (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "text/plain",
                        "the store does not answer\n".to_owned(),
                    )
                }
            },
            Probe::Metrics => {
                match store.storage().meta_list(&Key::uploads()).await {
                    Ok(sessions) => metrics.set_upload_sessions(sessions.len()),
                    Err(e) => tracing::warn!(error = %e, "cannot count upload sessions"),
                }
                (
                    StatusCode::OK,
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    metrics.encode(),
                )
            }
        };
        let mut response = Response::new(ResponseBody::full(body));
        *response.status_mut() = status;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, http::HeaderValue::from_static(content_type));
        response
    }
}
