//! Assertions about a [`Reply`]: status, headers, bodies and spec error bodies.

use super::basis::Feature;
use super::checks::Checks;
use super::client::{Api, Reply, blob_path};
use super::data::{Algorithm, Blob, digest};

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

/// What the exact status and code of a refusal rest on: the endpoint table lists the failure
/// statuses and the error-code table the meaning of each code, but neither is phrased as a
/// MUST, so an answer that refuses with another 4xx or code is a warning.
pub const REFUSAL_DETAIL: &str = "v1.1 §Endpoints and §Error Codes";

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

    /// A refusal: a 4xx status (a MUST: the request was not carried out). That it is `status`
    /// with a spec error body naming `code` is a SHOULD ([`REFUSAL_DETAIL`]); a JSON body of
    /// another shape breaks a MUST (§Error Codes). Returns whether it was a 4xx.
    pub fn refused(&mut self, reply: &Reply, status: u16, code: &str) -> bool {
        let refused = self.refusal(reply);
        if refused {
            self.should(REFUSAL_DETAIL, |c| c.error(reply, status, code));
        }
        refused
    }

    /// A refusal of any 4xx status, whose body, when JSON, is a spec error body; returns
    /// whether it was a 4xx.
    pub fn refusal(&mut self, reply: &Reply) -> bool {
        let refused = self.check((400..500).contains(&reply.status), || {
            format!("expected a 4xx refusal, got {}", reply.describe())
        });
        if refused {
            self.json_error_shape(reply);
        }
        refused
    }

    /// The answer to a push of a manifest naming content the registry does not hold (v1.1
    /// §Push: a registry "MAY reject" it): a 201 means `feature` is offered; a refusal MUST
    /// carry `MANIFEST_BLOB_UNKNOWN`, and SHOULD be a 400. Returns whether it was accepted.
    pub fn sparse_answer(&mut self, reply: &Reply, feature: Feature) -> bool {
        if reply.status == 201 {
            self.offered(feature);
            return true;
        }
        self.not_offered(feature, format!("refused with status {}", reply.status));
        if (400..500).contains(&reply.status) {
            self.json_error_shape(reply);
        }
        let codes = reply.error_codes();
        self.check(
            codes.iter().any(|code| code == "MANIFEST_BLOB_UNKNOWN"),
            || {
                format!(
                    "a refusal for unknown content must carry MANIFEST_BLOB_UNKNOWN, got {}",
                    reply.describe()
                )
            },
        );
        self.should(REFUSAL_DETAIL, |c| c.status(reply, &[400]));
        false
    }

    /// A 4xx body that is JSON must be a spec error body (§Error Codes: "If the response body
    /// is in JSON format, it MUST have the following format"); any other format is allowed.
    pub fn json_error_shape(&mut self, reply: &Reply) {
        if reply.json().is_some() {
            self.error_codes(reply);
        }
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
        if let Some(answered) = reply.header("docker-content-digest") {
            self.digest_of(answered, &blob.bytes, &blob.digest);
        }
    }

    /// `GET` of the blob in `repo` must answer 200 with exactly its bytes.
    pub async fn blob_is(&mut self, api: &Api, repo: &str, blob: &Blob) {
        let reply = api.get(&blob_path(repo, &blob.digest)).await;
        if self.status(&reply, &[200]) {
            self.body_eq(&reply, &blob.bytes);
        }
    }

    /// The headers of a GET or HEAD of content (main §Pulling blobs and §Checking if content
    /// exists): `Content-Length` equal to the size and a `Docker-Content-Digest` of the
    /// content, the digest asked for or (v1.1 §Pulling manifests: "MAY differ ... if the
    /// hashing algorithms used do not match") the content's digest by another algorithm.
    pub fn content_headers(&mut self, reply: &Reply, bytes: &[u8], digest: &str) {
        self.header_eq(reply, "content-length", &bytes.len().to_string());
        match reply.header("docker-content-digest") {
            Some(answered) => self.digest_of(answered, bytes, digest),
            None => self.fail(format!(
                "missing docker-content-digest header (expected {digest:?})"
            )),
        }
    }

    /// `answered` must be `expected`, or the digest of `bytes` by another algorithm (noted).
    fn digest_of(&mut self, answered: &str, bytes: &[u8], expected: &str) {
        if answered == expected {
            return;
        }
        let by_other_algorithm = [Algorithm::Sha256, Algorithm::Sha512]
            .into_iter()
            .any(|algorithm| digest(algorithm, bytes) == answered);
        if by_other_algorithm {
            self.note(format!(
                "Docker-Content-Digest names the content by another algorithm: {answered}"
            ));
        } else {
            self.fail(format!(
                "docker-content-digest header: expected {expected:?} (or the content's digest by \
                 another algorithm), got {answered:?}"
            ));
        }
    }
}

fn first_difference(expected: &[u8], got: &[u8]) -> String {
    match expected.iter().zip(got).position(|(a, b)| a != b) {
        Some(at) => format!(", first difference at byte {at}"),
        None => String::new(),
    }
}
