//! The Docker token flow, for real: a token server (`GET` with Basic credentials, OAuth2
//! `POST` with a refresh token) and a proxy in front of a registry that lets through only
//! requests whose bearer token grants the scope they need, answering 401 with a Bearer
//! challenge otherwise.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use base64::Engine;
use http::{Method, StatusCode};
use oci_auth::{Scope, Scopes};

use super::forward;

/// The only account the token server knows.
pub const USERNAME: &str = "alice";
/// Its password.
pub const PASSWORD: &str = "wonderland";
/// Token lifetime announced (`expires_in`), in seconds.
pub const LIFETIME_SECS: u64 = 300;

struct Grant {
    scopes: Scopes,
    valid: bool,
}

#[derive(Default)]
struct Shared {
    upstream: String,
    realm: Mutex<String>,
    tokens: Mutex<HashMap<String, Grant>>,
    refresh_tokens: Mutex<Vec<String>>,
    issued: AtomicUsize,
    basic_grants: AtomicUsize,
    refresh_grants: AtomicUsize,
    scopes_asked: Mutex<Vec<String>>,
    redirect_blobs_to: Mutex<Option<String>>,
    http: Option<reqwest::Client>,
}

/// The token server and the proxy; both stop with the test's runtime.
pub struct TokenRegistry {
    proxy: SocketAddr,
    shared: Arc<Shared>,
}

impl TokenRegistry {
    /// A token server and a bearer-checking proxy in front of `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> TokenRegistry {
        let shared = Arc::new(Shared {
            upstream: upstream.to_owned(),
            http: Some(forward::upstream_client()),
            ..Shared::default()
        });
        let tokens = axum::Router::new()
            .fallback(token_endpoint)
            .with_state(Arc::clone(&shared));
        let token_addr = forward::serve(tokens).await;
        *shared.realm.lock().unwrap() = format!("http://{token_addr}/token");
        let proxy = axum::Router::new()
            .fallback(guard)
            .with_state(Arc::clone(&shared));
        let proxy = forward::serve(proxy).await;
        TokenRegistry { proxy, shared }
    }

    /// The proxy, `127.0.0.1:<port>`: the registry clients talk to.
    pub fn host(&self) -> String {
        self.proxy.to_string()
    }

    /// Tokens granted for Basic credentials so far.
    pub fn basic_grants(&self) -> usize {
        self.shared.basic_grants.load(Ordering::SeqCst)
    }

    /// Tokens granted for a refresh token so far.
    pub fn refresh_grants(&self) -> usize {
        self.shared.refresh_grants.load(Ordering::SeqCst)
    }

    /// The scope sets asked for, one string per token request.
    pub fn scopes_asked(&self) -> Vec<String> {
        self.shared.scopes_asked.lock().unwrap().clone()
    }

    /// Makes every token issued so far invalid (the server's view of expiry).
    pub fn revoke_all(&self) {
        for grant in self.shared.tokens.lock().unwrap().values_mut() {
            grant.valid = false;
        }
    }

    /// Answers blob `GET`s with a redirect to the same path on `host` (a storage host).
    pub fn redirect_blobs_to(&self, host: &str) {
        *self.shared.redirect_blobs_to.lock().unwrap() = Some(host.to_owned());
    }
}

async fn token_endpoint(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut scopes = Scopes::new();
    let granted = if parts.method == Method::POST {
        let body = axum::body::to_bytes(body, 1 << 16).await.unwrap();
        let form: HashMap<String, String> =
            url::form_urlencoded::parse(&body).into_owned().collect();
        scopes = Scopes::parse(form.get("scope").map_or("", String::as_str)).unwrap();
        let refresh = form.get("refresh_token").cloned().unwrap_or_default();
        let known = shared.refresh_tokens.lock().unwrap().contains(&refresh);
        let ok = form.get("grant_type").map(String::as_str) == Some("refresh_token") && known;
        if ok {
            shared.refresh_grants.fetch_add(1, Ordering::SeqCst);
        }
        ok
    } else {
        let query = parts.uri.query().unwrap_or("");
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if name == "scope" {
                scopes.merge(&Scopes::parse(&value).unwrap());
            }
        }
        let expected =
            base64::engine::general_purpose::STANDARD.encode(format!("{USERNAME}:{PASSWORD}"));
        let sent = parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Basic "));
        let ok = sent == Some(expected.as_str());
        if ok {
            shared.basic_grants.fetch_add(1, Ordering::SeqCst);
        }
        ok
    };
    shared.scopes_asked.lock().unwrap().push(scopes.to_string());
    if !granted {
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .body(Body::empty())
            .unwrap();
    }
    let n = shared.issued.fetch_add(1, Ordering::SeqCst);
    let token = format!("token-{n}");
    let refresh = format!("refresh-{n}");
    shared.tokens.lock().unwrap().insert(
        token.clone(),
        Grant {
            scopes,
            valid: true,
        },
    );
    shared.refresh_tokens.lock().unwrap().push(refresh.clone());
    let body = serde_json::json!({
        "token": token,
        "expires_in": LIFETIME_SECS,
        "refresh_token": refresh,
    });
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn guard(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let needed = needed_scopes(request.method(), request.uri());
    let token = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let allowed = token.is_some_and(|token| {
        let tokens = shared.tokens.lock().unwrap();
        tokens
            .get(&token)
            .is_some_and(|grant| grant.valid && grant.scopes.covers(&needed))
    });
    if !allowed {
        let realm = shared.realm.lock().unwrap().clone();
        let mut challenge = format!(r#"Bearer realm="{realm}",service="test-registry""#);
        if !needed.is_empty() {
            challenge.push_str(&format!(r#",scope="{needed}""#));
        }
        return Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .header("www-authenticate", challenge)
            .header("content-type", "application/json")
            .body(Body::from(
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
            ))
            .unwrap();
    }
    let redirect = shared.redirect_blobs_to.lock().unwrap().clone();
    if let Some(host) = redirect {
        let path = request.uri().path();
        if request.method() == Method::GET && path.contains("/blobs/sha256:") {
            return Response::builder()
                .status(StatusCode::TEMPORARY_REDIRECT)
                .header("location", format!("http://{host}{path}"))
                .body(Body::empty())
                .unwrap();
        }
    }
    let http = shared.http.as_ref().unwrap();
    forward::answer(
        forward::send(http, &shared.upstream, request).await,
        forward::whole,
    )
}

/// The scopes a request needs, the way distribution's token authorizer sees it.
fn needed_scopes(method: &Method, uri: &http::Uri) -> Scopes {
    let path = uri.path().strip_prefix("/v2/").unwrap_or("");
    if path.is_empty() {
        return Scopes::new();
    }
    if path.starts_with("_catalog") {
        return Scope::catalog().into();
    }
    let name = ["/manifests/", "/blobs/", "/tags/", "/referrers/"]
        .iter()
        .find_map(|marker| path.find(marker).map(|at| &path[..at]))
        .unwrap_or(path);
    let action = match *method {
        Method::GET | Method::HEAD => "pull",
        // Cancelling an upload is part of pushing.
        Method::DELETE if !path.contains("/blobs/uploads/") => "delete",
        _ => "push",
    };
    let mut scopes = Scopes::from(Scope::repository(name, [action]).unwrap());
    let query = uri.query().unwrap_or("");
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if key == "from" {
            scopes.insert(Scope::pull(&value).unwrap());
        }
    }
    scopes
}
