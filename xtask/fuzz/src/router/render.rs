//! Turning the [`model`](super::model) into real `http::Request`s, given what earlier requests
//! of the session sent and were answered.

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, Uri};
use http_body_util::Full;
use oci_digest::{Algorithm, Digest, EMPTY_SHA256};
use serde_json::{Value, json};

use super::model::{
    BodyChoice, BoundChoice, DescriptorSpec, DigestChoice, Endpoint, FuzzRequest, HeaderChoice,
    ImageSpec, IndexSpec, LengthChoice, MediaTypeChoice, MethodChoice, QueryParam, RangeChoice,
    ReferenceChoice, RepoChoice, TagChoice, Target, UploadIdChoice,
};

/// Valid repository names the fuzzer picks by number.
const KNOWN_REPOS: [&str; 3] = ["library/alpine", "team/app", "a"];
/// Valid tags the fuzzer picks by number.
const KNOWN_TAGS: [&str; 3] = ["latest", "v1.0", "sha256-0"];

/// What the session has sent and been told so far.
#[derive(Debug, Default)]
pub struct History {
    /// The body of every request sent, in order.
    pub bodies: Vec<Bytes>,
    /// Every `Location` answered, in order.
    pub locations: Vec<String>,
}

impl History {
    fn earlier_body(&self, index: u8) -> Bytes {
        pick(&self.bodies, index).cloned().unwrap_or_default()
    }
}

/// The request `choice` describes and its body, or `None` when its method or URI cannot be
/// sent.
pub fn request(choice: &FuzzRequest, history: &History) -> Option<(Request<Full<Bytes>>, Bytes)> {
    let body = body(&choice.body, history);
    let method = method(&choice.method)?;
    let mut uri = path(&choice.target, &body, history);
    let query: Vec<String> = choice
        .query
        .iter()
        .map(|param| query_param(param, &body, history))
        .collect();
    if !query.is_empty() {
        uri.push(if uri.contains('?') { '&' } else { '?' });
        uri.push_str(&query.join("&"));
    }
    let uri = Uri::try_from(uri).ok()?;
    let mut request = Request::builder().method(method).uri(uri);
    for header in &choice.headers {
        let (name, value) = header_pair(header, &body);
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            request = request.header(name, value);
        }
    }
    let request = request.body(Full::new(body.clone())).ok()?;
    Some((request, body))
}

fn method(choice: &MethodChoice) -> Option<Method> {
    Some(match choice {
        MethodChoice::Get => Method::GET,
        MethodChoice::Head => Method::HEAD,
        MethodChoice::Put => Method::PUT,
        MethodChoice::Post => Method::POST,
        MethodChoice::Patch => Method::PATCH,
        MethodChoice::Delete => Method::DELETE,
        MethodChoice::Options => Method::OPTIONS,
        MethodChoice::Other(text) => Method::from_bytes(text.as_bytes()).ok()?,
    })
}

fn path(target: &Target, body: &Bytes, history: &History) -> String {
    let (repo, endpoint) = match target {
        Target::Raw(text) => return text.clone(),
        Target::EarlierLocation(index) => {
            return pick(&history.locations, *index)
                .cloned()
                .unwrap_or_else(|| "/v2/".to_owned());
        }
        Target::Endpoint { repo, endpoint } => (repo_name(repo), endpoint),
    };
    match endpoint {
        Endpoint::Base => "/v2/".to_owned(),
        Endpoint::Catalog => "/v2/_catalog".to_owned(),
        Endpoint::Blob(digest) => {
            format!("/v2/{repo}/blobs/{}", digest_text(digest, body, history))
        }
        Endpoint::UploadStart => format!("/v2/{repo}/blobs/uploads/"),
        Endpoint::Upload(UploadIdChoice::WellFormed(id)) => {
            format!("/v2/{repo}/blobs/uploads/{id:032x}")
        }
        Endpoint::Upload(UploadIdChoice::Raw(id)) => format!("/v2/{repo}/blobs/uploads/{id}"),
        Endpoint::Manifest(ReferenceChoice::Tag(tag)) => {
            format!("/v2/{repo}/manifests/{}", tag_text(tag))
        }
        Endpoint::Manifest(ReferenceChoice::Digest(digest)) => {
            format!(
                "/v2/{repo}/manifests/{}",
                digest_text(digest, body, history)
            )
        }
        Endpoint::TagList => format!("/v2/{repo}/tags/list"),
        Endpoint::Referrers(digest) => {
            format!(
                "/v2/{repo}/referrers/{}",
                digest_text(digest, body, history)
            )
        }
    }
}

fn repo_name(choice: &RepoChoice) -> String {
    match choice {
        RepoChoice::Known(index) => KNOWN_REPOS[usize::from(*index) % KNOWN_REPOS.len()].to_owned(),
        RepoChoice::Raw(text) => text.clone(),
    }
}

fn tag_text(choice: &TagChoice) -> String {
    match choice {
        TagChoice::Known(index) => KNOWN_TAGS[usize::from(*index) % KNOWN_TAGS.len()].to_owned(),
        TagChoice::Raw(text) => text.clone(),
    }
}

fn digest_text(choice: &DigestChoice, body: &Bytes, history: &History) -> String {
    match choice {
        DigestChoice::OfBody => Digest::compute(body).to_string(),
        DigestChoice::OfBodySha512 => Digest::compute_with(&Algorithm::Sha512, body)
            .map_or_else(|_| EMPTY_SHA256.to_owned(), |digest| digest.to_string()),
        DigestChoice::OfEarlierBody(index) => {
            Digest::compute(&history.earlier_body(*index)).to_string()
        }
        DigestChoice::Empty => EMPTY_SHA256.to_owned(),
        DigestChoice::Raw(text) => text.clone(),
    }
}

fn query_param(param: &QueryParam, body: &Bytes, history: &History) -> String {
    let pair = |name: &str, value: &str| format!("{}={}", encode(name), encode(value));
    match param {
        QueryParam::Digest(digest) => pair("digest", &digest_text(digest, body, history)),
        QueryParam::Mount(digest) => pair("mount", &digest_text(digest, body, history)),
        QueryParam::From(repo) => pair("from", &repo_name(repo)),
        QueryParam::PageSize(n) => pair("n", &n.to_string()),
        QueryParam::Last(tag) => pair("last", &tag_text(tag)),
        QueryParam::ArtifactType(media_type) => pair("artifactType", media_type_text(media_type)),
        QueryParam::DigestAlgorithm(name) => pair("digest-algorithm", name),
        QueryParam::Tag(tag) => pair("tag", &tag_text(tag)),
        QueryParam::Encoded(name, value) => pair(name, value),
        QueryParam::Verbatim(text) => text.clone(),
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

fn header_pair(header: &HeaderChoice, body: &Bytes) -> (String, String) {
    let (name, value) = match header {
        HeaderChoice::ContentType(media_type) => {
            ("content-type", media_type_text(media_type).to_owned())
        }
        HeaderChoice::ContentLength(LengthChoice::Exact) => {
            ("content-length", body.len().to_string())
        }
        HeaderChoice::ContentLength(LengthChoice::Value(n)) => ("content-length", n.to_string()),
        HeaderChoice::ContentLength(LengthChoice::Raw(text)) => ("content-length", text.clone()),
        HeaderChoice::ContentRange(range) => ("content-range", range_text(range, "bytes ", body)),
        HeaderChoice::Range(range) => ("range", range_text(range, "bytes=", body)),
        HeaderChoice::Accept(media_type) => ("accept", media_type_text(media_type).to_owned()),
        HeaderChoice::Authorization(text) => ("authorization", text.clone()),
        HeaderChoice::Raw(name, value) => return (name.clone(), value.clone()),
    };
    (name.to_owned(), value)
}

fn range_text(range: &RangeChoice, prefix: &str, body: &Bytes) -> String {
    match range {
        RangeChoice::Span {
            start,
            end,
            prefix: with_prefix,
            total,
        } => {
            let prefix = if *with_prefix { prefix } else { "" };
            let total = if *total { "/*" } else { "" };
            let (start, end) = (bound(start), bound(end));
            format!("{prefix}{start}-{end}{total}")
        }
        RangeChoice::BodyAt(offset) => {
            let start = u64::from(*offset);
            let last = start + (body.len() as u64).saturating_sub(1);
            format!("{start}-{last}")
        }
        RangeChoice::Raw(text) => text.clone(),
    }
}

fn bound(choice: &BoundChoice) -> u64 {
    match choice {
        BoundChoice::Small(n) => u64::from(*n),
        BoundChoice::NearMax(below) => u64::MAX - u64::from(*below),
        BoundChoice::Any(n) => *n,
    }
}

fn media_type_text(choice: &MediaTypeChoice) -> &str {
    match choice {
        MediaTypeChoice::OciManifest => "application/vnd.oci.image.manifest.v1+json",
        MediaTypeChoice::OciIndex => "application/vnd.oci.image.index.v1+json",
        MediaTypeChoice::DockerV2 => "application/vnd.docker.distribution.manifest.v2+json",
        MediaTypeChoice::DockerList => "application/vnd.docker.distribution.manifest.list.v2+json",
        MediaTypeChoice::DockerSchema1 => {
            "application/vnd.docker.distribution.manifest.v1+prettyjws"
        }
        MediaTypeChoice::OciConfig => "application/vnd.oci.image.config.v1+json",
        MediaTypeChoice::OciLayer => "application/vnd.oci.image.layer.v1.tar+gzip",
        MediaTypeChoice::NonDistributable => {
            "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
        }
        MediaTypeChoice::Empty => "application/vnd.oci.empty.v1+json",
        MediaTypeChoice::Json => "application/json",
        MediaTypeChoice::Raw(text) => text,
    }
}

fn body(choice: &BodyChoice, history: &History) -> Bytes {
    match choice {
        BodyChoice::Empty => Bytes::new(),
        BodyChoice::Raw(bytes) => Bytes::copy_from_slice(bytes),
        BodyChoice::Image(spec) => json_bytes(&image_json(spec, history)),
        BodyChoice::Index(spec) => json_bytes(&index_json(spec, history)),
    }
}

fn json_bytes(value: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}

fn image_json(spec: &ImageSpec, history: &History) -> Value {
    let media_type = if spec.docker {
        MediaTypeChoice::DockerV2
    } else {
        MediaTypeChoice::OciManifest
    };
    let mut manifest = json!({
        "schemaVersion": 2,
        "config": descriptor(&spec.config, history),
        "layers": spec.layers.iter().map(|layer| descriptor(layer, history)).collect::<Vec<_>>(),
    });
    if spec.with_media_type {
        manifest["mediaType"] = media_type_text(&media_type).into();
    }
    if let Some(subject) = &spec.subject {
        manifest["subject"] = descriptor(subject, history);
    }
    if let Some(artifact_type) = &spec.artifact_type {
        manifest["artifactType"] = media_type_text(artifact_type).into();
    }
    if let Some((key, value)) = &spec.annotation {
        manifest["annotations"] = json!({ key: value });
    }
    manifest
}

fn index_json(spec: &IndexSpec, history: &History) -> Value {
    let media_type = if spec.docker {
        MediaTypeChoice::DockerList
    } else {
        MediaTypeChoice::OciIndex
    };
    let mut index = json!({
        "schemaVersion": 2,
        "manifests": spec.manifests.iter().map(|child| descriptor(child, history)).collect::<Vec<_>>(),
    });
    if spec.with_media_type {
        index["mediaType"] = media_type_text(&media_type).into();
    }
    if let Some(subject) = &spec.subject {
        index["subject"] = descriptor(subject, history);
    }
    index
}

fn descriptor(spec: &DescriptorSpec, history: &History) -> Value {
    let content = history.earlier_body(spec.earlier_body);
    // Mostly the truth; a lie in about one case in twenty.
    let lie = if spec.size_error.unsigned_abs() > 120 {
        i64::from(spec.size_error)
    } else {
        0
    };
    json!({
        "mediaType": media_type_text(&spec.media_type),
        "digest": Digest::compute(&content).to_string(),
        "size": (content.len() as i64 + lie).max(0),
    })
}

fn pick<T>(items: &[T], index: u8) -> Option<&T> {
    (!items.is_empty()).then(|| &items[usize::from(index) % items.len()])
}
