//! Server configuration: the typed [`Config`], where each of its values comes from, and how a
//! running server picks up changes.
//!
//! A value is resolved from four layers, lowest to highest: built-in defaults, the TOML file,
//! `MEMSTREAM_<SECTION>__<KEY>` environment variables, and command-line overrides ([`load`]).
//! Every layer is checked key by key against one schema table (`schema.rs`) before anything is
//! deserialised, so a misspelt key or a wrongly typed value is an error naming the key and the
//! layer it came from, never a silent default or an opaque serde message. The merged result is
//! then range-checked (`validate.rs`). A running server holds a [`ConfigHandle`]: readers take
//! lock-free snapshots, and [`ConfigHandle::reload`] swaps in a new snapshot in which only the
//! live keys changed. `docs/configuration.md` documents every key and its worst-case memory.

mod error;
mod load;
mod reload;
mod schema;
mod validate;
mod validate_security;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use error::ConfigError;
pub use load::{check_file, load, ConfigSources, Loaded, Origin, Override};
pub use memstream_auth::AuthConfig;
pub use memstream_engine::config::{GroupsConfig, StreamsConfig, MESSAGE_HEADROOM_BYTES};
pub use memstream_kafka::KafkaConfig;
pub use memstream_net::TlsConfig;
pub use reload::{is_reloadable, watch_file, ConfigHandle, ReloadGuard, ReloadReport};

/// An example `memstream.toml` with every key at its default. Tests keep it equal to
/// [`Config::default`] and to the example in `docs/configuration.md`.
pub const DEFAULT_TOML: &str = include_str!("default.toml");

/// The whole server configuration. Field names are the TOML keys; see `docs/configuration.md`.
/// `Default` is the built-in defaults, the lowest layer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub network: NetworkConfig,
    pub streams: StreamsConfig,
    pub groups: GroupsConfig,
    pub kafka: KafkaConfig,
    pub admin: AdminConfig,
    pub auth: AuthConfig,
    pub log: LogConfig,
}

/// `[server]`: identity, storage location and process lifecycle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Client listener address; must parse as a `SocketAddr`. Restart required.
    pub listen: String,
    /// Directory holding the partition logs. Restart required.
    pub data_dir: PathBuf,
    /// Server id announced in HELLO. Restart required.
    pub node_id: u64,
    /// How long a graceful shutdown waits for connections to finish before closing them. Live.
    pub shutdown_timeout_ms: u64,
    /// How often the config file is checked for changes. Live (read again every round).
    pub config_poll_ms: u64,
}

/// `[network]`: limits on client connections. All live; the per-connection ones apply to
/// connections accepted after the reload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// Open client connections allowed at once; checked on every accept.
    pub max_connections: u32,
    /// Largest frame (header plus payload) accepted or sent; bounds a connection's read buffer.
    pub max_frame_bytes: u32,
    /// Requests a connection may have outstanding before the server stops reading from it.
    pub max_in_flight_requests: u32,
    /// Bytes queued for writing on one connection before it counts as a slow consumer.
    pub max_write_queue_bytes: u64,
    /// Time a new connection has to complete HELLO.
    pub handshake_timeout_ms: u64,
    /// Time without a frame from the client before the connection is closed.
    pub idle_timeout_ms: u64,
    /// How long a closing connection drains unread input so its error frame is not lost to a
    /// TCP reset.
    pub close_linger_ms: u64,
    /// Most bytes gathered into one write syscall.
    pub write_coalesce_bytes: u32,
    /// Push subscriptions one connection may hold at once (each is a task and its cursors).
    pub max_subscriptions: u32,
    /// `[network.tls]`: TLS on the native listener.
    pub tls: TlsConfig,
}

/// `[admin]`: the HTTP admin and metrics endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// Admin listener address; must parse as a `SocketAddr`. Restart required.
    pub listen: String,
    /// Open admin connections allowed at once. Live.
    pub max_connections: u32,
    /// Time an admin request may take, reading included. Live.
    pub request_timeout_ms: u64,
    /// Largest admin request body (a JSON document); larger is 413. Restart required.
    pub max_request_body_bytes: u32,
    /// Most records one page of `GET .../records` returns. Live.
    pub max_page_records: u32,
    /// Most bytes of batches one page of `GET .../records` reads (and so returns, about
    /// twice that as JSON at most, four times as hex). Live.
    pub max_page_bytes: u32,
    /// How often the live view (`GET /api/v1/events`, the console) sends a snapshot. Live.
    pub events_interval_ms: u32,
    /// Most partitions `/metrics` labels with their stream and partition. Live.
    pub metrics_max_partitions: u32,
    /// Most groups `/metrics` labels with their name. Live.
    pub metrics_max_groups: u32,
    /// `[admin.tls]`: TLS on the admin listener.
    pub tls: TlsConfig,
}

/// `[log]`: diagnostics.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `tracing` filter directive, e.g. `info` or `info,memstream_broker=debug`. Live.
    pub level: String,
    /// `text` or `json`. Restart required.
    pub format: String,
    /// A request answered later than this is logged with its id (0: never). Live.
    pub slow_request_ms: u64,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            listen: "127.0.0.1:7878".to_owned(),
            data_dir: PathBuf::from("./memstream-data"),
            node_id: 1,
            shutdown_timeout_ms: 5_000,
            config_poll_ms: 1_000,
        }
    }
}

impl Default for NetworkConfig {
    fn default() -> NetworkConfig {
        NetworkConfig {
            max_connections: 10_000,
            max_frame_bytes: 1 << 20,
            max_in_flight_requests: 128,
            max_write_queue_bytes: 8 << 20,
            handshake_timeout_ms: 10_000,
            idle_timeout_ms: 300_000,
            close_linger_ms: 1_000,
            write_coalesce_bytes: 64 << 10,
            max_subscriptions: 1024,
            tls: TlsConfig::default(),
        }
    }
}

impl Default for AdminConfig {
    fn default() -> AdminConfig {
        AdminConfig {
            listen: "127.0.0.1:7879".to_owned(),
            max_connections: 64,
            request_timeout_ms: 5_000,
            max_request_body_bytes: 1 << 20,
            max_page_records: 500,
            max_page_bytes: 4 << 20,
            events_interval_ms: 1_000,
            metrics_max_partitions: 1_000,
            metrics_max_groups: 1_000,
            tls: TlsConfig::default(),
        }
    }
}

impl Default for LogConfig {
    fn default() -> LogConfig {
        LogConfig {
            level: "info".to_owned(),
            format: "text".to_owned(),
            slow_request_ms: 1_000,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_toml_parses_to_the_defaults() {
        let parsed: Config = toml::from_str(DEFAULT_TOML).expect("default.toml parses");
        assert_eq!(parsed, Config::default());
    }
}
