//! Registry authentication for OCI clients.
//!
//! A registry that wants credentials answers `401` with a `WWW-Authenticate` header. This
//! crate reads that header ([`Challenge`]), finds the user's credentials the way Docker and
//! podman do ([`CredentialStore`]), asks the token server for a bearer token for the needed
//! [`Scopes`] ([`fetch_token`]), keeps tokens until shortly before they expire ([`TokenCache`]),
//! and ties it all together in an [`Authenticator`] that a client clones freely.
//!
//! Parsing and credential lookup are plain functions: no network, and every path and
//! environment variable can be given explicitly.
//!
//! | module | job |
//! |---|---|
//! | [`challenge`] | `WWW-Authenticate` parsing and printing |
//! | [`scope`] | `repository:name:pull,push` scopes and merged scope sets |
//! | [`secret`] | a string whose `Debug` is redacted |
//! | [`credentials`] | explicit credentials, `config.json`, credential helpers, `auth.json`; login and logout |
//! | [`token`] | token requests, responses, and the cache |
//! | [`clock`] | the time source token expiry is judged by |
//! | [`authenticator`] | the whole flow behind one cheap-to-clone value |
//! | [`error`] | the error types |
//!
//! ```
//! use oci_auth::{Challenge, Scope, Scopes};
//!
//! let header = r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:team/app:pull""#;
//! let challenges = Challenge::parse(header)?;
//! let Some(Challenge::Bearer(bearer)) = Challenge::select(&challenges) else {
//!     panic!("expected a Bearer challenge");
//! };
//! assert_eq!(bearer.realm(), Some("https://auth.example/token"));
//!
//! // A push also needs pull; the challenge's own scope merges into the same entry.
//! let mut scopes = Scopes::from(Scope::push_pull("team/app")?);
//! scopes.merge(&bearer.scopes()?);
//! assert_eq!(scopes.to_string(), "repository:team/app:pull,push");
//! # Ok::<(), oci_auth::Error>(())
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "client")]
pub mod authenticator;
pub mod challenge;
pub mod clock;
pub mod credentials;
pub mod error;
pub mod scope;
pub mod secret;
pub mod token;

#[cfg(feature = "client")]
pub use authenticator::{Authenticator, AuthenticatorBuilder};
pub use challenge::{AuthParams, BasicChallenge, BearerChallenge, Challenge};
pub use clock::{Clock, ManualClock, SystemClock};
pub use credentials::{
    AuthFile, CredentialHelper, CredentialStore, Credentials, DOCKER_HUB_SERVER, StoredIn,
    basic_authorization, canonical_registry, docker_config_path, helper_server_url,
    podman_auth_paths, podman_auth_paths_for, remove_login, store_login,
};
pub use error::{ChallengeError, Error, Expected, ScopeError, ScopePart};
pub use scope::{Scope, Scopes};
pub use secret::Secret;
pub use token::{Token, TokenCache, parse_token_response};
#[cfg(feature = "client")]
pub use token::{TokenOptions, TokenRequest, fetch_token};

/// Runs the README's example as a doctest, so it cannot go stale.
#[cfg(all(doctest, feature = "client"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
