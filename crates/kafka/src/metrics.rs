//! The Kafka listener's counters, rendered in the Prometheus text format by the server's
//! `/metrics`.

use std::fmt::Write as _;

use memstream_metrics::ApiStats;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use memstream_kafka_wire::api::SUPPORTED;

/// Counters of the Kafka listener.
#[derive(Debug)]
pub struct KafkaMetrics {
    connections_open: AtomicI64,
    connections_total: AtomicU64,
    connections_refused: AtomicU64,
    malformed_requests: AtomicU64,
    /// Requests answered, errors and latency, by position in [`SUPPORTED`].
    requests: ApiStats,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
}

impl Default for KafkaMetrics {
    fn default() -> KafkaMetrics {
        KafkaMetrics {
            connections_open: AtomicI64::new(0),
            connections_total: AtomicU64::new(0),
            connections_refused: AtomicU64::new(0),
            malformed_requests: AtomicU64::new(0),
            requests: ApiStats::new(SUPPORTED.iter().map(|s| s.name).collect()),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
        }
    }
}

impl KafkaMetrics {
    pub(crate) fn connection_opened(&self) {
        self.connections_open.fetch_add(1, Ordering::Relaxed);
        self.connections_total.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn connection_closed(&self) {
        self.connections_open.fetch_sub(1, Ordering::Relaxed);
    }

    pub(crate) fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Ordering::Relaxed);
    }

    /// A request that could not be decoded (its connection was closed).
    pub(crate) fn malformed(&self) {
        self.malformed_requests.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn request(&self, _api_key: i16, bytes: usize) {
        self.bytes_in.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// A request of `api_key` was answered after `elapsed` (`failed`: it got no answer, or
    /// its answer carries an error code).
    pub(crate) fn answered(&self, api_key: i16, elapsed: std::time::Duration, failed: bool) {
        if let Some(i) = SUPPORTED.iter().position(|s| s.key == api_key) {
            self.requests.record(i, elapsed, failed);
        }
    }

    pub(crate) fn bytes_out(&self, bytes: usize) {
        self.bytes_out.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Malformed requests seen so far.
    pub fn malformed_requests(&self) -> u64 {
        self.malformed_requests.load(Ordering::Relaxed)
    }

    /// Kafka connections open now.
    pub fn connections_open(&self) -> i64 {
        self.connections_open.load(Ordering::Relaxed)
    }

    /// Appends the Prometheus text of every counter to `out`.
    pub fn render(&self, out: &mut String) {
        let counter = |out: &mut String, name: &str, help: &str, kind: &str, value: String| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        counter(
            out,
            "memstream_kafka_connections",
            "Kafka connections open now.",
            "gauge",
            self.connections_open.load(Ordering::Relaxed).to_string(),
        );
        counter(
            out,
            "memstream_kafka_connections_total",
            "Kafka connections accepted.",
            "counter",
            self.connections_total.load(Ordering::Relaxed).to_string(),
        );
        counter(
            out,
            "memstream_kafka_connections_refused_total",
            "Kafka connections refused at kafka.max_connections.",
            "counter",
            self.connections_refused.load(Ordering::Relaxed).to_string(),
        );
        counter(
            out,
            "memstream_kafka_malformed_requests_total",
            "Kafka requests that could not be decoded (each closed its connection).",
            "counter",
            self.malformed_requests.load(Ordering::Relaxed).to_string(),
        );
        counter(
            out,
            "memstream_kafka_received_bytes_total",
            "Bytes of Kafka requests received.",
            "counter",
            self.bytes_in.load(Ordering::Relaxed).to_string(),
        );
        counter(
            out,
            "memstream_kafka_sent_bytes_total",
            "Bytes of Kafka responses sent.",
            "counter",
            self.bytes_out.load(Ordering::Relaxed).to_string(),
        );
        self.requests.render(
            out,
            "memstream_kafka",
            "Kafka",
            "Kafka requests whose answer carries an error code (for the request or any of its topics, partitions or groups) or that got no answer, by API.",
        );
    }
}
