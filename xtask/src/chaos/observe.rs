//! Reading back, once the clients and the collector are done, what the expectations name:
//! manifests and blobs streamed and hashed, tags resolved with `HEAD`, referrers lists.

use std::collections::HashMap;

use futures_util::StreamExt;
use oci_digest::{Digest, Digester};
use reqwest::header::{ACCEPT, HeaderName};

use super::expect::{Expectations, Observed, Read};
use super::net::{Net, error_of, header};
use crate::conformance::data::ACCEPT_ALL;

/// The answer header naming a manifest's digest.
const CONTENT_DIGEST: HeaderName = HeaderName::from_static("docker-content-digest");

/// Reads everything `expectations` names, spreading the reads over the instances.
pub async fn observe(net: &Net, expectations: &Expectations) -> Observed {
    let mut reader = Reader {
        net,
        turn: 0,
        blobs: HashMap::new(),
    };
    let mut observed = Observed::default();
    for expected in &expectations.manifests {
        let repo = &expected.repo;
        let digest = &expected.manifest.digest;
        let path = format!("/v2/{repo}/manifests/{digest}");
        let read = reader.hashed(&path, digest).await;
        observed
            .manifests
            .insert((repo.clone(), digest.clone()), read);
        for blob in &expected.manifest.blobs {
            let read = reader.blob(repo, blob).await;
            observed.blobs.insert((repo.clone(), blob.clone()), read);
        }
    }
    for expected in &expectations.tags {
        let path = format!("/v2/{}/manifests/{}", expected.repo, expected.tag);
        let value = reader.tag(&path).await;
        observed
            .tags
            .insert((expected.repo.clone(), expected.tag.clone()), value);
    }
    for (repo, subject) in expectations.referrers().into_keys() {
        let path = format!("/v2/{repo}/referrers/{subject}");
        let listed = reader.referrers(&path).await;
        observed.referrers.insert((repo, subject), listed);
    }
    observed
}

struct Reader<'a> {
    net: &'a Net,
    turn: usize,
    /// Blobs already read, since many manifests name the same ones.
    blobs: HashMap<(String, Digest), Read>,
}

impl Reader<'_> {
    /// A `GET` to the next instance in turn.
    fn get(&mut self, path: &str) -> reqwest::RequestBuilder {
        self.turn += 1;
        let instance = self.turn % self.net.instances().max(1);
        self.net
            .http()
            .get(self.net.url(instance, path))
            .header(ACCEPT, ACCEPT_ALL)
    }

    async fn blob(&mut self, repo: &str, digest: &Digest) -> Read {
        let key = (repo.to_string(), digest.clone());
        if let Some(read) = self.blobs.get(&key) {
            return read.clone();
        }
        let read = self
            .hashed(&format!("/v2/{repo}/blobs/{digest}"), digest)
            .await;
        self.blobs.insert(key, read.clone());
        read
    }

    /// Streams the body of `path` through a hasher of `digest`'s algorithm.
    async fn hashed(&mut self, path: &str, digest: &Digest) -> Read {
        let response = match self.get(path).send().await {
            Ok(response) => response,
            Err(error) => return Read::Missing(format!("no answer: {error}")),
        };
        let status = response.status().as_u16();
        if status != 200 {
            let body = response.bytes().await.unwrap_or_default();
            let code = error_of(&body).0.unwrap_or_default();
            return Read::Missing(format!("{status} {code}").trim_end().to_string());
        }
        let Ok(mut digester) = Digester::new(digest.algorithm()) else {
            return Read::Missing(format!("cannot hash {}", digest.algorithm()));
        };
        let mut body = response.bytes_stream();
        while let Some(piece) = body.next().await {
            match piece {
                Ok(piece) => digester.update(&piece),
                Err(error) => return Read::Missing(format!("body broke: {error}")),
            }
        }
        let found = digester.finish();
        if found == *digest {
            Read::Intact
        } else {
            Read::Corrupt(found)
        }
    }

    /// The digest a tag resolves to; `None` on 404.
    async fn tag(&mut self, path: &str) -> Result<Option<Digest>, String> {
        self.turn += 1;
        let instance = self.turn % self.net.instances().max(1);
        let response = self
            .net
            .http()
            .head(self.net.url(instance, path))
            .header(ACCEPT, ACCEPT_ALL)
            .send()
            .await
            .map_err(|error| format!("no answer: {error}"))?;
        match response.status().as_u16() {
            200 => {
                let named = header(response.headers(), &CONTENT_DIGEST)
                    .ok_or("200 without Docker-Content-Digest")?;
                Digest::parse(&named)
                    .map(Some)
                    .map_err(|_| format!("bad Docker-Content-Digest {named:?}"))
            }
            404 => Ok(None),
            status => Err(format!("HEAD answered {status}")),
        }
    }

    /// The digests a referrers list holds.
    async fn referrers(&mut self, path: &str) -> Result<Vec<Digest>, String> {
        let response = self
            .get(path)
            .send()
            .await
            .map_err(|error| format!("no answer: {error}"))?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(format!("GET answered {status}"));
        }
        let body = response
            .bytes()
            .await
            .map_err(|error| format!("body broke: {error}"))?;
        let index: serde_json::Value =
            serde_json::from_slice(&body).map_err(|_| "not JSON".to_string())?;
        let entries = index["manifests"].as_array().cloned().unwrap_or_default();
        Ok(entries
            .iter()
            .filter_map(|entry| entry["digest"].as_str())
            .filter_map(|text| Digest::parse(text).ok())
            .collect())
    }
}
