//! Building answers: the header names this API uses, JSON bodies, and the error document
//! every failure turns into.

use http::{
    HeaderName, HeaderValue, Response, StatusCode,
    header::{
        ALLOW, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, LOCATION, RANGE, RETRY_AFTER,
        WWW_AUTHENTICATE,
    },
    response::Builder,
};
use oci_spec_types::{ErrorInfo, ErrorResponse};
use serde::Serialize;

use crate::{
    body::ResponseBody,
    error::Error,
    range::{unsatisfied_content_range, upload_progress},
};

/// `Docker-Distribution-API-Version`, sent on every answer.
pub const API_VERSION: HeaderName = HeaderName::from_static("docker-distribution-api-version");
/// `Docker-Content-Digest`.
pub const CONTENT_DIGEST: HeaderName = HeaderName::from_static("docker-content-digest");
/// `Docker-Upload-UUID`.
pub const UPLOAD_UUID: HeaderName = HeaderName::from_static("docker-upload-uuid");
/// `OCI-Subject`.
pub const OCI_SUBJECT: HeaderName = HeaderName::from_static("oci-subject");
/// `OCI-Tag`.
pub const OCI_TAG: HeaderName = HeaderName::from_static("oci-tag");
/// `OCI-Filters-Applied`.
pub const OCI_FILTERS_APPLIED: HeaderName = HeaderName::from_static("oci-filters-applied");
/// `OCI-Chunk-Min-Length`.
pub const OCI_CHUNK_MIN_LENGTH: HeaderName = HeaderName::from_static("oci-chunk-min-length");

/// The value of [`API_VERSION`].
pub const API_VERSION_VALUE: HeaderValue = HeaderValue::from_static("registry/2.0");

/// Media type of JSON documents other than manifests.
const JSON: &str = "application/json";

/// Finishes a builder; a header value that cannot be sent becomes a bare 500 instead of a
/// panic (every value this crate sets comes from validated text, so this does not happen).
pub fn finish(builder: Builder, body: ResponseBody) -> Response<ResponseBody> {
    builder.body(body).unwrap_or_else(|e| {
        tracing::error!(error = %e, "invalid response header");
        let mut response = Response::new(ResponseBody::empty());
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        response
    })
}

/// An answer without a body (`Content-Length: 0`).
pub fn no_content(builder: Builder) -> Response<ResponseBody> {
    finish(builder.header(CONTENT_LENGTH, 0), ResponseBody::empty())
}

/// A JSON answer of `media_type`.
pub fn json(
    builder: Builder,
    media_type: &str,
    value: &impl Serialize,
) -> Result<Response<ResponseBody>, Error> {
    let bytes = serde_json::to_vec(value).map_err(Error::Encode)?;
    Ok(finish(
        builder
            .header(CONTENT_TYPE, media_type)
            .header(CONTENT_LENGTH, bytes.len()),
        ResponseBody::full(bytes),
    ))
}

/// The answer for a failed request: its status, the headers a client needs to recover, and a
/// spec error document (left out for `HEAD`).
pub fn error_response(err: &Error, head: bool) -> Response<ResponseBody> {
    let mut builder = Response::builder().status(err.status());
    match err {
        Error::UploadOutOfOrder {
            offset, location, ..
        } => {
            builder = builder
                .header(LOCATION, location)
                .header(RANGE, upload_progress(*offset));
        }
        Error::RangeNotSatisfiable { size } => {
            builder = builder.header(CONTENT_RANGE, unsatisfied_content_range(*size));
        }
        Error::Auth {
            challenge: Some(challenge),
            ..
        } => {
            builder = builder.header(WWW_AUTHENTICATE, challenge);
        }
        Error::MethodNotAllowed { allow, .. } | Error::DeleteDisabled { allow } => {
            builder = builder.header(ALLOW, *allow);
        }
        Error::TooManyUploads { retry_after, .. } => {
            // Whole seconds, rounded up: zero would invite an immediate retry.
            let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            builder = builder.header(RETRY_AFTER, seconds.max(1));
        }
        _ => {}
    }
    if head {
        return finish(builder, ResponseBody::empty());
    }
    let document = ErrorResponse {
        errors: vec![ErrorInfo {
            code: err.code(),
            message: err.to_string(),
            detail: err.detail(),
        }],
    };
    json(builder, JSON, &document).unwrap_or_else(|_| {
        finish(
            Response::builder().status(err.status()),
            ResponseBody::empty(),
        )
    })
}

/// Plain JSON media type for listings and the version check.
pub fn json_media_type() -> &'static str {
    JSON
}
