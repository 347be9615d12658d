//! Assertions about a [`Reply`]: status, headers, bodies and spec error bodies.

use super::client::{Api, Reply, blob_path};
use super::data::{Algorithm, Blob, digest};
use super::report::Checks;

/// Every error code the distribution spec defines.
pub const SPEC_ERROR_CODES: [&str; 14] = [
    "BLOB_UNKNOWN",
    "BLOB_UPLOAD_INVALID",
    "BLOB_UPLOAD_UNKNOWN",
    "DIGEST_INVALID",
    "MANIFEST_BLOB_UNKNOWN",
    "MANIFEST_INVALID",
    "MANIFEST_UNKNOWN",
    "NAME_INVALID",
    "NAME_UNKNOWN",
    "SIZE_INVALID",
    "UNAUTHORIZED",
    "DENIED",
    "UNSUPPORTED",
    "TOOMANYREQUESTS",
];

impl Checks {
    /// The status must be one of `expected`; returns whether it was.
    pub fn status(&mut self, reply: &Reply, expected: &[u16]) -> bool {
        self.check(expected.contains(&reply.status), || {
            let wanted: Vec<String> = expected.iter().map(u16::to_string).collect();
            format!(
                "expected status {}, got {}",
                wanted.join(" or "),
                reply.describe()
            )
        })
    }

    /// The header must be present; returns its value.
    pub fn header<'r>(&mut self, reply: &'r Reply, name: &str) -> Option<&'r str> {
        let value = reply.header(name);
        self.check(value.is_some(), || format!("missing {name} header"));
        value
    }

    /// The header must be present and equal `expected`.
    pub fn header_eq(&mut self, reply: &Reply, name: &str, expected: &str) -> bool {
        match reply.header(name) {
            Some(value) => self.equal(&format!("{name} header"), expected, value),
            None => self.check(false, || {
                format!("missing {name} header (expected {expected:?})")
            }),
        }
    }

    /// When the header is present it must equal `expected` (for headers the spec makes optional).
    pub fn header_eq_if_present(&mut self, reply: &Reply, name: &str, expected: &str) {
        if let Some(value) = reply.header(name) {
            self.equal(&format!("{name} header"), expected, value);
        }
    }

    /// The body must be JSON; returns it.
    pub fn json(&mut self, reply: &Reply) -> Option<serde_json::Value> {
        let json = reply.json();
        self.check(json.is_some(), || {
            format!("expected a JSON body, got {}", reply.describe())
        });
        json
    }

    /// A `Link: <...>; rel="next"` header must be present; returns its target.
    pub fn next_link(&mut self, reply: &Reply) -> Option<String> {
        let next = reply.next_link();
        self.check(next.is_some(), || {
            format!(
                "missing Link header with rel=\"next\" ({})",
                reply.describe()
            )
        });
        next
    }

    /// The `Location` header must be present; returns it.
    pub fn location(&mut self, reply: &Reply) -> Option<String> {
        self.header(reply, "location").map(str::to_string)
    }

    /// The body must be exactly `expected`.
    pub fn body_eq(&mut self, reply: &Reply, expected: &[u8]) -> bool {
        let same = reply.body.as_ref() == expected;
        self.check(same, || {
            format!(
                "body differs: expected {} bytes, got {} bytes{}",
                expected.len(),
                reply.body.len(),
                first_difference(expected, &reply.body)
            )
        })
    }

    /// The body must be empty (HEAD answers, 202/204 answers).
    pub fn body_empty(&mut self, reply: &Reply) -> bool {
        self.check(reply.body.is_empty(), || {
            format!("expected an empty body, got {} bytes", reply.body.len())
        })
    }

    /// The body must be a spec error body (`{"errors":[{"code":...}]}`) whose codes are all spec
    /// codes and which includes `code`.
    pub fn error_code(&mut self, reply: &Reply, code: &str) -> bool {
        let codes = self.error_codes(reply);
        self.check(codes.iter().any(|c| c == code), || {
            format!(
                "expected error code {code}, got {codes:?} ({})",
                reply.describe()
            )
        })
    }

    /// The body must be a spec error body; returns its codes (empty after a failure).
    pub fn error_codes(&mut self, reply: &Reply) -> Vec<String> {
        let Some(json) = reply.json() else {
            self.fail(format!(
                "expected a JSON error body, got {}",
                reply.describe()
            ));
            return Vec::new();
        };
        let Some(errors) = json["errors"].as_array() else {
            self.fail(format!("error body has no \"errors\" array: {json}"));
            return Vec::new();
        };
        let mut codes = Vec::new();
        for error in errors {
            match error["code"].as_str() {
                Some(code) => {
                    self.check(SPEC_ERROR_CODES.contains(&code), || {
                        format!("error code {code:?} is not a spec error code")
                    });
                    codes.push(code.to_string());
                }
                None => self.fail(format!("error entry without a \"code\": {error}")),
            }
            if let Some(message) = error.get("message") {
                self.check(message.is_string(), || {
                    format!("error \"message\" must be a string, got {message}")
                });
            }
        }
        self.check(!codes.is_empty(), || "error body lists no errors".into());
        codes
    }

    /// Status `status` with a spec error body carrying `code`.
    pub fn error(&mut self, reply: &Reply, status: u16, code: &str) -> bool {
        self.status(reply, &[status]) && self.error_code(reply, code)
    }

    /// The `Docker-Content-Digest` of an upload's 201, when present, must be the digest pushed or
    /// the blob's canonical (sha256) digest: the spec lets a registry answer the latter.
    pub fn upload_digest(&mut self, reply: &Reply, blob: &Blob) {
        let Some(answered) = reply.header("docker-content-digest") else {
            return;
        };
        let canonical = digest(Algorithm::Sha256, &blob.bytes);
        if answered == canonical && answered != blob.digest {
            self.note("the upload answered the canonical sha256 digest");
        } else {
            self.equal(
                "docker-content-digest header",
                blob.digest.as_str(),
                answered,
            );
        }
    }

    /// `GET` of the blob in `repo` must answer 200 with exactly its bytes.
    pub async fn blob_is(&mut self, api: &Api, repo: &str, blob: &Blob) {
        let reply = api.get(&blob_path(repo, &blob.digest)).await;
        if self.status(&reply, &[200]) {
            self.body_eq(&reply, &blob.bytes);
        }
    }

    /// The standard answers to a GET or HEAD of content: `Content-Length` equal to the size and,
    /// per spec main, a `Docker-Content-Digest` equal to the digest.
    pub fn content_headers(&mut self, reply: &Reply, size: usize, digest: &str) {
        self.header_eq(reply, "content-length", &size.to_string());
        self.header_eq(reply, "docker-content-digest", digest);
    }
}

fn first_difference(expected: &[u8], got: &[u8]) -> String {
    match expected.iter().zip(got).position(|(a, b)| a != b) {
        Some(at) => format!(", first difference at byte {at}"),
        None => String::new(),
    }
}
