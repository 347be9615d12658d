//! Forwarding one HTTP request to an upstream server and its answer back, streaming both
//! bodies: the shared part of the test proxies.

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use futures_util::TryStreamExt;
use http::header::{CONNECTION, CONTENT_LENGTH, HOST, TRANSFER_ENCODING};

/// A reqwest client that leaves redirects to the caller.
pub fn upstream_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Sends `request` to `http://<upstream><path>` and returns the upstream answer.
pub async fn send(http: &reqwest::Client, upstream: &str, request: Request) -> reqwest::Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut headers = parts.headers;
    let has_body = headers.contains_key(CONTENT_LENGTH) || headers.contains_key(TRANSFER_ENCODING);
    for hop in [HOST, CONNECTION, TRANSFER_ENCODING] {
        headers.remove(hop);
    }
    let mut upstream_request = http
        .request(parts.method, format!("http://{upstream}{path}"))
        .headers(headers);
    if has_body {
        upstream_request =
            upstream_request.body(reqwest::Body::wrap_stream(body.into_data_stream()));
    }
    upstream_request.send().await.unwrap()
}

/// An upstream answer as an axum response, its body passed through `body`.
pub fn answer(
    upstream: reqwest::Response,
    body: impl FnOnce(reqwest::Response) -> Body,
) -> Response {
    let mut builder = Response::builder().status(upstream.status());
    for (name, value) in upstream.headers() {
        if name != CONNECTION && name != TRANSFER_ENCODING {
            builder = builder.header(name, value);
        }
    }
    builder.body(body(upstream)).unwrap()
}

/// The upstream body unchanged.
pub fn whole(upstream: reqwest::Response) -> Body {
    Body::from_stream(upstream.bytes_stream().map_err(std::io::Error::other))
}

/// Serves `router` on 127.0.0.1:0 in the background; returns the address.
pub async fn serve(router: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    addr
}
