//! Naming rules shared by the engine and every front-end, with no dependencies: what a stream
//! name and a group name may be, NATS-style stream patterns, and Kafka's key partitioner (the same
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

/// Checks a consumer group name: 1..=255 bytes with no control characters. Looser than stream
/// names because Kafka accepts any non-empty group id (clients use ids such as
/// `app:orders` or `roundrobin,range`, as librdkafka's test 0132 does); a group name is never
/// a file name, only a length-prefixed string in the offset store, whose records the length
/// cap bounds.
pub fn validate_group_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name.len() > STREAM_NAME_BYTES_MAX {
        return Err("must be 1 to 255 bytes long");
    }
    if name.chars().any(char::is_control) {
        return Err("may not contain control characters");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_follow_kafka_not_the_stream_rules() {
        for good in [
            "g",
            "roundrobin,range",
            "app:orders v2",
            "ünïcode",
            &"x".repeat(255),
        ] {
            assert!(validate_group_name(good).is_ok(), "{good}");
        }
        for bad in ["", "a\nb", "tab\there", "nul\0", &"x".repeat(256)] {
            assert!(validate_group_name(bad).is_err(), "{bad:?}");
        }
        // Every stream name is a group name.
        assert!(validate_stream_name("orders.eu-1").is_ok());
        assert!(validate_group_name("orders.eu-1").is_ok());
    }
}
