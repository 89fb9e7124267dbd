//! Naming rules shared by the engine and every front-end, with no dependencies: what a stream
//! (or group) name may be, NATS-style stream patterns, and Kafka's key partitioner (the same
//! keys land on the same partitions as with Kafka's clients).

#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

pub mod partitioner;
pub mod pattern;

pub use partitioner::partition_for_key;
pub use pattern::Pattern;

/// Longest stream (or group) name, in bytes.
pub const STREAM_NAME_BYTES_MAX: usize = 255;

/// Checks a stream name: 1..=255 bytes of `[A-Za-z0-9._-]`, dots separating non-empty tokens.
pub fn validate_stream_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name.len() > STREAM_NAME_BYTES_MAX {
        return Err("must be 1 to 255 bytes long");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err("may contain only A-Z, a-z, 0-9, '.', '_' and '-'");
    }
    if name.split('.').any(str::is_empty) {
        return Err("dots must separate non-empty tokens");
    }
    Ok(())
}
