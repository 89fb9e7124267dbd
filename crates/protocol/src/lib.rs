//! The MemoryStreamer wire protocol, version 1.
//!
//! This crate turns bytes into typed frames and back. It owns no sockets, spawns no tasks and
//! reads no clock: time is always an argument. It is the single source of truth for the wire
//! format described in `docs/protocol.md`.
//!
//! The layers, bottom up:
//!
//! - [`header`]: the fixed 40-byte frame header, its flags and checksums.
//! - [`frame`]: a header plus a zero-copy payload.
//! - [`codec`]: a `tokio_util` [`Decoder`](tokio_util::codec::Decoder)/
//!   [`Encoder`](tokio_util::codec::Encoder) that rejects bad frames from the header alone.
//! - [`opcode`]: the operation numbers.
//! - [`message`]: typed payloads (HELLO, PING, GOODBYE, error bodies) and [`Request`] decoding.
//! - [`batch`]: the record-batch layout shared by the wire, memory and disk.
//! - [`error`]: the stable numbered [`ErrorCode`] table and the Rust errors that map onto it.

#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

pub use memstream_batch as batch;
pub mod codec;
pub mod error;
pub mod frame;
pub mod header;
pub mod message;
pub mod opcode;
pub mod outbox;
pub use memstream_names::pattern;

pub use codec::FrameCodec;
pub use error::{ErrorCode, FrameError, PayloadError, RequestError};
pub use frame::Frame;
pub use header::{Flags, FrameHeader, HEADER_LEN, MAGIC, PROTOCOL_VERSION};
pub use memstream_names::partition_for_key;
pub use message::{ErrorBody, HelloRequest, HelloResponse, Limits, Request};
pub use opcode::Opcode;
