//! Async Rust client for MemoryStreamer.
//!
//! - [`Client`]: one connection with the HELLO handshake, requests pipelined and matched by
//!   correlation id, many subscriptions multiplexed, reconnects with backoff, a timeout on
//!   every request, and typed errors carrying the server's error code ([`ClientError`]).
//! - [`Producer`]: natural batching, optional linger, backpressure, partitioning by key,
//!   round-robin or explicit, acknowledgement levels, idempotent retries across reconnects.
//! - [`Subscription`]: push consumption with automatic credit, from the earliest or latest
//!   record, an offset or a time, of a stream or a pattern; resumes after a reconnect.
//! - [`PartitionReader`] and [`Client::fetch`]: pull consumption by offset with long polling.
//! - [`GroupConsumer`]: consumer groups with assignment-change events and automatic or manual
//!   offset commits.
//! - [`Admin`]: streams and groups.
//!
//! The crate's `examples/` directory has a producer, a consumer and a group member that run
//! against a real server.
//!
//! ```no_run
//! # async fn demo() -> Result<(), memstream_client::ClientError> {
//! let client = memstream_client::Client::connect("127.0.0.1:7878").await?;
//! let echoed = client.ping(bytes::Bytes::from_static(b"hi")).await?;
//! assert_eq!(&echoed[..], b"hi");
//! client.close().await?;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod admin;
mod client;
mod clock;
mod consumer;
mod error;
mod fetch;
mod group;
mod producer;
mod security;

pub use admin::Admin;
pub use client::{Client, ClientOptions, ClientTls, Credentials, ReconnectPolicy};
pub use consumer::{ConsumedRecord, Subscription, DECOMPRESSED_BATCH_BYTES_MAX};
pub use error::ClientError;
pub use fetch::{Fetched, PartitionReader};
pub use group::{Commit, GroupConsumer, GroupEvent, GroupOptions};
pub use memstream_protocol::batch::Compression;
pub use producer::{
    Delivery, Partitioner, Producer, ProducerOptions, Receipt, Record, IN_FLIGHT_BATCHES_MAX,
};
