//! Secrets stay out of logs and `Debug` output during real token flows.
//!
//! In a test binary of its own: the subscriber must be the global one, installed before any
//! log call site registers, or tracing's per-call-site cache could skip it.

mod common;

use std::sync::Arc;

use common::{Behaviour, PASSWORD, TokenServer, USERNAME};
use oci_auth::{
    Authenticator, Challenge, CredentialStore, Credentials, Scope, Scopes, TokenOptions,
};

const REGISTRY: &str = "registry.test";

/// Collects everything a `fmt` subscriber writes.
#[derive(Clone, Default)]
struct CapturedLogs(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn secrets_stay_out_of_logs_and_debug_output() {
    let logs = CapturedLogs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let server = TokenServer::start(Behaviour {
        refresh_token: Some("learned-refresh".to_owned()),
        accepted_refresh_tokens: vec!["learned-refresh".to_owned()],
        ..Behaviour::default()
    })
    .await;
    let store =
        CredentialStore::new().with_credentials(REGISTRY, Credentials::basic(USERNAME, PASSWORD));
    let options = TokenOptions::default().with_password_grant(true);
    let auth = Authenticator::builder(reqwest::Client::new(), store)
        .options(options)
        .build();
    let header = format!(r#"Bearer realm="{}""#, server.realm());
    let challenge = &Challenge::parse(&header).unwrap()[0];
    let pull = |repository| Scopes::from(Scope::pull(repository).unwrap());
    for repository in ["a", "b"] {
        let scopes = pull(repository);
        let answer = auth.authorization_for(REGISTRY, challenge, &scopes).await;
        assert!(answer.unwrap().is_some());
    }
    // The second token came through the refresh token the first answer carried.
    let first = auth.cached_authorization(REGISTRY, &pull("a")).unwrap();
    let second = auth.cached_authorization(REGISTRY, &pull("b")).unwrap();
    assert_eq!(first.to_str().unwrap(), "Bearer tok-1");
    assert_eq!(second.to_str().unwrap(), "Bearer tok-2");

    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("POST token"), "the capture works: {logged}");
    let debugged = format!("{auth:?} {first:?} {second:?}");
    for secret in [PASSWORD, "learned-refresh", "tok-1", "tok-2"] {
        assert!(!logged.contains(secret), "{secret:?} logged: {logged}");
        assert!(
            !debugged.contains(secret),
            "{secret:?} in Debug: {debugged}"
        );
    }
}
