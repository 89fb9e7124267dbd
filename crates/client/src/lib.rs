//! Async Rust client for MemoryStreamer.
//!
//! This first version speaks the connection layer of protocol v1: the HELLO handshake,
//! pipelined requests matched by correlation id, PING and an orderly GOODBYE. Producers,
//! consumers and admin operations build on [`Client::request`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), memstream_client::ClientError> {
//! let client = memstream_client::Client::connect("127.0.0.1:7878").await?;
//! let echoed = client.ping(bytes::Bytes::from_static(b"hi")).await?;
//! assert_eq!(&echoed[..], b"hi");
//! client.close().await?;
//! # Ok(()) }
//! ```

mod client;
mod error;

pub use client::{Client, ClientOptions};
pub use error::ClientError;
