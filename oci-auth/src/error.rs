//! The crate's error types: one for challenge syntax, one for scope syntax, and [`Error`] for
//! everything else (files, helpers, token servers).

use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A `WWW-Authenticate` value could not be parsed.
    #[error(transparent)]
    Challenge(#[from] ChallengeError),

    /// A scope string could not be parsed.
    #[error(transparent)]
    Scope(#[from] ScopeError),

    /// A credentials file exists but could not be read.
    #[error("cannot read credentials file {path}")]
    ReadConfig {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// A credentials file is not the JSON shape Docker and podman write.
    #[error("cannot parse credentials file {path}")]
    ParseConfig {
        /// The file.
        path: PathBuf,
        /// Where and why the JSON is wrong.
        #[source]
        source: serde_json::Error,
    },

    /// A credentials file could not be written (login, logout).
    #[error("cannot write credentials file {path}")]
    WriteConfig {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// A credentials file, or its `auths` member, is JSON but not an object, so an entry
    /// cannot be added or removed without losing what is there.
    #[error("credentials file {path} is not a JSON object with an `auths` object")]
    ConfigShape {
        /// The file.
        path: PathBuf,
    },

    /// The `auth` field of an entry is not base64.
    #[error("the `auth` field for {key:?} in {path} is not valid base64")]
    AuthFieldBase64 {
        /// The file.
        path: PathBuf,
        /// The key of the entry under `auths`.
        key: String,
        /// The decoder's complaint.
        #[source]
        source: base64::DecodeError,
    },

    /// The `auth` field of an entry decodes to something that is not UTF-8 `username:password`.
    #[error("the `auth` field for {key:?} in {path} is not `username:password`")]
    AuthFieldFormat {
        /// The file.
        path: PathBuf,
        /// The key of the entry under `auths`.
        key: String,
    },

    /// A credential helper name would not make a plain program name (it holds a path separator).
    #[error("invalid credential helper name {name:?}")]
    InvalidHelperName {
        /// The name as written in the configuration.
        name: String,
    },

    /// The credential helper program was not found or could not be started.
    #[error("cannot run credential helper {program}")]
    HelperSpawn {
        /// The program name, `docker-credential-<name>`.
        program: String,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },

    /// The credential helper exited with a failure other than "credentials not found".
    #[error("credential helper {program} failed with exit code {exit_code:?}: {message}")]
    HelperFailed {
        /// The program name, `docker-credential-<name>`.
        program: String,
        /// The exit code, `None` when the helper was killed by a signal.
        exit_code: Option<i32>,
        /// What the helper printed (its stdout, or its stderr when stdout was empty).
        message: String,
    },

    /// The credential helper printed something that is not its JSON answer.
    #[error("credential helper {program} printed an invalid answer")]
    HelperOutput {
        /// The program name, `docker-credential-<name>`.
        program: String,
        /// Why the output is not the expected JSON.
        #[source]
        source: serde_json::Error,
    },

    /// A credential lookup running on the blocking pool did not finish (the runtime shut down).
    #[error("the credential lookup for {registry} did not finish")]
    LookupAborted {
        /// The registry whose credentials were being looked up.
        registry: String,
    },

    /// A Bearer challenge has no `realm`, so there is no token server to ask.
    #[error("the Bearer challenge has no realm")]
    MissingRealm,

    /// The realm of a Bearer challenge is not an absolute URL.
    #[cfg(feature = "client")]
    #[error("the token realm {realm:?} is not a valid URL")]
    InvalidRealm {
        /// The realm as the registry sent it.
        realm: String,
        /// Why it does not parse.
        #[source]
        source: url::ParseError,
    },

    /// The token server could not be reached, or the connection broke.
    #[cfg(feature = "client")]
    #[error("token request to {realm} failed")]
    TokenTransport {
        /// The token server.
        realm: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },

    /// The token server answered with an unsuccessful status.
    #[error("token server {realm} answered {status}")]
    TokenStatus {
        /// The token server.
        realm: String,
        /// The status it answered.
        status: http::StatusCode,
    },

    /// The token server's answer is not valid JSON of the expected shape.
    #[error("token server {realm} sent an answer that is not a token response")]
    TokenResponse {
        /// The token server.
        realm: String,
        /// Why the JSON is wrong.
        #[source]
        source: serde_json::Error,
    },

    /// The token server's answer exceeds the size any token response needs.
    #[error("token server {realm} sent an answer larger than {limit} bytes")]
    TokenResponseTooLarge {
        /// The token server.
        realm: String,
        /// The limit in bytes.
        limit: usize,
    },

    /// The token server's answer has neither `token` nor `access_token`.
    #[error("token server {realm} answered without `token` or `access_token`")]
    TokenMissing {
        /// The token server.
        realm: String,
    },

    /// A registry asked for Basic authentication, but its only credential is an identity token,
    /// which is good for the OAuth2 token flow only.
    #[error("{registry} asks for Basic authentication but only an identity token is configured")]
    IdentityTokenForBasic {
        /// The registry.
        registry: String,
    },

    /// A token or password holds bytes that cannot go into an HTTP header.
    #[error("the credentials for {host} cannot be sent in an HTTP header")]
    InvalidHeaderValue {
        /// The registry or token server the header was meant for.
        host: String,
        /// The header library's complaint.
        #[source]
        source: http::header::InvalidHeaderValue,
    },
}

impl Error {
    /// The status a token server answered, for [`Error::TokenStatus`].
    pub fn status(&self) -> Option<http::StatusCode> {
        match self {
            Error::TokenStatus { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Why a `WWW-Authenticate` value could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChallengeError {
    /// The value holds no challenge at all.
    #[error("the header holds no challenge")]
    Empty,
    /// The raw header bytes are not UTF-8.
    #[error("the header is not UTF-8 (valid up to byte {valid_up_to})")]
    NotUtf8 {
        /// Length of the valid prefix.
        valid_up_to: usize,
    },
    /// The syntax broke at `offset`, where `expected` should have come.
    #[error("expected {expected} at byte {offset}")]
    Syntax {
        /// Byte offset in the header value.
        offset: usize,
        /// What the grammar allows there.
        expected: Expected,
    },
    /// A quoted string holds a control character.
    #[error("control character in a quoted string at byte {offset}")]
    ControlCharacter {
        /// Byte offset in the header value.
        offset: usize,
    },
    /// A parameter appears twice in one challenge (names compare case-insensitively).
    #[error("parameter {name:?} appears twice in one challenge")]
    DuplicateParam {
        /// The parameter name, lowercased.
        name: String,
    },
    /// Basic and Bearer take parameters, never a bare token68 value.
    #[error("the {scheme} scheme takes parameters, not a token68 value")]
    UnexpectedToken68 {
        /// The scheme as written.
        scheme: String,
    },
}

/// What the challenge grammar expected where parsing stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expected {
    /// An auth scheme (a token).
    Scheme,
    /// A space between the scheme and its parameters.
    SpaceAfterScheme,
    /// A parameter name (a token).
    ParamName,
    /// `=` between a parameter name and its value.
    Equals,
    /// A parameter value (a token or a quoted string).
    ParamValue,
    /// The closing `"` of a quoted string.
    ClosingQuote,
    /// A `,` between list elements.
    Comma,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Expected::Scheme => "an auth scheme",
            Expected::SpaceAfterScheme => "a space after the auth scheme",
            Expected::ParamName => "a parameter name",
            Expected::Equals => "'='",
            Expected::ParamValue => "a token or a quoted string",
            Expected::ClosingQuote => "a closing '\"'",
            Expected::Comma => "','",
        })
    }
}

/// Why a scope string could not be parsed or built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScopeError {
    /// The scope is not `type:name:actions` (fewer than two colons).
    #[error("scope {input:?} is not `type:name:actions`")]
    MissingSeparator {
        /// The scope as given.
        input: String,
    },
    /// One part of the scope breaks the grammar.
    #[error("scope {input:?} has an invalid {part}")]
    InvalidPart {
        /// The scope as given (or as it would print).
        input: String,
        /// Which part is wrong.
        part: ScopePart,
    },
}

/// The three parts of a scope, for [`ScopeError::InvalidPart`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScopePart {
    /// `repository`, `registry`, `repository(plugin)`.
    ResourceType,
    /// The repository name, or `catalog`.
    Name,
    /// The comma-separated actions.
    Actions,
}

impl fmt::Display for ScopePart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ScopePart::ResourceType => "resource type",
            ScopePart::Name => "resource name",
            ScopePart::Actions => "action list",
        })
    }
}
