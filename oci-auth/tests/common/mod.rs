//! A small token server (and a `/v2/` endpoint that checks its tokens) on 127.0.0.1, for the
//! integration tests.

#![allow(dead_code)] // each test binary uses a different part of it

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;

/// The `service` the `/v2/` endpoint names in its challenge.
pub const SERVICE: &str = "test-registry";
pub const USERNAME: &str = "alice";
pub const PASSWORD: &str = "correct horse";

/// How the token server behaves; tests change it between requests.
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// Refresh tokens accepted by the `refresh_token` grant.
    pub accepted_refresh_tokens: Vec<String>,
    /// Answer every POST with this status instead of a token.
    pub post_status: Option<StatusCode>,
    /// `token` or `access_token`.
    pub token_field: &'static str,
    /// `expires_in` to send, if any.
    pub expires_in: Option<u64>,
    /// A `refresh_token` to send with each token, if any.
    pub refresh_token: Option<String>,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            accepted_refresh_tokens: vec!["identity-123".to_owned()],
            post_status: None,
            token_field: "token",
            expires_in: Some(300),
            refresh_token: None,
        }
    }
}

/// One request the token server received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    /// Query parameters (GET) or form fields (POST).
    pub params: Vec<(String, String)>,
    pub authorization: Option<String>,
}

impl Seen {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn params_named(&self, name: &str) -> Vec<&str> {
        self.params
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    }
}

struct ServerState {
    base: String,
    behaviour: Mutex<Behaviour>,
    seen: Mutex<Vec<Seen>>,
    valid_tokens: Mutex<HashSet<String>>,
    issued: AtomicUsize,
}

/// A running server; stops when dropped.
pub struct TokenServer {
    pub base: String,
    state: Arc<ServerState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TokenServer {
    pub async fn start(behaviour: Behaviour) -> TokenServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(ServerState {
            base: base.clone(),
            behaviour: Mutex::new(behaviour),
            seen: Mutex::new(Vec::new()),
            valid_tokens: Mutex::new(HashSet::new()),
            issued: AtomicUsize::new(0),
        });
        let router = Router::new()
            .route("/token", get(token).post(token))
            .route("/v2/", get(registry_root))
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        TokenServer { base, state, task }
    }

    pub fn realm(&self) -> String {
        format!("{}/token", self.base)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    pub fn set_behaviour(&self, change: impl FnOnce(&mut Behaviour)) {
        change(&mut self.state.behaviour.lock().unwrap());
    }

    /// Makes every token issued so far invalid at `/v2/`.
    pub fn revoke_all_tokens(&self) {
        self.state.valid_tokens.lock().unwrap().clear();
    }
}

fn basic(username: &str, password: &str) -> String {
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    format!("Basic {encoded}")
}

async fn token(
    State(state): State<Arc<ServerState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let encoded = if method == Method::POST {
        body.to_vec()
    } else {
        uri.query().unwrap_or_default().as_bytes().to_vec()
    };
    let params: Vec<(String, String)> =
        url::form_urlencoded::parse(&encoded).into_owned().collect();
    let seen = Seen {
        method: method.clone(),
        params,
        authorization,
    };
    state.seen.lock().unwrap().push(seen.clone());
    let behaviour = state.behaviour.lock().unwrap().clone();

    let allowed = if method == Method::POST {
        if let Some(status) = behaviour.post_status {
            return status.into_response();
        }
        match seen.param("grant_type") {
            Some("password") => {
                seen.param("username") == Some(USERNAME) && seen.param("password") == Some(PASSWORD)
            }
            Some("refresh_token") => seen
                .param("refresh_token")
                .is_some_and(|t| behaviour.accepted_refresh_tokens.iter().any(|a| a == t)),
            _ => return StatusCode::BAD_REQUEST.into_response(),
        }
    } else {
        // Anonymous GETs get a token too, as on Docker Hub; wrong credentials do not.
        seen.authorization
            .as_ref()
            .is_none_or(|auth| *auth == basic(USERNAME, PASSWORD))
    };
    if !allowed {
        return StatusCode::UNAUTHORIZED.into_response();
    }

    let number = state.issued.fetch_add(1, Ordering::SeqCst) + 1;
    let token = format!("tok-{number}");
    state.valid_tokens.lock().unwrap().insert(token.clone());
    let mut answer = serde_json::Map::new();
    answer.insert(behaviour.token_field.to_owned(), token.into());
    if let Some(expires_in) = behaviour.expires_in {
        answer.insert("expires_in".to_owned(), expires_in.into());
    }
    if let Some(refresh_token) = behaviour.refresh_token {
        answer.insert("refresh_token".to_owned(), refresh_token.into());
    }
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::Value::Object(answer).to_string(),
    )
        .into_response()
}

/// `GET /v2/`: 200 with a valid bearer token, else 401 with a Bearer challenge.
async fn registry_root(State(state): State<Arc<ServerState>>, headers: HeaderMap) -> Response {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if presented.is_some_and(|t| state.valid_tokens.lock().unwrap().contains(t)) {
        return StatusCode::OK.into_response();
    }
    let challenge = format!(r#"Bearer realm="{}/token",service="{SERVICE}""#, state.base);
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, challenge)],
    )
        .into_response()
}
