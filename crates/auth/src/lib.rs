//! MemoryStreamer security that every front-end shares, with no sockets: the SASL exchanges
//! (SCRAM-SHA-256/512 per RFC 5802/7677, PLAIN per RFC 4616) as state machines over bytes, the
//! durable user and token stores (SCRAM credentials and token hashes only, never a secret),
//! the ACLs and the authorizer that decides with them.
//!
//! - [`scram`]: SCRAM credentials and the server and client sides of the exchange.
//! - [`plain`]: the PLAIN message.
//! - [`principal`]: `User:<name>`, who a connection is.
//! - [`acl`]: the ACL model and filters.
//! - [`authorizer`]: decisions, the durable ACL set, per-connection decision caches.
//! - [`config`]: the `[auth]` section.
//! - [`durable`]: crash-safe whole-file replacement, for every store here.
//! - [`error`]: the stores' error.
//! - [`tokens`]: admin API tokens, stored hashed.
//! - [`throttle`]: failed authentications per client address.
//! - [`users`]: the user store (SCRAM credentials).

pub mod acl;
pub mod authorizer;
pub mod config;
pub mod durable;
pub mod error;
pub mod plain;
pub mod principal;
pub mod scram;
pub mod throttle;
pub mod tokens;
pub mod users;

pub use acl::{Acl, AclFilter, Operation, PatternType, Permission, ResourcePattern, ResourceType};
pub use authorizer::{Authorizer, AuthzSettings, Session};
pub use config::AuthConfig;
pub use error::StoreError;
pub use principal::Principal;
