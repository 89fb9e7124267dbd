//! The `[kafka]` configuration section (docs/configuration.md).

use serde::{Deserialize, Serialize};

/// `[kafka]`: the Kafka-protocol listener.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// Whether the Kafka listener runs. Restart required.
    pub enabled: bool,
    /// Listener address; must parse as a `SocketAddr`. Restart required.
    pub listen: String,
    /// `host:port` put in Metadata and FindCoordinator answers; empty means the bound listen
    /// address. Live.
    pub advertised_listener: String,
    /// Whether Metadata for a missing topic creates it (when the client allows it). Live.
    pub auto_create_topics: bool,
    /// Partitions of a topic created without a count (auto-created, or CreateTopics with -1).
    /// Live.
    pub default_partitions: u32,
    /// Largest request accepted (size prefix excluded); a larger one closes the connection.
    /// Bounds one connection's read buffer. Live for new connections.
    pub max_request_bytes: u32,
    /// Requests one connection may have outstanding before the server stops reading from it.
    /// Live for new connections.
    pub max_in_flight_requests: u32,
    /// Open Kafka connections allowed at once. Live.
    pub max_connections: u32,
    /// `[kafka.tls]`: TLS on the Kafka listener (SSL and SASL_SSL).
    pub tls: memstream_net::TlsConfig,
}

impl Default for KafkaConfig {
    fn default() -> KafkaConfig {
        KafkaConfig {
            enabled: true,
            listen: "127.0.0.1:9092".to_owned(),
            advertised_listener: String::new(),
            auto_create_topics: true,
            default_partitions: 1,
            max_request_bytes: 4 << 20,
            max_in_flight_requests: 128,
            max_connections: 10_000,
            tls: memstream_net::TlsConfig::default(),
        }
    }
}
