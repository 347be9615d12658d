//! The error codes of the distribution spec.

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An error code as found in the `code` field of an error response.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `BLOB_UNKNOWN`: blob unknown to registry.
    BlobUnknown,
    /// `BLOB_UPLOAD_INVALID`: blob upload invalid.
    BlobUploadInvalid,
    /// `BLOB_UPLOAD_UNKNOWN`: blob upload unknown to registry.
    BlobUploadUnknown,
    /// `DIGEST_INVALID`: provided digest did not match uploaded content.
    DigestInvalid,
    /// `MANIFEST_BLOB_UNKNOWN`: manifest references a manifest or blob unknown to registry.
    ManifestBlobUnknown,
    /// `MANIFEST_INVALID`: manifest invalid.
    ManifestInvalid,
    /// `MANIFEST_UNKNOWN`: manifest unknown to registry.
    ManifestUnknown,
    /// `NAME_INVALID`: invalid repository name.
    NameInvalid,
    /// `NAME_UNKNOWN`: repository name not known to registry.
    NameUnknown,
    /// `SIZE_INVALID`: provided length did not match content length.
    SizeInvalid,
    /// `UNAUTHORIZED`: authentication required.
    Unauthorized,
    /// `DENIED`: requested access to the resource is denied.
    Denied,
    /// `UNSUPPORTED`: the operation is unsupported.
    Unsupported,
    /// `TOOMANYREQUESTS`: too many requests.
    TooManyRequests,
    /// Any other code, kept as written.
    Other(String),
}

/// Every code with a variant: its text and the HTTP status a registry answers it with.
const KNOWN: [(ErrorCode, &str, u16); 14] = [
    (ErrorCode::BlobUnknown, "BLOB_UNKNOWN", 404),
    (ErrorCode::BlobUploadInvalid, "BLOB_UPLOAD_INVALID", 400),
    (ErrorCode::BlobUploadUnknown, "BLOB_UPLOAD_UNKNOWN", 404),
    (ErrorCode::DigestInvalid, "DIGEST_INVALID", 400),
    (ErrorCode::ManifestBlobUnknown, "MANIFEST_BLOB_UNKNOWN", 400),
    (ErrorCode::ManifestInvalid, "MANIFEST_INVALID", 400),
    (ErrorCode::ManifestUnknown, "MANIFEST_UNKNOWN", 404),
    (ErrorCode::NameInvalid, "NAME_INVALID", 400),
    (ErrorCode::NameUnknown, "NAME_UNKNOWN", 404),
    (ErrorCode::SizeInvalid, "SIZE_INVALID", 400),
    (ErrorCode::Unauthorized, "UNAUTHORIZED", 401),
    (ErrorCode::Denied, "DENIED", 403),
    (ErrorCode::Unsupported, "UNSUPPORTED", 405),
    (ErrorCode::TooManyRequests, "TOOMANYREQUESTS", 429),
];

impl ErrorCode {
    /// The code's text, e.g. `BLOB_UNKNOWN`.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::Other(text) => text,
            known => KNOWN
                .iter()
                .find(|(code, ..)| code == known)
                .map_or("", |(_, text, _)| text),
        }
    }

    /// The HTTP status a registry usually answers with this code (as the distribution
    /// spec's endpoint table and the reference registry use them); 500 for unknown codes.
    pub fn default_status(&self) -> u16 {
        KNOWN
            .iter()
            .find(|(code, ..)| code == self)
            .map_or(500, |(.., status)| *status)
    }
}

impl From<&str> for ErrorCode {
    fn from(text: &str) -> Self {
        KNOWN
            .iter()
            .find(|(_, known, _)| *known == text)
            .map_or_else(
                || ErrorCode::Other(text.to_owned()),
                |(code, ..)| code.clone(),
            )
    }
}

impl FromStr for ErrorCode {
    type Err = Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(ErrorCode::from(text))
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|text| ErrorCode::from(text.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_and_has_a_client_or_server_error_status() {
        for (code, text, status) in KNOWN {
            assert_eq!(ErrorCode::from(text), code);
            assert_eq!(code.as_str(), text);
            assert_eq!(code.default_status(), status);
            assert!((400..500).contains(&status));
        }
        assert_eq!(
            ErrorCode::from("UNKNOWN"),
            ErrorCode::Other("UNKNOWN".into())
        );
        assert_eq!(ErrorCode::Other("UNKNOWN".into()).default_status(), 500);
    }
}
