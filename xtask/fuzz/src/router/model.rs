//! What a fuzz input becomes: a short session of requests, described with enough structure
//! that the fuzzer reaches deep handlers (uploads it started, manifests whose descriptors
//! point at blobs it pushed, digests that match the body sent) while every part can still be
//! arbitrary text.

use arbitrary::Arbitrary;

/// The most requests one input replays; longer sessions add little and slow every run.
pub const MAX_REQUESTS: usize = 8;

/// A registry configuration and the requests sent to a fresh registry built with it.
#[derive(Debug, Arbitrary)]
pub struct Session {
    /// Switches of the registry under test.
    pub config: ConfigChoice,
    /// The requests, in order (only the first [`MAX_REQUESTS`] are sent).
    pub requests: Vec<FuzzRequest>,
}

/// The registry switches worth varying.
#[derive(Debug, Arbitrary)]
pub struct ConfigChoice {
    /// `DELETE` of manifests, tags and blobs.
    pub delete_enabled: bool,
    /// Refuse image manifests whose blobs are missing.
    pub require_manifest_blobs: bool,
    /// Mount without `from`.
    pub automatic_cross_mount: bool,
    /// A manifest limit of a few hundred bytes instead of 4 MiB.
    pub small_manifest_limit: bool,
    /// Announced minimum chunk length.
    pub chunk_min_length: Option<u16>,
    /// Referrers page size (0 becomes 1).
    pub referrers_page_size: u8,
}

/// One request.
#[derive(Debug, Arbitrary)]
pub struct FuzzRequest {
    /// The method.
    pub method: MethodChoice,
    /// The path.
    pub target: Target,
    /// Query parameters, in order.
    pub query: Vec<QueryParam>,
    /// Extra headers, in order.
    pub headers: Vec<HeaderChoice>,
    /// The body.
    pub body: BodyChoice,
}

/// The method of a request.
#[derive(Debug, Arbitrary)]
pub enum MethodChoice {
    /// `GET`.
    Get,
    /// `HEAD`.
    Head,
    /// `PUT`.
    Put,
    /// `POST`.
    Post,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
    /// `OPTIONS`.
    Options,
    /// Any token (requests whose method does not parse are skipped).
    Other(String),
}

/// The path of a request.
#[derive(Debug, Arbitrary)]
pub enum Target {
    /// A distribution endpoint of a repository.
    Endpoint {
        /// The repository.
        repo: RepoChoice,
        /// The endpoint.
        endpoint: Endpoint,
    },
    /// The `Location` of an earlier answer (an upload session, a pushed blob or manifest).
    EarlierLocation(u8),
    /// Any text as the path.
    Raw(String),
}

/// A repository name.
#[derive(Debug, Arbitrary)]
pub enum RepoChoice {
    /// One of a few valid names, so requests meet each other's content.
    Known(u8),
    /// Any text.
    Raw(String),
}

/// The endpoint part of a path.
#[derive(Debug, Arbitrary)]
pub enum Endpoint {
    /// `/v2/`.
    Base,
    /// `/v2/_catalog`.
    Catalog,
    /// `/v2/<name>/blobs/<digest>`.
    Blob(DigestChoice),
    /// `/v2/<name>/blobs/uploads/`.
    UploadStart,
    /// `/v2/<name>/blobs/uploads/<id>` with an id of the fuzzer's own.
    Upload(UploadIdChoice),
    /// `/v2/<name>/manifests/<reference>`.
    Manifest(ReferenceChoice),
    /// `/v2/<name>/tags/list`.
    TagList,
    /// `/v2/<name>/referrers/<digest>`.
    Referrers(DigestChoice),
}

/// An upload id the fuzzer makes up (real ones come from [`Target::EarlierLocation`]).
#[derive(Debug, Arbitrary)]
pub enum UploadIdChoice {
    /// 32 lowercase hex digits, the shape this server hands out.
    WellFormed(u128),
    /// Any text.
    Raw(String),
}

/// A manifest reference.
#[derive(Debug, Arbitrary)]
pub enum ReferenceChoice {
    /// A tag.
    Tag(TagChoice),
    /// A digest.
    Digest(DigestChoice),
}

/// A tag.
#[derive(Debug, Arbitrary)]
pub enum TagChoice {
    /// One of a few valid tags.
    Known(u8),
    /// Any text.
    Raw(String),
}

/// A digest.
#[derive(Debug, Arbitrary)]
pub enum DigestChoice {
    /// The sha256 digest of this request's body.
    OfBody,
    /// The sha512 digest of this request's body.
    OfBodySha512,
    /// The sha256 digest of an earlier request's body.
    OfEarlierBody(u8),
    /// The digest of empty content.
    Empty,
    /// Any text.
    Raw(String),
}

/// A query parameter.
#[derive(Debug, Arbitrary)]
pub enum QueryParam {
    /// `digest=`.
    Digest(DigestChoice),
    /// `mount=`.
    Mount(DigestChoice),
    /// `from=`.
    From(RepoChoice),
    /// `n=`.
    PageSize(u8),
    /// `last=`.
    Last(TagChoice),
    /// `artifactType=`.
    ArtifactType(MediaTypeChoice),
    /// `digest-algorithm=`.
    DigestAlgorithm(String),
    /// `tag=` (push with several tags).
    Tag(TagChoice),
    /// Any name and value, percent-encoded.
    Encoded(String, String),
    /// Any text added to the query as it is (requests whose URI does not parse are skipped).
    Verbatim(String),
}

/// A request header.
#[derive(Debug, Arbitrary)]
pub enum HeaderChoice {
    /// `Content-Type`.
    ContentType(MediaTypeChoice),
    /// `Content-Length`.
    ContentLength(LengthChoice),
    /// `Content-Range` of a chunk.
    ContentRange(RangeChoice),
    /// `Range` of a blob GET.
    Range(RangeChoice),
    /// `Accept`.
    Accept(MediaTypeChoice),
    /// `Authorization`.
    Authorization(String),
    /// Any name and value (headers that HTTP would refuse are skipped).
    Raw(String, String),
}

/// A `Content-Length` value.
#[derive(Debug, Arbitrary)]
pub enum LengthChoice {
    /// The body's real length.
    Exact,
    /// Any number.
    Value(u64),
    /// Any text.
    Raw(String),
}

/// A `Range` or `Content-Range` value.
#[derive(Debug, Arbitrary)]
pub enum RangeChoice {
    /// `start-end` (with an optional `bytes=` or `bytes ` prefix and `/total`).
    Span {
        /// First byte.
        start: BoundChoice,
        /// Last byte.
        end: BoundChoice,
        /// Write `bytes=` (`Range`) or `bytes ` (`Content-Range`) first.
        prefix: bool,
        /// Write `/*` after the span.
        total: bool,
    },
    /// The span the body covers when appended to `offset` bytes.
    BodyAt(u16),
    /// Any text.
    Raw(String),
}

/// A number in a range header, with the edges of `u64` easy to reach.
#[derive(Debug, Arbitrary)]
pub enum BoundChoice {
    /// A small number.
    Small(u16),
    /// `u64::MAX` less a little.
    NearMax(u8),
    /// Any number.
    Any(u64),
}

/// A media type.
#[derive(Debug, Arbitrary)]
pub enum MediaTypeChoice {
    /// OCI image manifest.
    OciManifest,
    /// OCI image index.
    OciIndex,
    /// Docker schema 2 manifest.
    DockerV2,
    /// Docker manifest list.
    DockerList,
    /// Docker schema 1 (refused).
    DockerSchema1,
    /// OCI image config.
    OciConfig,
    /// OCI layer.
    OciLayer,
    /// OCI non-distributable layer.
    NonDistributable,
    /// The empty descriptor's type.
    Empty,
    /// `application/json`.
    Json,
    /// Any text.
    Raw(String),
}

/// The body of a request.
#[derive(Debug, Arbitrary)]
pub enum BodyChoice {
    /// No body.
    Empty,
    /// Any bytes.
    Raw(Vec<u8>),
    /// A well-formed image manifest built from earlier bodies.
    Image(ImageSpec),
    /// A well-formed index built from earlier bodies.
    Index(IndexSpec),
}

/// An image manifest to write as JSON.
#[derive(Debug, Arbitrary)]
pub struct ImageSpec {
    /// Write Docker's schema 2 media type instead of OCI's.
    pub docker: bool,
    /// Write the `mediaType` field.
    pub with_media_type: bool,
    /// The config.
    pub config: DescriptorSpec,
    /// The layers.
    pub layers: Vec<DescriptorSpec>,
    /// The subject (for the referrers API).
    pub subject: Option<DescriptorSpec>,
    /// `artifactType`.
    pub artifact_type: Option<MediaTypeChoice>,
    /// One annotation.
    pub annotation: Option<(String, String)>,
}

/// An index to write as JSON.
#[derive(Debug, Arbitrary)]
pub struct IndexSpec {
    /// Write Docker's manifest list media type instead of OCI's.
    pub docker: bool,
    /// Write the `mediaType` field.
    pub with_media_type: bool,
    /// The children.
    pub manifests: Vec<DescriptorSpec>,
    /// The subject (for the referrers API).
    pub subject: Option<DescriptorSpec>,
}

/// A descriptor pointing at an earlier body.
#[derive(Debug, Arbitrary)]
pub struct DescriptorSpec {
    /// Its media type.
    pub media_type: MediaTypeChoice,
    /// Which earlier body it describes (the empty content when there is none).
    pub earlier_body: u8,
    /// Added to the real size: 0 most of the time, a lie otherwise.
    pub size_error: i8,
}
