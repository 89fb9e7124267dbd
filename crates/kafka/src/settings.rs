//! What the front-end reads from the server's live configuration. The server implements
//! [`Settings`] over its own configuration handle, so a reload reaches every request.

use memstream_auth::AuthConfig;
use memstream_engine::config::{GroupsConfig, StreamsConfig};
use memstream_engine::streams::AppendLimits;

use crate::config::KafkaConfig;

/// Live configuration, read per request.
pub trait Settings: Send + Sync + 'static {
    /// The `[kafka]` section.
    fn kafka(&self) -> KafkaConfig;
    /// `log.slow_request_ms`: requests slower than this are logged (0: none).
    fn slow_request_ms(&self) -> u64;
    /// The `[streams]` section (stream creation).
    fn streams(&self) -> StreamsConfig;
    /// The `[groups]` section (group limits).
    fn groups(&self) -> GroupsConfig;
    /// Limits applied to each appended batch.
    fn append_limits(&self) -> AppendLimits;
    /// The cap on a fetch's long poll (`streams.fetch_max_wait_ms`).
    fn fetch_max_wait_ms(&self) -> u64;
    /// `network.max_frame_bytes`: stream batch limits must fit the native frames too.
    fn max_frame_bytes(&self) -> u32;
    /// The `[auth]` section.
    fn auth(&self) -> AuthConfig;
    /// `network.handshake_timeout_ms`: how long a connection may take to authenticate.
    fn handshake_timeout_ms(&self) -> u64;
}

/// Fixed settings, for tests and embedding.
#[derive(Debug, Clone, Default)]
pub struct StaticSettings {
    /// `[kafka]`.
    pub kafka: KafkaConfig,
    /// `[streams]`.
    pub streams: StreamsConfig,
    /// `[groups]`.
    pub groups: GroupsConfig,
    /// `network.max_frame_bytes`.
    pub max_frame_bytes: u32,
    /// `[auth]`.
    pub auth: AuthConfig,
    /// `network.handshake_timeout_ms` (0: 10 s).
    pub handshake_timeout_ms: u64,
}

impl Settings for StaticSettings {
    fn kafka(&self) -> KafkaConfig {
        self.kafka.clone()
    }
    /// A fixed configuration logs no slow requests.
    fn slow_request_ms(&self) -> u64 {
        0
    }
    fn streams(&self) -> StreamsConfig {
        self.streams.clone()
    }
    fn groups(&self) -> GroupsConfig {
        self.groups.clone()
    }
    fn append_limits(&self) -> AppendLimits {
        AppendLimits {
            decompressed_bytes_max: usize::try_from(self.streams.max_decompressed_batch_bytes)
                .unwrap_or(usize::MAX),
            producers_max: self.streams.max_producers_per_partition as usize,
        }
    }
    fn fetch_max_wait_ms(&self) -> u64 {
        self.streams.fetch_max_wait_ms
    }
    fn max_frame_bytes(&self) -> u32 {
        self.max_frame_bytes
    }
    fn auth(&self) -> AuthConfig {
        self.auth.clone()
    }
    fn handshake_timeout_ms(&self) -> u64 {
        match self.handshake_timeout_ms {
            0 => 10_000,
            ms => ms,
        }
    }
}
