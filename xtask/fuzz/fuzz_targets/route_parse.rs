//! Raw HTTP/1.1 requests: a request line (`METHOD target HTTP/1.1`), header lines, a blank line,
//! a body. The path goes through `Route::parse`; the whole request through an empty `Registry`.
//!
//! An accepted route must print back to a path that parses to the same route, and hold only
//! validated parts (names, tags, computable digests). The registry must answer without a panic
//! or a 5xx and by the protocol (see `oci_fuzz::router::check`). Being plain text, these
//! inputs are also the readable way to keep a router regression.
#![no_main]

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, Uri};
use http_body_util::Full;
use libfuzzer_sys::fuzz_target;
use oci_fuzz::router::answer_once;
use oci_server_core::{ManifestRef, Route};
use oci_spec_types::{validate_repository, validate_tag};

fuzz_target!(|message: &[u8]| {
    let (head, body) = split_message(message);
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    let request_line = lines.next().unwrap_or_default();
    let mut words = request_line.splitn(3, |&b| b == b' ');
    let method = words.next().unwrap_or_default();
    let target = words.next().unwrap_or_default();

    let raw_path = target.split(|&b| b == b'?').next().unwrap_or_default();
    check_route(&String::from_utf8_lossy(raw_path));

    let (Ok(method), Ok(uri)) = (Method::from_bytes(method), Uri::try_from(target)) else {
        return;
    };
    check_route(uri.path());
    let mut request = Request::builder().method(method).uri(uri);
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let value = line[colon + 1..].trim_ascii();
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(&line[..colon]),
            HeaderValue::from_bytes(value),
        ) {
            request = request.header(name, value);
        }
    }
    if let Ok(request) = request.body(Full::new(Bytes::copy_from_slice(body))) {
        answer_once(request);
    }
});

/// Splits a message at its first blank line into the head and the body.
fn split_message(message: &[u8]) -> (&[u8], &[u8]) {
    for (separator, len) in [(&b"\r\n\r\n"[..], 4), (&b"\n\n"[..], 2)] {
        if let Some(at) = message.windows(len).position(|window| window == separator) {
            return (&message[..at], &message[at + len..]);
        }
    }
    (message, &[])
}

fn check_route(path: &str) {
    let Ok(route) = Route::parse(path) else {
        return;
    };
    let printed = print(&route);
    assert_eq!(
        Route::parse(&printed).as_ref().ok(),
        Some(&route),
        "{path:?} printed as {printed:?}"
    );
    match &route {
        Route::Base | Route::Catalog | Route::Search => {}
        Route::Blob { name, digest } | Route::Referrers { name, digest } => {
            assert!(validate_repository(name.as_str()).is_ok());
            assert!(digest.algorithm().is_computable(), "{path:?}");
        }
        Route::Manifest { name, reference } => {
            assert!(validate_repository(name.as_str()).is_ok());
            match reference {
                Ok(ManifestRef::Tag(tag)) => assert!(validate_tag(tag.as_str()).is_ok()),
                Ok(ManifestRef::Digest(digest)) => assert!(digest.algorithm().is_computable()),
                // Kept as text only to be answered 404 (or refused on push), never stored.
                Err(raw) => assert!(ManifestRef::parse(raw).is_err(), "{path:?}"),
            }
        }
        Route::UploadStart { name } | Route::Upload { name, .. } | Route::TagList { name } => {
            assert!(validate_repository(name.as_str()).is_ok());
        }
    }
}

/// The canonical path of a route.
fn print(route: &Route) -> String {
    match route {
        Route::Base => "/v2/".to_owned(),
        Route::Catalog => "/v2/_catalog".to_owned(),
        Route::Search => "/v1/search".to_owned(),
        Route::Blob { name, digest } => format!("/v2/{name}/blobs/{digest}"),
        Route::UploadStart { name } => format!("/v2/{name}/blobs/uploads/"),
        Route::Upload { name, id: Ok(id) } => format!("/v2/{name}/blobs/uploads/{id}"),
        Route::Upload { name, id: Err(raw) } => format!("/v2/{name}/blobs/uploads/{raw}"),
        Route::Manifest {
            name,
            reference: Ok(reference),
        } => format!("/v2/{name}/manifests/{reference}"),
        Route::Manifest {
            name,
            reference: Err(raw),
        } => format!("/v2/{name}/manifests/{raw}"),
        Route::TagList { name } => format!("/v2/{name}/tags/list"),
        Route::Referrers { name, digest } => format!("/v2/{name}/referrers/{digest}"),
    }
}
