//! [`ErrorKind`]: what a caller can do about an [`Error`], the same whichever way the
//! registry authenticates or answered.

use http::StatusCode;
use oci_spec_types::ErrorCode;

use super::Error;

/// The broad class of an [`Error`], for deciding what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The credentials are missing or wrong (`401`, from the registry or its token server).
    Unauthorized,
    /// The credentials are fine but do not allow this (`403`, `DENIED`).
    Denied,
    /// The repository, manifest, tag or blob does not exist (`404`, `*_UNKNOWN`).
    NotFound,
    /// Content did not match its digest or size.
    VerificationFailed,
    /// Trying again later may work: the network failed, the registry was overloaded or
    /// failed (`5xx`, `429`, `408`), another writer kept interfering.
    Transient,
    /// The client's own settings are wrong or refused: TLS certificates, proxies,
    /// `registries.conf`, `certs.d`, credential files and helpers, a blocked registry.
    Configuration,
    /// Anything else: a request the registry refused as invalid, an answer the client
    /// could not understand, bad input.
    Other,
}

impl Error {
    /// What kind of failure this is. A wrong password is [`ErrorKind::Unauthorized`] with
    /// [`status`](Self::status) `401` whether the registry checks it itself (Basic) or
    /// through a token server.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Status { status, errors, .. } => {
                kind_of_status(*status, errors.iter().map(|info| &info.code))
            }
            Error::ResumeRefused { status, .. } => kind_of_status(*status, [].iter()),
            Error::Auth { source, .. } => kind_of_auth(source),
            Error::Transport { source, .. } if is_tls_refusal(source) => ErrorKind::Configuration,
            Error::Relay { source, .. } if source.kind() == std::io::ErrorKind::InvalidData => {
                ErrorKind::Other
            }
            Error::Transport { .. }
            | Error::Relay { .. }
            | Error::FallbackIndexContended { .. } => ErrorKind::Transient,
            Error::NoMatchingPlatform { .. } => ErrorKind::NotFound,
            Error::DigestMismatch { .. }
            | Error::SizeMismatch { .. }
            | Error::SizeExceeded { .. } => ErrorKind::VerificationFailed,
            Error::Build(_)
            | Error::Tls(_)
            | Error::ConfigFile { .. }
            | Error::RegistriesConf { .. }
            | Error::RegistriesConfEntry { .. }
            | Error::CertsDir { .. }
            | Error::Blocked { .. } => ErrorKind::Configuration,
            _ => ErrorKind::Other,
        }
    }

    /// True for [`ErrorKind::Unauthorized`].
    pub fn is_unauthorized(&self) -> bool {
        self.kind() == ErrorKind::Unauthorized
    }

    /// True for [`ErrorKind::Denied`].
    pub fn is_denied(&self) -> bool {
        self.kind() == ErrorKind::Denied
    }

    /// True for [`ErrorKind::NotFound`].
    pub fn is_not_found(&self) -> bool {
        self.kind() == ErrorKind::NotFound
    }

    /// True for [`ErrorKind::Transient`].
    pub fn is_transient(&self) -> bool {
        self.kind() == ErrorKind::Transient
    }
}

/// The kind of an unexpected status, sharpened by the spec error codes of its body.
fn kind_of_status<'a>(
    status: StatusCode,
    mut codes: impl Iterator<Item = &'a ErrorCode>,
) -> ErrorKind {
    match status {
        StatusCode::UNAUTHORIZED => ErrorKind::Unauthorized,
        StatusCode::FORBIDDEN => ErrorKind::Denied,
        StatusCode::NOT_FOUND => ErrorKind::NotFound,
        StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS => ErrorKind::Transient,
        status if status.is_server_error() => ErrorKind::Transient,
        _ if codes.any(|code| *code == ErrorCode::Denied) => ErrorKind::Denied,
        _ => ErrorKind::Other,
    }
}

/// The kind of an authentication failure.
fn kind_of_auth(error: &oci_auth::Error) -> ErrorKind {
    use oci_auth::Error as Auth;
    match error {
        Auth::TokenStatus { status, .. } => kind_of_status(*status, [].iter()),
        Auth::TokenTransport { .. } | Auth::LookupAborted { .. } => ErrorKind::Transient,
        Auth::ReadConfig { .. }
        | Auth::ParseConfig { .. }
        | Auth::AuthFieldBase64 { .. }
        | Auth::AuthFieldFormat { .. }
        | Auth::InvalidHelperName { .. }
        | Auth::HelperSpawn { .. }
        | Auth::HelperFailed { .. }
        | Auth::HelperOutput { .. }
        | Auth::IdentityTokenForBasic { .. } => ErrorKind::Configuration,
        _ => ErrorKind::Other,
    }
}

/// True when a failed exchange got as far as a TLS refusal (a certificate not trusted, a
/// client certificate missing): settings, not luck.
fn is_tls_refusal(error: &reqwest::Error) -> bool {
    crate::transport::tls_was_spoken(error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;
    use oci_spec_types::ErrorInfo;

    fn status(status: StatusCode, codes: &[ErrorCode]) -> Error {
        Error::Status {
            method: Method::GET,
            url: "http://r/v2/".into(),
            status,
            errors: codes
                .iter()
                .map(|code| ErrorInfo {
                    code: code.clone(),
                    message: String::new(),
                    detail: None,
                })
                .collect(),
            retry_after: None,
            retried: true,
        }
    }

    #[test]
    fn statuses_and_codes_map_to_kinds() {
        let cases = [
            (StatusCode::UNAUTHORIZED, vec![], ErrorKind::Unauthorized),
            (StatusCode::FORBIDDEN, vec![], ErrorKind::Denied),
            (
                StatusCode::BAD_REQUEST,
                vec![ErrorCode::Denied],
                ErrorKind::Denied,
            ),
            (
                StatusCode::NOT_FOUND,
                vec![ErrorCode::ManifestUnknown],
                ErrorKind::NotFound,
            ),
            (StatusCode::TOO_MANY_REQUESTS, vec![], ErrorKind::Transient),
            (StatusCode::BAD_GATEWAY, vec![], ErrorKind::Transient),
            (
                StatusCode::BAD_REQUEST,
                vec![ErrorCode::ManifestInvalid],
                ErrorKind::Other,
            ),
        ];
        for (code, codes, kind) in cases {
            assert_eq!(status(code, &codes).kind(), kind, "{code} {codes:?}");
        }
        let token_401 = Error::Auth {
            registry: "r".into(),
            source: oci_auth::Error::TokenStatus {
                realm: "https://auth/token".into(),
                status: StatusCode::UNAUTHORIZED,
            },
        };
        assert!(token_401.is_unauthorized());
        assert_eq!(token_401.status(), Some(StatusCode::UNAUTHORIZED));
        let blocked = Error::Blocked {
            repository: "r/a".into(),
            prefix: "r".into(),
        };
        assert_eq!(blocked.kind(), ErrorKind::Configuration);
    }
}
