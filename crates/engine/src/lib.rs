//! The MemoryStreamer engine: what every front-end (the native protocol today, Kafka's next)
//! calls, knowing nothing of frames, opcodes or sockets: it does not depend on the native
//! protocol crate (names, patterns and the partitioner come from `memstream-names`).
//!
//! - [`streams`]: the stream registry (create, delete, describe, list), appends with partition
//!   choice and idempotence (bounded producer state, server-allocated producer ids), reads
//!   from the RAM tail and sealed segments, retention.
//! - [`groups`]: consumer groups (membership, the join barrier, assignment, generations,
//!   session expiry, expiry of empty groups) and the offset store (an append-only log with
//!   group commit). Rebalance notices reach front-ends through [`groups::RebalanceNotifier`].
//! - [`config`]: the `[streams]` and `[groups]` configuration sections.
//!
//! Errors are `thiserror` enums with structured fields ([`streams::StreamError`],
//! [`groups::GroupError`]); each front-end maps them to its own codes in one place.
//!
//! The API takes and returns the engine's own types ([`streams::NewStream`],
//! [`streams::Placement`], [`streams::StreamInfo`], [`groups::JoinRequest`],
//! [`groups::GroupInfo`], ...).
//! - [`subscriptions`]: subscription cursors with credit; a front-end's task drives them.
//! - [`access`]: who may do what (ACL checks by action) and the logins (SASL over the user
//!   store), shared by every front-end.

pub mod access;
pub mod config;
pub mod groups;
mod out_of_range;
pub mod streams;
pub mod subscriptions;

pub use out_of_range::OutOfRange;

use std::sync::Arc;

/// The engine as a front-end holds it: the stream registry, the consumer groups and the
/// access rules. Cheap to clone (three `Arc`s).
#[derive(Clone)]
pub struct Engine {
    /// Streams, partitions, producers.
    pub streams: Arc<streams::Streams>,
    /// Consumer groups and the offset store.
    pub groups: Arc<groups::Groups>,
    /// Users, tokens, ACLs and logins.
    pub access: Arc<access::Access>,
}
