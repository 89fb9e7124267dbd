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

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use error::ConfigError;
pub use load::{check_file, load, ConfigSources, Loaded, Origin, Override};
pub use reload::{is_reloadable, watch_file, ConfigHandle, ReloadGuard, ReloadReport};

/// An example `memstream.toml` with every key at its default. Tests keep it equal to
/// [`Config::default`] and to the example in `docs/configuration.md`.
pub const DEFAULT_TOML: &str = include_str!("default.toml");

/// Bytes of a frame kept free around the largest message for the frame header and the
/// PRODUCE or FETCH fields that travel with a batch: `streams.max_message_bytes` may be at most
/// `network.max_frame_bytes` less this, so a batch of the largest allowed size still fits in
/// one request and one response.
pub const MESSAGE_HEADROOM_BYTES: u32 = 1024;

/// The whole server configuration. Field names are the TOML keys; see `docs/configuration.md`.
/// `Default` is the built-in defaults, the lowest layer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub network: NetworkConfig,
    pub streams: StreamsConfig,
    pub groups: GroupsConfig,
    pub admin: AdminConfig,
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
}

/// `[streams]`: the settings a new stream gets when STREAM_CREATE leaves them out, and the
/// limits on streams and partitions. The per-stream defaults are copied into a stream when it
/// is created, so a reload changes streams created after it, never existing ones. All live
/// except `sync_threads`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamsConfig {
    /// `disk` or `memory`.
    pub storage: String,
    /// Partitions of a stream created without a count; at most `max_partitions_per_stream`.
    pub partitions: u32,
    /// Bytes kept per partition before the oldest segments are dropped; 0 = unlimited. A
    /// memory partition holds this much in RAM.
    pub retention_bytes: u64,
    /// Age after which a segment is dropped; 0 = unlimited.
    pub retention_ms: u64,
    /// Size at which a partition rolls to a new segment. The active segment of a disk partition
    /// is kept in RAM, so this is also its in-memory tail.
    pub segment_bytes: u64,
    /// Largest record batch a producer may send; leaves room for headers in one frame.
    pub max_message_bytes: u64,
    /// Most bytes the records of one compressed batch may decompress to when the server
    /// checks them; a batch over it is refused with MESSAGE_TOO_LARGE.
    pub max_decompressed_batch_bytes: u64,
    /// Idempotent producers remembered per partition; past it the least recently used is
    /// forgotten (its next batch must start a new epoch at sequence 0).
    pub max_producers_per_partition: u32,
    /// `always`, `interval` or `never`.
    pub fsync: String,
    /// Time between fsyncs when `fsync` is `interval`.
    pub fsync_interval_ms: u64,
    /// Log bytes between two entries of a segment's sparse offset index.
    pub index_interval_bytes: u32,
    /// Streams that may exist at once.
    pub max_streams: u32,
    /// Partitions one stream may have.
    pub max_partitions_per_stream: u32,
    /// Partitions of all streams together.
    pub max_partitions_total: u32,
    /// Longest a FETCH may wait for data; a longer requested wait is cut to this.
    pub fetch_max_wait_ms: u64,
    /// Threads that fsync disk partitions. Restart required.
    pub sync_threads: u32,
    /// How often retention is enforced.
    pub retention_check_ms: u64,
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
}

/// `[log]`: diagnostics.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `tracing` filter directive, e.g. `info` or `info,memstream_broker=debug`. Live.
    pub level: String,
    /// `text` or `json`. Restart required.
    pub format: String,
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
        }
    }
}

/// `[groups]`: limits of consumer groups. All live.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupsConfig {
    /// Shortest session timeout a member may ask for.
    pub session_timeout_ms_min: u32,
    /// Longest session timeout a member may ask for.
    pub session_timeout_ms_max: u32,
    /// Members one group may have.
    pub max_members: u32,
    /// Groups the server keeps.
    pub max_groups: u32,
    /// How often member sessions are checked for expiry.
    pub session_check_ms: u64,
    /// How long a group without members keeps its committed offsets (since its last commit
    /// or member) before it is deleted; Kafka's `offsets.retention.minutes`.
    pub offsets_retention_ms: u64,
}

impl Default for GroupsConfig {
    fn default() -> GroupsConfig {
        GroupsConfig {
            session_timeout_ms_min: 100,
            session_timeout_ms_max: 600_000,
            max_members: 10_000,
            max_groups: 10_000,
            session_check_ms: 50,
            offsets_retention_ms: 7 * 24 * 3_600_000,
        }
    }
}

impl Default for StreamsConfig {
    fn default() -> StreamsConfig {
        StreamsConfig {
            storage: "disk".to_owned(),
            partitions: 1,
            retention_bytes: 1 << 30,
            retention_ms: 7 * 24 * 3_600_000,
            segment_bytes: 32 << 20,
            max_message_bytes: (1 << 20) - 1024,
            max_decompressed_batch_bytes: 16 << 20,
            max_producers_per_partition: 1000,
            fsync: "always".to_owned(),
            fsync_interval_ms: 50,
            index_interval_bytes: 4096,
            max_streams: 10_000,
            max_partitions_per_stream: 4096,
            max_partitions_total: 1_000_000,
            fetch_max_wait_ms: 30_000,
            sync_threads: 2,
            retention_check_ms: 5_000,
        }
    }
}

impl Default for AdminConfig {
    fn default() -> AdminConfig {
        AdminConfig {
            listen: "127.0.0.1:7879".to_owned(),
            max_connections: 64,
            request_timeout_ms: 5_000,
        }
    }
}

impl Default for LogConfig {
    fn default() -> LogConfig {
        LogConfig {
            level: "info".to_owned(),
            format: "text".to_owned(),
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
