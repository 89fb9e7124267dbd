//! Async Rust client for MemoryStreamer.
//!
//! This version speaks the connection layer of protocol v1 (the HELLO handshake, pipelined
//! requests matched by correlation id, PING, an orderly GOODBYE), sends any typed request
//! ([`Client::call`]), administers streams and groups ([`Admin`]) and produces with natural
//! batching ([`Producer`]) and consumes push subscriptions with automatic credit
//! ([`Subscription`]). Consumer groups and reconnects come next.
//!
//! ```no_run
//! # async fn demo() -> Result<(), memstream_client::ClientError> {
//! let client = memstream_client::Client::connect("127.0.0.1:7878").await?;
//! let echoed = client.ping(bytes::Bytes::from_static(b"hi")).await?;
//! assert_eq!(&echoed[..], b"hi");
//! client.close().await?;
//! # Ok(()) }
//! ```

mod admin;
mod client;
mod consumer;
mod error;
mod producer;

pub use admin::Admin;
pub use client::{Client, ClientOptions};
pub use consumer::{ConsumedRecord, Subscription};
pub use error::ClientError;
pub use producer::{Partitioner, Producer, ProducerOptions, Receipt, Record};
