//! The JSON body of a registry's error answers: `{"errors":[{"code","message","detail"}]}`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::distribution::error_code::ErrorCode;

/// One error of an [`ErrorResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// The spec's error code.
    pub code: ErrorCode,
    /// A message for humans (registries sometimes leave it out; it then reads as empty).
    #[serde(default)]
    pub message: String,
    /// Unstructured details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

/// The body of an error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// The errors, most relevant first.
    pub errors: Vec<ErrorInfo>,
}

impl ErrorResponse {
    /// A body with one error and no detail.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ErrorResponse {
            errors: vec![ErrorInfo {
                code,
                message: message.into(),
                detail: None,
            }],
        }
    }

    /// Adds a detail to the last error.
    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        if let Some(last) = self.errors.last_mut() {
            last.detail = Some(detail);
        }
        self
    }

    /// The code of the first error, if any.
    pub fn code(&self) -> Option<&ErrorCode> {
        self.errors.first().map(|error| &error.code)
    }
}

impl fmt::Display for ErrorResponse {
    /// `CODE: message; CODE: message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            let separator = if i == 0 { "" } else { "; " };
            write!(f, "{separator}{}: {}", error.code, error.message)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_the_spec_shape() {
        let body = ErrorResponse::new(ErrorCode::BlobUnknown, "blob unknown to registry")
            .with_detail(serde_json::json!({"digest": "sha256:00"}));
        let text = serde_json::to_string(&body).unwrap();
        assert_eq!(
            text,
            r#"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry","detail":{"digest":"sha256:00"}}]}"#
        );
        assert_eq!(body.to_string(), "BLOB_UNKNOWN: blob unknown to registry");
    }

    #[test]
    fn foreign_bodies_read_without_message_or_detail() {
        let body: ErrorResponse = serde_json::from_str(
            r#"{"errors":[{"code":"UNKNOWN"},{"code":"DENIED","message":"no"}]}"#,
        )
        .unwrap();
        assert_eq!(body.code(), Some(&ErrorCode::Other("UNKNOWN".into())));
        assert_eq!(body.errors[1].detail, None);
        assert_eq!(body.to_string(), "UNKNOWN: ; DENIED: no");
    }
}
