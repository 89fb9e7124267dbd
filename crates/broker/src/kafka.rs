//! Starts the Kafka front-end (`memstream-kafka`) on this server's engine, with the server's
//! live configuration behind its [`Settings`].

use std::sync::Arc;

use memstream_engine::config::{GroupsConfig, StreamsConfig};
use memstream_engine::streams::AppendLimits;
use memstream_kafka::{Context, KafkaConfig, KafkaListener, Settings};

use crate::config::ConfigHandle;
use crate::state::Shared;

impl Settings for ConfigHandle {
    fn kafka(&self) -> KafkaConfig {
        self.load().kafka.clone()
    }

    fn slow_request_ms(&self) -> u64 {
        self.load().log.slow_request_ms
    }

    fn streams(&self) -> StreamsConfig {
        self.load().streams.clone()
    }

    fn groups(&self) -> GroupsConfig {
        self.load().groups.clone()
    }

    fn append_limits(&self) -> AppendLimits {
        let cfg = self.load();
        AppendLimits {
            decompressed_bytes_max: usize::try_from(cfg.streams.max_decompressed_batch_bytes)
                .unwrap_or(usize::MAX),
            producers_max: cfg.streams.max_producers_per_partition as usize,
        }
    }

    fn fetch_max_wait_ms(&self) -> u64 {
        self.load().streams.fetch_max_wait_ms
    }

    fn max_frame_bytes(&self) -> u32 {
        self.load().network.max_frame_bytes
    }

    fn auth(&self) -> memstream_auth::AuthConfig {
        self.load().auth.clone()
    }

    fn handshake_timeout_ms(&self) -> u64 {
        self.load().network.handshake_timeout_ms
    }
}

/// What the Kafka connections of this server share.
pub(crate) fn context(shared: &Arc<Shared>, listener: &KafkaListener) -> Arc<Context> {
    let bound = listener
        .local_addr()
        .unwrap_or_else(|_| std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    Arc::new(Context {
        engine: shared.engine.clone(),
        settings: Arc::new(shared.config.clone()),
        shutdown: shared.shutdown.clone(),
        metrics: shared.kafka_metrics.clone(),
        node_id: i32::try_from(shared.info.node_id).unwrap_or(i32::MAX),
        cluster_id: format!("memstream-{}", shared.info.node_id),
        bound,
        tls: shared.tls.kafka.clone(),
        connections: shared.connections.clone(),
    })
}
