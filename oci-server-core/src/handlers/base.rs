//! `GET /v2/` (end-1): the version check.

use http::{Response, StatusCode};

use super::Answer;
use crate::response::{json, json_media_type};

/// 200 with an empty JSON object; the API version header is added to every answer.
pub(crate) fn version() -> Answer {
    json(
        Response::builder().status(StatusCode::OK),
        json_media_type(),
        &serde_json::json!({}),
    )
}
