//! Requests to the instances, each recorded in the history with its span and outcome.
//!
//! Instances can be killed and restarted on a new port, so a request looks up its instance's
//! address when it is sent. Answers in this part are small (empty, or an error body), so they
//! are read whole; the final reads that hash content stream ([`super::observe`]).

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, LOCATION};
use reqwest::{Body, Method};

use super::history::{Action, Outcome, Recorder, Request, Span};
use crate::error::XtaskError;

/// Who sends a request, for the record.
#[derive(Debug, Clone, Copy)]
pub struct Sender {
    /// The client.
    pub client: usize,
    /// Its operation.
    pub op: usize,
    /// The instance the request goes to.
    pub instance: usize,
}

/// What came back, as much as the clients need.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status, when there was an answer.
    pub status: Option<u16>,
    /// The `Location` header.
    pub location: Option<String>,
}

/// The HTTP client of a history, shared by its clients.
#[derive(Debug, Clone)]
pub struct Net {
    http: reqwest::Client,
    urls: Arc<RwLock<Vec<String>>>,
    recorder: Arc<Recorder>,
}

impl Net {
    /// A client for the instances whose current base URLs `urls` holds.
    pub fn new(urls: Arc<RwLock<Vec<String>>>, recorder: Arc<Recorder>) -> Result<Net, XtaskError> {
        let http = reqwest::Client::builder()
            // A safety net against a hung server, not an assertion about speed.
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(|error| XtaskError::BadUrl {
                url: "(chaos client)".into(),
                reason: error.to_string(),
            })?;
        Ok(Net {
            http,
            urls,
            recorder,
        })
    }

    /// The plain HTTP client, for the final reads.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// How many instances there are.
    pub fn instances(&self) -> usize {
        self.urls
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// The URL of `target` (a `/v2/...` path, or a `Location` value) on `instance` as it is
    /// now. A `Location` names the instance that answered; any instance serves it, so only its
    /// path and query are kept.
    pub fn url(&self, instance: usize, target: &str) -> String {
        let path = match target.find("://") {
            Some(scheme_end) => {
                let rest = &target[scheme_end + 3..];
                rest.find('/').map_or("/", |slash| &rest[slash..])
            }
            None => target,
        };
        let urls = self.urls.read().unwrap_or_else(PoisonError::into_inner);
        let base = urls
            .get(instance)
            .or(urls.first())
            .map_or("", String::as_str);
        format!("{base}{path}")
    }

    /// Sends a request and records it with `action`.
    pub async fn send(
        &self,
        sender: Sender,
        method: Method,
        target: &str,
        headers: HeaderMap,
        body: Option<Body>,
        action: Action,
    ) -> Reply {
        // Started before the address is looked up: a request that still finds the address of
        // an instance killed meanwhile then overlaps the time it was down.
        let start = self.recorder.now();
        let url = self.url(sender.instance, target);
        let mut request = self.http.request(method, url).headers(headers);
        if let Some(body) = body {
            request = request.body(body);
        }
        let (outcome, location) = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let location = header(response.headers(), &LOCATION);
                let (code, detail) = match response.bytes().await {
                    Ok(body) if status >= 400 => error_of(&body),
                    Ok(_) => (None, None),
                    Err(error) => {
                        let outcome = Outcome::NoAnswer {
                            reason: format!("{status}, then the body broke: {error}"),
                        };
                        return self.record(sender, start, action, outcome, None);
                    }
                };
                let outcome = Outcome::Answered {
                    status,
                    code,
                    detail,
                };
                (outcome, location)
            }
            Err(error) => {
                let reason = std::error::Error::source(&error)
                    .map_or_else(|| error.to_string(), |source| source.to_string());
                (Outcome::NoAnswer { reason }, None)
            }
        };
        self.record(sender, start, action, outcome, location)
    }

    fn record(
        &self,
        sender: Sender,
        start: Duration,
        action: Action,
        outcome: Outcome,
        location: Option<String>,
    ) -> Reply {
        let status = outcome.answered();
        self.recorder.request(Request {
            client: sender.client,
            op: sender.op,
            instance: sender.instance,
            span: Span {
                start,
                end: self.recorder.now(),
            },
            action,
            outcome,
        });
        Reply { status, location }
    }
}

/// A header's value as text.
pub fn header(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
}

/// The first error's code and the digest its `detail` names, from an error body.
pub fn error_of(body: &[u8]) -> (Option<String>, Option<String>) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return (None, None);
    };
    let first = &value["errors"][0];
    let code = first["code"].as_str().map(str::to_string);
    let detail = first["detail"]["digest"]
        .as_str()
        .or(first["detail"].as_str())
        .map(str::to_string);
    (code, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_code_and_the_digest_of_an_error_body() {
        let body = br#"{"errors":[{"code":"MANIFEST_BLOB_UNKNOWN","message":"m","detail":{"digest":"sha256:ab"}}]}"#;
        assert_eq!(
            error_of(body),
            (
                Some("MANIFEST_BLOB_UNKNOWN".into()),
                Some("sha256:ab".into())
            )
        );
        assert_eq!(error_of(b"not json"), (None, None));
    }

    #[test]
    fn a_location_is_served_by_whichever_instance_is_asked() {
        let urls = Arc::new(RwLock::new(vec![
            "http://127.0.0.1:1".to_string(),
            "http://127.0.0.1:2".to_string(),
        ]));
        let net = Net::new(urls, Arc::new(Recorder::new())).unwrap();
        assert_eq!(
            net.url(1, "http://127.0.0.1:1/v2/a/blobs/uploads/x?y=1"),
            "http://127.0.0.1:2/v2/a/blobs/uploads/x?y=1"
        );
        assert_eq!(net.url(0, "/v2/"), "http://127.0.0.1:1/v2/");
    }
}
