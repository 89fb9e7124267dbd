//! The MemoryStreamer server: the native front-end over `memstream-engine`.
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
//! - `admin`: the admin HTTP listener: the REST API (`/api/v1`), `/metrics`, `/health`.
//! - `kafka`: starts the Kafka front-end (`memstream-kafka`) on the same engine.
//! - [`config`]: configuration sources, validation, hot reload.
//! - [`metrics`]: counters and gauges in the Prometheus text format.
//! - `wire_errors`: the one mapping from engine errors to native error codes.
//! - [`streams`] and [`groups`]: re-exported from `memstream-engine`, which owns them.

mod admin;
pub mod config;
mod connection;
pub mod data_dir;
mod handler;
mod kafka;
mod listener;
pub mod metrics;
mod rates;
mod series;
pub mod server;
pub use memstream_engine::{groups, streams};
mod state;
mod subscription;
mod translate;
mod wire_errors;
mod writer;

pub use server::{Server, ServerError, ServerHandle, ShutdownReport};

/// Every route of the admin listener, as (method, path) with OpenAPI's `{param}` paths:
/// what `docs/api/openapi.yaml` documents (a test holds the two together).
pub fn admin_routes() -> &'static [(&'static str, &'static str)] {
    admin::ROUTES
}
