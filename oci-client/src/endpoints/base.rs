//! `GET /v2/`: is this a registry, and may we talk to it (end-1).

use http::{Method, StatusCode};
use oci_auth::Scopes;

use crate::client::Client;
use crate::error::Error;
use crate::headers::API_VERSION;
use crate::request::Request;

/// What `GET /v2/` told.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PingInfo {
    /// The `Docker-Distribution-API-Version` header (`registry/2.0`), when sent.
    pub api_version: Option<String>,
}

impl Client {
    /// Checks that `registry` (`host[:port]`) speaks the distribution API and accepts our
    /// credentials (a 401 is answered like any other request's).
    pub async fn ping(&self, registry: &str) -> Result<PingInfo, Error> {
        let url = self.transport().base_url(registry)?;
        let request = Request::new(Method::GET, url, registry, Scopes::new());
        let response = self
            .transport()
            .send(request)
            .await?
            .expect(&[StatusCode::OK])
            .await?;
        let api_version = response.header(API_VERSION)?.map(str::to_owned);
        Ok(PingInfo { api_version })
    }
}
