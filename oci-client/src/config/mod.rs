//! [`ClientConfig`] and its builder: hosts, timeouts, retries, limits and credentials.

mod registries;

use std::num::{NonZeroU64, NonZeroUsize};
use std::time::Duration;

use oci_auth::{Authenticator, CredentialStore};

pub(crate) use self::registries::{Registries, Scheme, host_of};
use crate::containers::{ContainersConventions, Routes};
use crate::error::Error;
use crate::retry::RetryPolicy;
use crate::tls::{Certificates, Identity, TlsProfile};

/// The manifest size every registry must accept (4 MiB), the default read limit.
pub const DEFAULT_MAX_MANIFEST_SIZE: u64 = 4 * 1024 * 1024;

/// The default chunk size of chunked uploads (8 MiB).
pub const DEFAULT_CHUNK_SIZE: NonZeroU64 = NonZeroU64::new(8 * 1024 * 1024).expect("not zero");

/// Requests in flight to one registry at most, by default.
pub const DEFAULT_MAX_REQUESTS_PER_HOST: NonZeroUsize =
    NonZeroUsize::new(8).expect("8 is not zero");

/// The default connect timeout (30 s).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default read timeout (300 s without a byte).
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(300);

/// Where credentials come from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CredentialSource {
    /// Look them up in a store (explicit entries, Docker `config.json`, podman `auth.json`).
    Store(CredentialStore),
    /// Use this authenticator, shared with other clients (and its token cache with them).
    Authenticator(Authenticator),
}

/// How a [`Client`](crate::Client) talks to registries. Build one with
/// [`ClientConfig::builder`]; [`ClientConfig::default`] suits most uses, and
/// [`ClientConfig::from_containers_conventions`] reads the system's `certs.d` directories and
/// `registries.conf` the way podman and Docker do.
///
/// # TLS
/// Certificates are checked against the platform's trust store (on Linux the system CA
/// bundle; `SSL_CERT_FILE` and `SSL_CERT_DIR` override it) plus the roots added with
/// [`root_certificates`](ClientConfigBuilder::root_certificates) and
/// [`registry_root_certificates`](ClientConfigBuilder::registry_root_certificates). The crypto
/// provider is a cargo feature: `rustls-aws-lc-rs` (default) or `rustls-ring`; with neither,
/// the program must install a rustls default provider before building a client.
///
/// # Plain HTTP
/// Registries named with [`plain_http`](ClientConfigBuilder::plain_http) get `http`.
/// Loopback hosts (`localhost`, `127.0.0.1`, `::1`) are tried over plain HTTP first and over
/// TLS when no registry answers plain HTTP there (a first TLS handshake costs tens of
/// milliseconds of CPU, a plain request a round trip); the answer is remembered per client.
/// Other hosts are never tried over plain HTTP unless configured.
///
/// # Proxies
/// By default the environment's `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` apply;
/// [`proxy`](ClientConfigBuilder::proxy) replaces them with an explicit proxy.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    pub(crate) registries: Registries,
    pub(crate) tls: TlsProfile,
    pub(crate) proxy: Option<String>,
    pub(crate) no_proxy: Option<String>,
    pub(crate) routes: Routes,
    pub(crate) connect_timeout: Duration,
    pub(crate) read_timeout: Option<Duration>,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_requests_per_host: NonZeroUsize,
    pub(crate) user_agent: String,
    pub(crate) credentials: CredentialSource,
    pub(crate) max_manifest_size: u64,
    pub(crate) chunk_size: NonZeroU64,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            registries: Registries::default(),
            tls: TlsProfile::default(),
            proxy: None,
            no_proxy: None,
            routes: Routes::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: Some(DEFAULT_READ_TIMEOUT),
            retry: RetryPolicy::default(),
            max_requests_per_host: DEFAULT_MAX_REQUESTS_PER_HOST,
            user_agent: concat!("oci-distribution-client/", env!("CARGO_PKG_VERSION")).to_owned(),
            credentials: CredentialSource::Store(CredentialStore::from_env()),
            max_manifest_size: DEFAULT_MAX_MANIFEST_SIZE,
            chunk_size: DEFAULT_CHUNK_SIZE,
        }
    }
}

impl ClientConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> ClientConfigBuilder {
        ClientConfigBuilder {
            config: ClientConfig::default(),
        }
    }

    /// The configuration podman, skopeo and Docker would use on this machine: the system's
    /// `certs.d` directories and `registries.conf` (see [`ContainersConventions::system`]).
    pub fn from_containers_conventions() -> Result<ClientConfig, Error> {
        Ok(ClientConfig::builder()
            .containers_conventions(&ContainersConventions::system())?
            .build())
    }

    /// True when TLS certificates of `host` (a URL host, with or without port) go unchecked.
    pub fn is_insecure(&self, host: &str) -> bool {
        self.registries.is_insecure(host)
    }

    /// The scheme `registry` (`host[:port]`) is reached with.
    pub(crate) fn scheme(&self, registry: &str) -> Scheme {
        self.registries.scheme(registry)
    }

    /// The retry policy.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The largest manifest (or referrers page) read or sent, in bytes.
    pub fn max_manifest_size(&self) -> u64 {
        self.max_manifest_size
    }

    /// The chunk size of chunked uploads (raised to a registry's `OCI-Chunk-Min-Length`).
    pub fn chunk_size(&self) -> NonZeroU64 {
        self.chunk_size
    }

    /// Requests in flight to one registry at most.
    pub fn max_requests_per_host(&self) -> NonZeroUsize {
        self.max_requests_per_host
    }
}

/// Builds a [`ClientConfig`].
#[derive(Debug, Clone)]
pub struct ClientConfigBuilder {
    config: ClientConfig,
}

impl ClientConfigBuilder {
    /// Talk plain HTTP to `registry` (`host[:port]`, or `host` for all its ports). Loopback
    /// hosts need no entry: they fall back to plain HTTP when they do not speak TLS.
    pub fn plain_http(mut self, registry: &str) -> Self {
        self.config.registries.entry(registry).plain_http = true;
        self
    }

    /// Accept any TLS certificate from `host` (`host` or `host:port`): for test registries
    /// with self-signed certificates only. Prefer adding the registry's CA with
    /// [`registry_root_certificates`](Self::registry_root_certificates).
    pub fn insecure(mut self, host: &str) -> Self {
        self.config.registries.entry(host).insecure = true;
        self
    }

    /// Trust these certificate authorities for every registry, besides the platform's.
    pub fn root_certificates(mut self, roots: Certificates) -> Self {
        self.config.tls.roots.extend(roots);
        self
    }

    /// Trust only the configured roots, not the platform's trust store.
    pub fn only_configured_roots(mut self, only: bool) -> Self {
        self.config.tls.only_roots = only;
        self
    }

    /// Present this client certificate to every registry that asks for one.
    pub fn identity(mut self, identity: Identity) -> Self {
        self.config.tls.identity = Some(identity);
        self
    }

    /// Trust these certificate authorities for `registry` (`host[:port]`, or `host`) only,
    /// as `certs.d/<registry>/ca.crt` does.
    pub fn registry_root_certificates(mut self, registry: &str, roots: Certificates) -> Self {
        self.config.registries.entry(registry).roots.extend(roots);
        self
    }

    /// Present this client certificate to `registry` (`host[:port]`, or `host`), as
    /// `certs.d/<registry>/client.cert` and `client.key` do.
    pub fn registry_identity(mut self, registry: &str, identity: Identity) -> Self {
        self.config.registries.entry(registry).identity = Some(identity);
        self
    }

    /// Send every request through this proxy (`http://`, `https://` or `socks5://` URL, with
    /// credentials in the URL when needed) instead of the environment's proxies.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.config.proxy = Some(url.into());
        self
    }

    /// Hosts that bypass the explicit [`proxy`](Self::proxy): a comma-separated list in
    /// `NO_PROXY` syntax (`registry.internal,.corp.example,10.0.0.0/8`).
    pub fn no_proxy(mut self, hosts: impl Into<String>) -> Self {
        self.config.no_proxy = Some(hosts.into());
        self
    }

    /// Reads the `certs.d` directories and `registries.conf` that `conventions` names:
    /// roots, client identities, insecure and blocked registries, locations and mirrors.
    pub fn containers_conventions(
        mut self,
        conventions: &ContainersConventions,
    ) -> Result<Self, Error> {
        conventions.apply(&mut self.config.registries, &mut self.config.routes)?;
        Ok(self)
    }

    /// Give up connecting after this long.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// Give up when a read waits this long for data (`None`: wait forever). Applies to each
    /// read, so a long blob download is fine as long as bytes keep coming.
    pub fn read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config.read_timeout = timeout;
        self
    }

    /// How to retry failed requests.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.config.retry = policy;
        self
    }

    /// Requests in flight to one registry at most (default
    /// [`DEFAULT_MAX_REQUESTS_PER_HOST`]). A blob download holds its slot until its stream is
    /// dropped.
    pub fn max_requests_per_host(mut self, limit: NonZeroUsize) -> Self {
        self.config.max_requests_per_host = limit;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.config.user_agent = user_agent.into();
        self
    }

    /// Look credentials up in `store` (the default reads the environment's Docker and
    /// podman files).
    pub fn credentials(mut self, store: CredentialStore) -> Self {
        self.config.credentials = CredentialSource::Store(store);
        self
    }

    /// Authenticate through `authenticator` (its credentials, options, clock and cache).
    pub fn authenticator(mut self, authenticator: Authenticator) -> Self {
        self.config.credentials = CredentialSource::Authenticator(authenticator);
        self
    }

    /// The largest manifest read or sent, in bytes (default 4 MiB).
    pub fn max_manifest_size(mut self, bytes: u64) -> Self {
        self.config.max_manifest_size = bytes;
        self
    }

    /// The chunk size of chunked uploads, in bytes (default [`DEFAULT_CHUNK_SIZE`], 8 MiB).
    pub fn chunk_size(mut self, bytes: NonZeroU64) -> Self {
        self.config.chunk_size = bytes;
        self
    }

    /// The configuration.
    pub fn build(self) -> ClientConfig {
        self.config
    }
}
