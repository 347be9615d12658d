//! What a hostile request may get back: the spec's status and error code, never a 5xx.

use oci_spec_types::ErrorCode;
use reqwest::{Response, StatusCode};

use crate::common::{RawAnswer, code_of};

/// Whether `code` is one the distribution spec defines (the crate's `ErrorCode` knows them all).
fn is_spec_code(code: &str) -> bool {
    !matches!(ErrorCode::from(code), ErrorCode::Other(_))
}

/// Asserts `answer` is refused with `status` and the error document's `code`.
pub async fn refused(answer: Response, status: StatusCode, code: &str, case: &str) {
    let got = answer.status();
    let body = answer.text().await.unwrap();
    assert_eq!(got, status, "{case}: {body}");
    assert_eq!(code_of(&body).as_deref(), Some(code), "{case}: {body}");
}

/// Asserts a raw answer has `status` and `code`; only `HEAD` answers (whose `case` starts
/// with the method) may come without an error document.
pub fn raw_refused(answer: &RawAnswer, status: u16, code: &str, case: &str) {
    assert_eq!(answer.status, status, "{case}: {}", answer.text);
    if let Some(found) = answer.code() {
        assert_eq!(found, code, "{case}: {}", answer.text);
    } else {
        assert!(
            case.starts_with("HEAD"),
            "{case}: no error document: {}",
            answer.text
        );
    }
}

/// What a client racing others, or sending something broken, may get: a success or a spec
/// error, never a 5xx. Returns whether it succeeded.
pub async fn success_or_spec_error(answer: Response, case: &str) -> bool {
    let status = answer.status();
    if status.is_success() {
        return true;
    }
    let body = answer.text().await.unwrap();
    assert!(status.is_client_error(), "{case}: {status} {body}");
    let code = code_of(&body);
    assert!(
        code.as_deref().is_some_and(is_spec_code),
        "{case}: {status} with no spec error code: {body}"
    );
    false
}

/// A raw answer to a request whose body the client cut short (shutting down its writing
/// half): the server still answers, 400 `BLOB_UPLOAD_INVALID`, and stores nothing.
pub fn raw_cut_short(answer: &RawAnswer, case: &str) {
    raw_refused(answer, 400, "BLOB_UPLOAD_INVALID", case);
}

/// A raw answer to a request the HTTP layer may refuse before the registry sees it: a client
/// error, with a spec code when it carries an error document.
pub fn raw_client_error(answer: &RawAnswer, case: &str) {
    assert!(
        (400..500).contains(&answer.status),
        "{case}: {}",
        answer.text
    );
    if let Some(code) = answer.code() {
        assert!(is_spec_code(&code), "{case}: {}", answer.text);
    }
}
