//! MemoryStreamer security that every front-end shares, with no sockets: the SASL exchanges
//! (SCRAM-SHA-256/512 per RFC 5802/7677, PLAIN per RFC 4616) as state machines over bytes, the
//! durable user store (SCRAM credentials only, never a password), and, later, tokens, ACLs
//! and the authorizer.
//!
//! - [`scram`]: SCRAM credentials and the server and client sides of the exchange.
//! - [`plain`]: the PLAIN message.

pub mod plain;
pub mod scram;
