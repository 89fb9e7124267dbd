//! MemoryStreamer's Kafka front-end: a listener speaking Kafka's wire protocol on the engine
//! API, beside the native one. Topics are streams, partitions are partitions, consumer groups
//! and their offsets are the engine's: a record produced over Kafka is consumed over the
//! native protocol and the other way round, byte for byte (both store Kafka's record batch v2).
//!
//! - `server`: [`KafkaListener`] (accept loop, admission against `kafka.max_connections`)
//!   and the [`Context`] every connection shares.
//! - `connection`: size-prefixed requests, pipelining, responses in request order.
//! - `authenticate`: SaslHandshake and SaslAuthenticate (or raw tokens) before anything else
//!   on a SASL listener.
//! - `handler`: one module per API, translating requests to engine calls.
//! - `errors`: the one mapping from engine errors to Kafka error codes.
//! - [`config`]: the `[kafka]` section; [`settings`]: what is read live per request.
//! - [`topic_config`]: Kafka's topic configurations and the stream settings they stand for.
//!
//! The codec is `memstream-kafka-wire` (no I/O). See docs/kafka.md.

mod acl_codes;
mod authenticate;
pub mod config;
mod connection;
pub mod errors;
pub(crate) mod handler;
pub mod metrics;
mod server;
pub mod settings;
pub mod topic_config;

pub use config::KafkaConfig;
pub use metrics::KafkaMetrics;
pub use server::{Context, KafkaListener};
pub use settings::{Settings, StaticSettings};
