//! The MemoryStreamer server.
//!
//! Code map (see `docs/ARCHITECTURE.md` for the whole picture):
//!
//! - [`server`]: binds listeners, runs them, shuts down gracefully; [`Server`] and
//!   [`ServerHandle`] are the public entry points.
//! - `listener`: the accept loop and admission against `network.max_connections`.
//! - `connection`: one client connection: read loop, pipelining, timeouts, orderly close;
//!   `connection::writer` coalesces outbound frames.
//! - `handler`: one module per request kind.
//! - `subscription`: push subscriptions with credit-based flow control.
//! - `admin`: the admin HTTP listener (`/metrics`, `/health`).
//! - [`config`]: configuration sources, validation, hot reload.
//! - [`metrics`]: counters and gauges in the Prometheus text format.
//! - `groups`: consumer groups: membership, rebalancing, committed offsets.
//! - [`streams`]: the stream registry, stream definitions on disk, the append path.

mod admin;
pub mod config;
mod connection;
pub mod data_dir;
mod groups;
mod handler;
mod listener;
pub mod metrics;
pub mod server;
pub mod streams;
mod subscription;

pub use server::{Server, ServerError, ServerHandle, ShutdownReport};
