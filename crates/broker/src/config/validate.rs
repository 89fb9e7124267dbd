//! Range and format checks on a merged [`Config`]: the rules a value must meet beyond its type.
//!
//! The first broken rule is returned as a [`Violation`]; the loader adds the origin of the key.

use std::net::SocketAddr;

use memstream_protocol::codec::MIN_FRAME_BYTES;

use super::validate_security as security;
use super::{Config, StreamsConfig, MESSAGE_HEADROOM_BYTES};

/// Largest accepted `network.max_frame_bytes`: 256 MiB.
pub(crate) const MAX_FRAME_BYTES: u32 = 256 << 20;
/// Longest accepted timeout: one day.
pub(crate) const MAX_TIMEOUT_MS: u64 = 86_400_000;
/// Smallest accepted `streams.segment_bytes`: 1 MiB.
pub(crate) const MIN_SEGMENT_BYTES: u64 = 1 << 20;
/// Largest accepted `streams.segment_bytes`: 1 GiB.
pub(crate) const MAX_SEGMENT_BYTES: u64 = 1 << 30;
/// Longest accepted `groups.offsets_retention_ms`: one year.
pub(crate) const MAX_RETENTION_MS: u64 = 365 * 24 * 3_600_000;
/// Largest accepted `streams.max_decompressed_batch_bytes`: 1 GiB.
pub(crate) const MAX_DECOMPRESSED_BATCH_BYTES: u64 = 1 << 30;

const LEVELS: &[&str] = &["error", "warn", "info", "debug", "trace", "off"];

/// A broken rule: the key, its value as text, and why the value is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Violation {
    pub key: &'static str,
    pub value: String,
    pub reason: String,
}

/// Checks every rule, in key order; returns the first that `config` breaks. A rule relating a
/// key to a later one runs after the later key's own checks, so it compares valid values.
pub(crate) fn validate(config: &Config) -> Result<(), Violation> {
    let server = &config.server;
    socket_addr("server.listen", &server.listen)?;
    if server.data_dir.as_os_str().is_empty() {
        return Err(violation("server.data_dir", "", "must not be empty"));
    }
    range(
        "server.shutdown_timeout_ms",
        server.shutdown_timeout_ms,
        0,
        MAX_TIMEOUT_MS,
    )?;
    range(
        "server.config_poll_ms",
        server.config_poll_ms,
        10,
        3_600_000,
    )?;

    let network = &config.network;
    range(
        "network.max_connections",
        network.max_connections.into(),
        1,
        1_000_000,
    )?;
    range(
        "network.max_frame_bytes",
        network.max_frame_bytes.into(),
        MIN_FRAME_BYTES.into(),
        MAX_FRAME_BYTES.into(),
    )?;
    at_least(
        "network.max_in_flight_requests",
        network.max_in_flight_requests.into(),
        1,
    )?;
    if network.max_write_queue_bytes < u64::from(network.max_frame_bytes) {
        return Err(violation(
            "network.max_write_queue_bytes",
            &network.max_write_queue_bytes.to_string(),
            &format!(
                "must be at least network.max_frame_bytes ({}) so one frame fits",
                network.max_frame_bytes
            ),
        ));
    }
    timeout("network.handshake_timeout_ms", network.handshake_timeout_ms)?;
    timeout("network.idle_timeout_ms", network.idle_timeout_ms)?;
    range(
        "network.close_linger_ms",
        network.close_linger_ms,
        0,
        MAX_TIMEOUT_MS,
    )?;
    at_least(
        "network.write_coalesce_bytes",
        network.write_coalesce_bytes.into(),
        4096,
    )?;

    range(
        "network.max_subscriptions",
        network.max_subscriptions.into(),
        1,
        1_000_000,
    )?;
    security::tls(&security::NETWORK_TLS, &network.tls)?;
    streams(&config.streams, network.max_frame_bytes)?;
    groups(&config.groups)?;
    kafka(config)?;
    security::tls(&security::KAFKA_TLS, &config.kafka.tls)?;

    let admin = &config.admin;
    let admin_addr = socket_addr("admin.listen", &admin.listen)?;
    let server_addr = socket_addr("server.listen", &server.listen)?;
    if admin_addr == server_addr && admin_addr.port() != 0 {
        return Err(violation(
            "admin.listen",
            &admin.listen,
            "must differ from server.listen",
        ));
    }
    range(
        "admin.max_connections",
        admin.max_connections.into(),
        1,
        10_000,
    )?;
    timeout("admin.request_timeout_ms", admin.request_timeout_ms)?;
    range(
        "admin.max_request_body_bytes",
        admin.max_request_body_bytes.into(),
        1024,
        64 << 20,
    )?;
    range(
        "admin.max_page_records",
        admin.max_page_records.into(),
        1,
        10_000,
    )?;
    range(
        "admin.max_page_bytes",
        admin.max_page_bytes.into(),
        64 << 10,
        64 << 20,
    )?;
    range(
        "admin.events_interval_ms",
        admin.events_interval_ms.into(),
        100,
        60_000,
    )?;
    range(
        "admin.metrics_max_partitions",
        admin.metrics_max_partitions.into(),
        0,
        100_000,
    )?;
    range(
        "admin.metrics_max_groups",
        admin.metrics_max_groups.into(),
        0,
        100_000,
    )?;
    security::tls(&security::ADMIN_TLS, &admin.tls)?;
    security::auth(config)?;

    log_level(&config.log.level)?;
    range(
        "log.slow_request_ms",
        config.log.slow_request_ms,
        0,
        MAX_TIMEOUT_MS,
    )?;
    one_of("log.format", &config.log.format, &["text", "json"])
}

/// Smallest accepted `kafka.max_request_bytes`: 64 KiB.
pub(crate) const MIN_KAFKA_REQUEST_BYTES: u32 = 64 << 10;
/// Largest accepted `kafka.max_request_bytes`: 256 MiB.
pub(crate) const MAX_KAFKA_REQUEST_BYTES: u32 = 256 << 20;

/// The `[kafka]` rules.
fn kafka(config: &Config) -> Result<(), Violation> {
    let kafka = &config.kafka;
    let addr = socket_addr("kafka.listen", &kafka.listen)?;
    let native = socket_addr("server.listen", &config.server.listen)?;
    if kafka.enabled && addr == native && addr.port() != 0 {
        return Err(violation(
            "kafka.listen",
            &kafka.listen,
            "must differ from server.listen",
        ));
    }
    if !kafka.advertised_listener.is_empty() {
        let port = kafka
            .advertised_listener
            .rsplit_once(':')
            .and_then(|(host, port)| (!host.is_empty()).then_some(port))
            .and_then(|port| port.parse::<u16>().ok());
        if port.is_none() {
            return Err(violation(
                "kafka.advertised_listener",
                &kafka.advertised_listener,
                "must be host:port (or empty for the listen address)",
            ));
        }
    }
    range(
        "kafka.default_partitions",
        kafka.default_partitions.into(),
        1,
        config.streams.max_partitions_per_stream.into(),
    )?;
    range(
        "kafka.max_request_bytes",
        kafka.max_request_bytes.into(),
        MIN_KAFKA_REQUEST_BYTES.into(),
        MAX_KAFKA_REQUEST_BYTES.into(),
    )?;
    range(
        "kafka.max_in_flight_requests",
        kafka.max_in_flight_requests.into(),
        1,
        100_000,
    )?;
    range(
        "kafka.max_connections",
        kafka.max_connections.into(),
        1,
        1_000_000,
    )
}

/// The `[groups]` rules.
fn groups(groups: &super::GroupsConfig) -> Result<(), Violation> {
    range(
        "groups.session_timeout_ms_min",
        groups.session_timeout_ms_min.into(),
        10,
        3_600_000,
    )?;
    range(
        "groups.session_timeout_ms_max",
        groups.session_timeout_ms_max.into(),
        groups.session_timeout_ms_min.into(),
        3_600_000,
    )?;
    range(
        "groups.max_members",
        groups.max_members.into(),
        1,
        1_000_000,
    )?;
    range("groups.max_groups", groups.max_groups.into(), 1, 1_000_000)?;
    range(
        "groups.session_check_ms",
        groups.session_check_ms,
        10,
        60_000,
    )?;
    range(
        "groups.offsets_retention_ms",
        groups.offsets_retention_ms,
        1_000,
        MAX_RETENTION_MS,
    )?;
    range(
        "groups.max_offset_metadata_bytes",
        groups.max_offset_metadata_bytes.into(),
        0,
        1 << 20,
    )?;
    range(
        "groups.initial_rebalance_delay_ms",
        groups.initial_rebalance_delay_ms.into(),
        0,
        300_000,
    )
}

/// The `[streams]` rules; `max_frame_bytes` is the already validated `network.max_frame_bytes`.
fn streams(streams: &StreamsConfig, max_frame_bytes: u32) -> Result<(), Violation> {
    one_of("streams.storage", &streams.storage, &["disk", "memory"])?;
    at_least("streams.partitions", streams.partitions.into(), 1)?;
    if streams.storage == "memory" && streams.retention_bytes == 0 {
        return Err(violation(
            "streams.retention_bytes",
            "0",
            "must not be 0 (unlimited) when streams.storage is `memory`: \
             a memory partition holds all it retains in RAM",
        ));
    }
    range(
        "streams.segment_bytes",
        streams.segment_bytes,
        MIN_SEGMENT_BYTES,
        MAX_SEGMENT_BYTES,
    )?;
    let max_message_bytes = u64::from(max_frame_bytes.saturating_sub(MESSAGE_HEADROOM_BYTES));
    if !(1..=max_message_bytes).contains(&streams.max_message_bytes) {
        return Err(violation(
            "streams.max_message_bytes",
            &streams.max_message_bytes.to_string(),
            &format!(
                "must be between 1 and {max_message_bytes}: network.max_frame_bytes \
                 ({max_frame_bytes}) less {MESSAGE_HEADROOM_BYTES} bytes for headers"
            ),
        ));
    }
    range(
        "streams.max_decompressed_batch_bytes",
        streams.max_decompressed_batch_bytes,
        streams.max_message_bytes,
        MAX_DECOMPRESSED_BATCH_BYTES,
    )?;
    range(
        "streams.max_producers_per_partition",
        streams.max_producers_per_partition.into(),
        1,
        1_000_000,
    )?;
    one_of(
        "streams.fsync",
        &streams.fsync,
        &["always", "interval", "never"],
    )?;
    range(
        "streams.fsync_interval_ms",
        streams.fsync_interval_ms,
        1,
        60_000,
    )?;
    range(
        "streams.index_interval_bytes",
        streams.index_interval_bytes.into(),
        64,
        1 << 20,
    )?;
    range(
        "streams.max_streams",
        streams.max_streams.into(),
        1,
        1_000_000,
    )?;
    range(
        "streams.max_partitions_per_stream",
        streams.max_partitions_per_stream.into(),
        1,
        100_000,
    )?;
    if streams.partitions > streams.max_partitions_per_stream {
        return Err(violation(
            "streams.partitions",
            &streams.partitions.to_string(),
            &format!(
                "must be at most streams.max_partitions_per_stream ({})",
                streams.max_partitions_per_stream
            ),
        ));
    }
    if streams.max_partitions_total < streams.max_partitions_per_stream {
        return Err(violation(
            "streams.max_partitions_total",
            &streams.max_partitions_total.to_string(),
            &format!(
                "must be at least streams.max_partitions_per_stream ({}) so one stream of \
                 the largest size fits",
                streams.max_partitions_per_stream
            ),
        ));
    }
    range(
        "streams.fetch_max_wait_ms",
        streams.fetch_max_wait_ms,
        0,
        600_000,
    )?;
    range("streams.sync_threads", streams.sync_threads.into(), 1, 64)?;
    range(
        "streams.retention_check_ms",
        streams.retention_check_ms,
        100,
        3_600_000,
    )
}

pub(crate) fn violation(key: &'static str, value: &str, reason: &str) -> Violation {
    Violation {
        key,
        value: value.to_owned(),
        reason: reason.to_owned(),
    }
}

pub(crate) fn range(key: &'static str, value: u64, min: u64, max: u64) -> Result<(), Violation> {
    if (min..=max).contains(&value) {
        return Ok(());
    }
    let reason = format!("must be between {min} and {max}");
    Err(violation(key, &value.to_string(), &reason))
}

fn at_least(key: &'static str, value: u64, min: u64) -> Result<(), Violation> {
    if value >= min {
        return Ok(());
    }
    Err(violation(
        key,
        &value.to_string(),
        &format!("must be at least {min}"),
    ))
}

fn one_of(key: &'static str, value: &str, allowed: &[&str]) -> Result<(), Violation> {
    if allowed.contains(&value) {
        return Ok(());
    }
    let allowed: Vec<String> = allowed.iter().map(|a| format!("`{a}`")).collect();
    let reason = match allowed.split_last() {
        Some((last, [])) => format!("expected {last}"),
        Some((last, rest)) => format!("expected {} or {last}", rest.join(", ")),
        None => "no value is accepted".to_owned(),
    };
    Err(violation(key, value, &reason))
}

fn timeout(key: &'static str, value_ms: u64) -> Result<(), Violation> {
    range(key, value_ms, 1, MAX_TIMEOUT_MS)
}

fn socket_addr(key: &'static str, value: &str) -> Result<SocketAddr, Violation> {
    value.parse().map_err(|_| {
        violation(
            key,
            value,
            "expected an IP address and port, e.g. 127.0.0.1:7878",
        )
    })
}

/// A comma-separated list of `level` or `target=level` directives, as `tracing`'s `EnvFilter`
/// reads them (span and field filters are not accepted).
fn log_level(value: &str) -> Result<(), Violation> {
    let bad = |reason: &str| Err(violation("log.level", value, reason));
    if value.trim().is_empty() {
        return bad("must not be empty");
    }
    for directive in value.split(',') {
        let directive = directive.trim();
        let (target, level) = match directive.split_once('=') {
            Some((target, level)) => (Some(target), level),
            None => (None, directive),
        };
        if let Some(target) = target {
            let target_ok = !target.is_empty()
                && target
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | ':' | '-' | '.'));
            if !target_ok {
                return bad(&format!(
                    "directive `{directive}`: target must be a module path such as memstream_broker"
                ));
            }
        }
        if !LEVELS.iter().any(|known| known.eq_ignore_ascii_case(level)) {
            return bad(&format!(
                "directive `{directive}`: level must be one of error, warn, info, debug, trace, off"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_of(config: &Config) -> Option<&'static str> {
        validate(config).err().map(|v| v.key)
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(validate(&Config::default()), Ok(()));
    }

    #[test]
    fn listen_addresses_must_parse() {
        let mut c = Config::default();
        c.server.listen = "localhost".into();
        assert_eq!(key_of(&c), Some("server.listen"));
        let mut c = Config::default();
        c.admin.listen = "127.0.0.1".into();
        assert_eq!(key_of(&c), Some("admin.listen"));
        let mut c = Config::default();
        c.server.listen = "[::1]:9000".into();
        assert_eq!(key_of(&c), None);
    }

    #[test]
    fn admin_and_server_must_not_share_a_fixed_port() {
        let mut c = Config::default();
        c.admin.listen = c.server.listen.clone();
        assert_eq!(key_of(&c), Some("admin.listen"));
        c.server.listen = "127.0.0.1:0".into();
        c.admin.listen = "127.0.0.1:0".into();
        c.kafka.listen = "127.0.0.1:0".into();
        assert_eq!(key_of(&c), None);
    }

    /// Sets one field, the key it is, and its inclusive range.
    type RangeCase = (fn(&mut Config, u64), &'static str, u64, u64);

    #[test]
    fn ranges_are_enforced_at_both_ends() {
        let cases: Vec<RangeCase> = vec![
            (
                |c, v| c.server.shutdown_timeout_ms = v,
                "server.shutdown_timeout_ms",
                0,
                MAX_TIMEOUT_MS,
            ),
            (
                |c, v| c.server.config_poll_ms = v,
                "server.config_poll_ms",
                10,
                3_600_000,
            ),
            (
                |c, v| c.network.max_connections = v as u32,
                "network.max_connections",
                1,
                1_000_000,
            ),
            (
                |c, v| c.network.handshake_timeout_ms = v,
                "network.handshake_timeout_ms",
                1,
                MAX_TIMEOUT_MS,
            ),
            (
                |c, v| c.network.idle_timeout_ms = v,
                "network.idle_timeout_ms",
                1,
                MAX_TIMEOUT_MS,
            ),
            (
                |c, v| c.network.close_linger_ms = v,
                "network.close_linger_ms",
                0,
                MAX_TIMEOUT_MS,
            ),
            (
                |c, v| c.streams.segment_bytes = v,
                "streams.segment_bytes",
                MIN_SEGMENT_BYTES,
                MAX_SEGMENT_BYTES,
            ),
            (
                |c, v| c.streams.fsync_interval_ms = v,
                "streams.fsync_interval_ms",
                1,
                60_000,
            ),
            (
                |c, v| c.streams.index_interval_bytes = v as u32,
                "streams.index_interval_bytes",
                64,
                1 << 20,
            ),
            (
                |c, v| c.streams.max_streams = v as u32,
                "streams.max_streams",
                1,
                1_000_000,
            ),
            (
                |c, v| c.streams.max_partitions_per_stream = v as u32,
                "streams.max_partitions_per_stream",
                1,
                100_000,
            ),
            (
                |c, v| c.streams.fetch_max_wait_ms = v,
                "streams.fetch_max_wait_ms",
                0,
                600_000,
            ),
            (
                |c, v| c.streams.sync_threads = v as u32,
                "streams.sync_threads",
                1,
                64,
            ),
            (
                |c, v| c.streams.retention_check_ms = v,
                "streams.retention_check_ms",
                100,
                3_600_000,
            ),
            (
                |c, v| c.admin.max_connections = v as u32,
                "admin.max_connections",
                1,
                10_000,
            ),
            (
                |c, v| c.admin.request_timeout_ms = v,
                "admin.request_timeout_ms",
                1,
                MAX_TIMEOUT_MS,
            ),
            (
                |c, v| c.admin.max_request_body_bytes = v as u32,
                "admin.max_request_body_bytes",
                1024,
                64 << 20,
            ),
            (
                |c, v| c.admin.max_page_records = v as u32,
                "admin.max_page_records",
                1,
                10_000,
            ),
            (
                |c, v| c.admin.max_page_bytes = v as u32,
                "admin.max_page_bytes",
                64 << 10,
                64 << 20,
            ),
            (
                |c, v| c.admin.events_interval_ms = v as u32,
                "admin.events_interval_ms",
                100,
                60_000,
            ),
            (
                |c, v| c.groups.initial_rebalance_delay_ms = v as u32,
                "groups.initial_rebalance_delay_ms",
                0,
                300_000,
            ),
            (
                |c, v| c.groups.max_offset_metadata_bytes = v as u32,
                "groups.max_offset_metadata_bytes",
                0,
                1 << 20,
            ),
        ];
        for (set, key, min, max) in cases {
            for ok in [min, max] {
                let mut c = Config::default();
                set(&mut c, ok);
                assert_eq!(key_of(&c), None, "{key} = {ok} should be valid");
            }
            let mut c = Config::default();
            set(&mut c, max + 1);
            assert_eq!(
                key_of(&c),
                Some(key),
                "{key} = {} should be invalid",
                max + 1
            );
            if min > 0 {
                let mut c = Config::default();
                set(&mut c, min - 1);
                assert_eq!(
                    key_of(&c),
                    Some(key),
                    "{key} = {} should be invalid",
                    min - 1
                );
            }
        }
    }

    #[test]
    fn frame_bytes_limits() {
        let mut c = Config::default();
        c.network.max_frame_bytes = MAX_FRAME_BYTES;
        c.network.max_write_queue_bytes = MAX_FRAME_BYTES.into();
        assert_eq!(key_of(&c), None);
        c.network.max_frame_bytes = MAX_FRAME_BYTES + 1;
        assert_eq!(key_of(&c), Some("network.max_frame_bytes"));
        c.network.max_frame_bytes = MIN_FRAME_BYTES - 1;
        assert_eq!(key_of(&c), Some("network.max_frame_bytes"));
    }

    #[test]
    fn write_queue_must_hold_one_frame() {
        let mut c = Config::default();
        c.network.max_write_queue_bytes = u64::from(c.network.max_frame_bytes) - 1;
        let v = validate(&c).unwrap_err();
        assert_eq!(v.key, "network.max_write_queue_bytes");
        assert!(v.reason.contains("network.max_frame_bytes"), "{}", v.reason);
    }

    #[test]
    fn small_limits() {
        let mut c = Config::default();
        c.network.max_in_flight_requests = 0;
        assert_eq!(key_of(&c), Some("network.max_in_flight_requests"));
        let mut c = Config::default();
        c.network.write_coalesce_bytes = 4095;
        assert_eq!(key_of(&c), Some("network.write_coalesce_bytes"));
        let mut c = Config::default();
        c.server.data_dir = "".into();
        assert_eq!(key_of(&c), Some("server.data_dir"));
    }

    #[test]
    fn log_level_directives() {
        for ok in [
            "info",
            "WARN",
            "off",
            "info,memstream_broker=debug",
            "a::b=trace, warn",
        ] {
            assert_eq!(log_level(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            " ",
            "verbose",
            "info,",
            "=info",
            "x=",
            "a b=info",
            "x[span]=info",
        ] {
            assert!(log_level(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn log_format_is_text_or_json() {
        let mut c = Config::default();
        c.log.format = "json".into();
        assert_eq!(key_of(&c), None);
        c.log.format = "xml".into();
        assert_eq!(key_of(&c), Some("log.format"));
    }

    #[test]
    fn stream_storage_and_fsync_are_closed_sets() {
        for ok in ["disk", "memory"] {
            let mut c = Config::default();
            c.streams.storage = ok.into();
            assert_eq!(key_of(&c), None, "{ok}");
        }
        for ok in ["always", "interval", "never"] {
            let mut c = Config::default();
            c.streams.fsync = ok.into();
            assert_eq!(key_of(&c), None, "{ok}");
        }
        let mut c = Config::default();
        c.streams.storage = "Disk".into();
        let v = validate(&c).unwrap_err();
        assert_eq!(v.key, "streams.storage");
        assert_eq!(v.reason, "expected `disk` or `memory`");
        let mut c = Config::default();
        c.streams.fsync = "sometimes".into();
        let v = validate(&c).unwrap_err();
        assert_eq!(v.key, "streams.fsync");
        assert_eq!(v.reason, "expected `always`, `interval` or `never`");
    }

    #[test]
    fn max_message_leaves_headroom_in_a_frame() {
        let mut c = Config::default();
        let largest = u64::from(c.network.max_frame_bytes - MESSAGE_HEADROOM_BYTES);
        c.streams.max_message_bytes = largest;
        assert_eq!(key_of(&c), None);
        for bad in [0, largest + 1, u64::from(c.network.max_frame_bytes)] {
            c.streams.max_message_bytes = bad;
            let v = validate(&c).unwrap_err();
            assert_eq!(v.key, "streams.max_message_bytes", "{bad}");
            assert!(v.reason.contains("network.max_frame_bytes"), "{}", v.reason);
        }
        // Follows the frame limit: a larger frame admits a larger message.
        c.network.max_frame_bytes = MAX_FRAME_BYTES;
        c.network.max_write_queue_bytes = MAX_FRAME_BYTES.into();
        c.streams.max_message_bytes = u64::from(MAX_FRAME_BYTES - MESSAGE_HEADROOM_BYTES);
        c.streams.max_decompressed_batch_bytes = c.streams.max_message_bytes;
        assert_eq!(key_of(&c), None);
    }

    #[test]
    fn decompressed_batches_may_hold_at_least_a_whole_batch() {
        let mut c = Config::default();
        c.streams.max_decompressed_batch_bytes = c.streams.max_message_bytes;
        assert_eq!(key_of(&c), None);
        for bad in [
            c.streams.max_message_bytes - 1,
            MAX_DECOMPRESSED_BATCH_BYTES + 1,
        ] {
            c.streams.max_decompressed_batch_bytes = bad;
            assert_eq!(
                key_of(&c),
                Some("streams.max_decompressed_batch_bytes"),
                "{bad}"
            );
        }
    }

    #[test]
    fn default_partitions_within_the_per_stream_limit() {
        let mut c = Config::default();
        c.streams.partitions = 0;
        assert_eq!(key_of(&c), Some("streams.partitions"));
        c.streams.partitions = c.streams.max_partitions_per_stream;
        assert_eq!(key_of(&c), None);
        c.streams.partitions += 1;
        let v = validate(&c).unwrap_err();
        assert_eq!(v.key, "streams.partitions");
        assert!(
            v.reason.contains("max_partitions_per_stream"),
            "{}",
            v.reason
        );
    }

    #[test]
    fn partition_total_holds_one_largest_stream() {
        let mut c = Config::default();
        c.streams.max_partitions_total = c.streams.max_partitions_per_stream;
        assert_eq!(key_of(&c), None);
        c.streams.max_partitions_total -= 1;
        let v = validate(&c).unwrap_err();
        assert_eq!(v.key, "streams.max_partitions_total");
        assert!(
            v.reason.contains("max_partitions_per_stream"),
            "{}",
            v.reason
        );
    }

    #[test]
    fn memory_streams_need_a_retention_limit() {
        let mut c = Config::default();
        c.streams.retention_bytes = 0;
        c.streams.retention_ms = 0;
        assert_eq!(key_of(&c), None, "unlimited disk retention is allowed");
        c.streams.storage = "memory".into();
        assert_eq!(key_of(&c), Some("streams.retention_bytes"));
        c.streams.retention_bytes = 1;
        assert_eq!(key_of(&c), None);
    }
}
