//! The registry's Prometheus metrics, kept with `prometheus-client` and written in the text
//! exposition format.

use std::time::Duration;

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry as MetricRegistry,
};

/// Latency buckets: 1 ms to about 65 s, doubling.
fn latency_buckets() -> impl Iterator<Item = f64> {
    prometheus_client::metrics::histogram::exponential_buckets(0.001, 2.0, 17)
}

fn latency_histogram() -> Histogram {
    Histogram::new(latency_buckets())
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    method: String,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
    method: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StorageLabels {
    operation: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OutcomeLabels {
    operation: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CacheLabels {
    kind: &'static str,
    result: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StatusLabels {
    status: u16,
}

type LatencyFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// A metric that registers a handle to itself (metrics are shared handles: the registered
/// clone and the kept one count together).
trait Registrable {
    fn register_in(&self, registry: &mut MetricRegistry, name: &str, help: &str);
}

impl<
    M: prometheus_client::metrics::TypedMetric
        + prometheus_client::encoding::EncodeMetric
        + Clone
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
> Registrable for M
{
    fn register_in(&self, registry: &mut MetricRegistry, name: &str, help: &str) {
        registry.register(name, help, self.clone());
    }
}

/// Every metric a registry process exposes. Cheap to share (`Arc`); updating is lock-free
/// apart from the first use of a label set.
#[derive(Debug)]
pub struct Metrics {
    registry: MetricRegistry,
    requests: Family<RequestLabels, Counter>,
    request_seconds: LatencyFamily<RouteLabels>,
    bytes_received: Counter,
    bytes_sent: Counter,
    connections: Gauge,
    upload_sessions: Gauge,
    storage_operations: Family<OutcomeLabels, Counter>,
    storage_seconds: LatencyFamily<StorageLabels>,
    gc_runs: Counter,
    gc_bytes_freed: Counter,
    gc_blobs_removed: Counter,
    pull_through: Family<CacheLabels, Counter>,
    auth_refusals: Family<StatusLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh set, all at zero, registered under the `oci_registry` prefix.
    pub fn new() -> Self {
        let mut registry = MetricRegistry::with_prefix("oci_registry");
        let mut add = |name: &str, help: &str, metric: &dyn Registrable| {
            metric.register_in(&mut registry, name, help);
        };
        let metrics = Self {
            requests: Family::default(),
            request_seconds: Family::new_with_constructor(latency_histogram),
            bytes_received: Counter::default(),
            bytes_sent: Counter::default(),
            connections: Gauge::default(),
            upload_sessions: Gauge::default(),
            storage_operations: Family::default(),
            storage_seconds: Family::new_with_constructor(latency_histogram),
            gc_runs: Counter::default(),
            gc_bytes_freed: Counter::default(),
            gc_blobs_removed: Counter::default(),
            pull_through: Family::default(),
            auth_refusals: Family::default(),
            registry: MetricRegistry::default(),
        };
        add(
            "http_requests",
            "Requests answered, by route, method and status",
            &metrics.requests,
        );
        add(
            "http_request_duration_seconds",
            "Time from a request's arrival until its answer was sent whole",
            &metrics.request_seconds,
        );
        add(
            "http_received_bytes",
            "Request body bytes received",
            &metrics.bytes_received,
        );
        add(
            "http_sent_bytes",
            "Response body bytes sent",
            &metrics.bytes_sent,
        );
        add(
            "open_connections",
            "Client connections open now",
            &metrics.connections,
        );
        add(
            "upload_sessions",
            "Upload sessions in the store, as of the last scrape",
            &metrics.upload_sessions,
        );
        add(
            "storage_operations",
            "Storage backend operations, by operation and outcome (ok or error)",
            &metrics.storage_operations,
        );
        add(
            "storage_operation_duration_seconds",
            "Time storage backend operations took (a streamed read: until the stream opened)",
            &metrics.storage_seconds,
        );
        add(
            "gc_runs",
            "Garbage collections run by this process",
            &metrics.gc_runs,
        );
        add(
            "gc_freed_bytes",
            "Bytes of blobs garbage collection removed",
            &metrics.gc_bytes_freed,
        );
        add(
            "gc_removed_blobs",
            "Blobs garbage collection removed",
            &metrics.gc_blobs_removed,
        );
        add(
            "pull_through_lookups",
            "Pull-through cache lookups, by kind (manifest or blob) and result (hit or miss)",
            &metrics.pull_through,
        );
        add(
            "auth_refusals",
            "Requests refused for authentication (401) or authorization (403)",
            &metrics.auth_refusals,
        );
        Self {
            registry,
            ..metrics
        }
    }

    /// Counts a request whose answer was sent (or abandoned) `elapsed` after it arrived.
    pub(crate) fn request_finished(
        &self,
        route: &'static str,
        method: &str,
        status: u16,
        elapsed: Duration,
        received: u64,
        sent: u64,
    ) {
        let method = method.to_owned();
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method: method.clone(),
                status,
            })
            .inc();
        self.request_seconds
            .get_or_create(&RouteLabels { route, method })
            .observe(elapsed.as_secs_f64());
        self.bytes_received.inc_by(received);
        self.bytes_sent.inc_by(sent);
        if status == 401 || status == 403 {
            self.auth_refusals
                .get_or_create(&StatusLabels { status })
                .inc();
        }
    }

    /// Counts one storage operation.
    pub(crate) fn storage_operation(&self, operation: &'static str, ok: bool, elapsed: Duration) {
        let outcome = if ok { "ok" } else { "error" };
        self.storage_operations
            .get_or_create(&OutcomeLabels { operation, outcome })
            .inc();
        self.storage_seconds
            .get_or_create(&StorageLabels { operation })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts a garbage collection that removed `blobs` blobs holding `bytes` bytes.
    pub fn gc_finished(&self, blobs: u64, bytes: u64) {
        self.gc_runs.inc();
        self.gc_blobs_removed.inc_by(blobs);
        self.gc_bytes_freed.inc_by(bytes);
    }

    /// Counts a pull-through cache lookup of `kind` (`manifest` or `blob`).
    pub fn pull_through_lookup(&self, kind: &'static str, hit: bool) {
        let result = if hit { "hit" } else { "miss" };
        self.pull_through
            .get_or_create(&CacheLabels { kind, result })
            .inc();
    }

    /// Counts an open connection until the returned guard drops. Servers that embed the
    /// registry call this for each connection they accept.
    pub fn connection_opened(self: &std::sync::Arc<Self>) -> ConnectionGuard {
        self.connections.inc();
        ConnectionGuard(std::sync::Arc::clone(self))
    }

    pub(crate) fn set_upload_sessions(&self, sessions: usize) {
        self.upload_sessions
            .set(i64::try_from(sessions).unwrap_or(i64::MAX));
    }

    /// Every metric in the Prometheus text exposition format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

/// Keeps a connection counted as open; see [`Metrics::connection_opened`].
#[derive(Debug)]
pub struct ConnectionGuard(std::sync::Arc<Metrics>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.connections.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_requests_show_in_the_exposition() {
        let metrics = std::sync::Arc::new(Metrics::new());
        metrics.request_finished("blob", "GET", 200, Duration::from_millis(3), 0, 1234);
        metrics.request_finished("base", "GET", 401, Duration::from_millis(1), 0, 0);
        let open = metrics.connection_opened();
        let text = metrics.encode();
        assert!(
            text.contains(
                "oci_registry_http_requests_total{route=\"blob\",method=\"GET\",status=\"200\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains("oci_registry_http_sent_bytes_total 1234"),
            "{text}"
        );
        assert!(
            text.contains("oci_registry_auth_refusals_total{status=\"401\"} 1"),
            "{text}"
        );
        assert!(text.contains("oci_registry_open_connections 1"), "{text}");
        drop(open);
        assert!(metrics.encode().contains("oci_registry_open_connections 0"));
    }
}
