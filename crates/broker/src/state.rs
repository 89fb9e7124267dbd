//! What every task of one server shares: the engine it fronts, and this server's own state.
//! Depends on nothing else of the server, so every module can use it without a cycle.

use std::sync::Arc;

use memstream_engine::Engine;
use memstream_net::tls::ServerTls;
use tokio_util::sync::CancellationToken;

use crate::config::ConfigHandle;
use crate::metrics::Metrics;

/// Who this server is, as announced in HELLO and by the admin API's `node`.
#[derive(Debug, Clone)]
pub(crate) struct ServerInfo {
    pub name: &'static str,
    pub version: &'static str,
    pub node_id: u64,
    /// When the server started (uptime).
    pub started: std::time::Instant,
    /// The same moment, in milliseconds since the epoch.
    pub started_ms: u64,
    /// The addresses the listeners are bound to.
    pub listeners: Listeners,
}

/// The bound address of each listener (`None`: not listening).
#[derive(Debug, Clone, Default)]
pub(crate) struct Listeners {
    pub native: Option<std::net::SocketAddr>,
    pub kafka: Option<std::net::SocketAddr>,
    pub admin: Option<std::net::SocketAddr>,
}

/// What every task of one server shares: the engine it fronts, and this server's own state
/// (configuration, metrics, shutdown, identity).
pub(crate) struct Shared {
    pub engine: Engine,
    pub config: ConfigHandle,
    pub metrics: Arc<Metrics>,
    /// The Kafka listener's counters (zero while it is disabled).
    pub kafka_metrics: Arc<memstream_kafka::KafkaMetrics>,
    pub shutdown: CancellationToken,
    pub info: ServerInfo,
    /// Each listener's TLS, when its section sets a certificate.
    pub tls: TlsSet,
    /// Every open native and Kafka connection (the admin API lists and closes them).
    pub connections: Arc<memstream_net::registry::Registry>,
    /// Produce and consume rates per stream.
    pub rates: crate::rates::Rates,
}

/// The TLS of the three listeners.
#[derive(Debug, Default, Clone)]
pub(crate) struct TlsSet {
    /// `[network.tls]`: the native listener.
    pub native: Option<Arc<ServerTls>>,
    /// `[kafka.tls]`.
    pub kafka: Option<Arc<ServerTls>>,
    /// `[admin.tls]`.
    pub admin: Option<Arc<ServerTls>>,
}

impl TlsSet {
    /// Every listener's TLS.
    pub fn all(&self) -> impl Iterator<Item = &Arc<ServerTls>> {
        [&self.native, &self.kafka, &self.admin]
            .into_iter()
            .flatten()
    }
}
