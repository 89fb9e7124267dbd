//! The `[auth]` configuration section. Ranges are checked by the server's config validation;
//! `docs/configuration.md` documents every key and its worst-case memory.

use serde::{Deserialize, Serialize};

/// `[auth]`: authentication and authorization on every listener.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Whether clients must authenticate and ACLs are enforced. Restart required.
    pub enabled: bool,
    /// Users (`admin` or `User:admin`) that may do everything. Live.
    pub superusers: Vec<String>,
    /// Whether the server may start with security off on a non-loopback address (it warns).
    /// Restart required.
    pub allow_insecure_remote: bool,
    /// Whether SASL PLAIN (a password on the wire) is accepted on a listener without TLS.
    /// Live.
    pub allow_plain_without_tls: bool,
    /// PBKDF2 iterations of new SCRAM credentials (RFC 7677 asks for at least 4096). Live.
    pub scram_iterations: u32,
    /// Constant delay before a failed authentication is answered. Live.
    pub failure_delay_ms: u64,
    /// Failed authentications one address may make per minute before further attempts
    /// from it are refused without being checked. Live.
    pub max_failures_per_minute: u32,
    /// Addresses whose recent failures are remembered (oldest forgotten first). Restart
    /// required.
    pub max_tracked_addresses: u32,
    /// Largest request or frame accepted before a connection has authenticated. Live.
    pub max_unauthenticated_request_bytes: u32,
    /// Users stored. Restart required.
    pub max_users: u32,
    /// ACLs stored. Restart required.
    pub max_acls: u32,
    /// Admin API tokens stored. Restart required.
    pub max_tokens: u32,
    /// Resources one connection caches authorization decisions for. Restart required.
    pub max_cached_decisions: u32,
}

impl Default for AuthConfig {
    fn default() -> AuthConfig {
        AuthConfig {
            enabled: false,
            superusers: Vec::new(),
            allow_insecure_remote: false,
            allow_plain_without_tls: false,
            scram_iterations: 4096,
            failure_delay_ms: 500,
            max_failures_per_minute: 10,
            max_tracked_addresses: 10_000,
            max_unauthenticated_request_bytes: 16 << 10,
            max_users: 10_000,
            max_acls: 10_000,
            max_tokens: 1_000,
            max_cached_decisions: 1_024,
        }
    }
}
