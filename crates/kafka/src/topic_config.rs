//! Kafka's topic configurations and the stream settings they stand for: the one table of
//! names, value conversions and sources (CreateTopics, DescribeConfigs and
//! IncrementalAlterConfigs all go through it; docs/kafka.md shows it).
//!
//! | Kafka config          | stream setting      | Kafka value            | alterable |
//! |-----------------------|---------------------|------------------------|-----------|
//! | `retention.ms`        | `retention_ms`      | -1 = unlimited (0 is)  | yes       |
//! | `retention.bytes`     | `retention_bytes`   | -1 = unlimited (0 is)  | yes       |
//! | `segment.bytes`       | `segment_bytes`     | bytes                  | yes       |
//! | `max.message.bytes`   | `max_message_bytes` | bytes (a whole batch)  | yes       |
//! | `cleanup.policy`      | (none)              | `delete` only          | `delete`  |
//! | `memstream.storage`   | `storage`           | `disk` or `memory`     | creation  |
//! | `memstream.fsync`     | `fsync`             | `always`, `interval`, `never` | creation |
//!
//! A value set for the stream (at creation or by an alter) is reported as
//! DYNAMIC_TOPIC_CONFIG, anything else as DEFAULT_CONFIG (the `[streams]` default copied at
//! creation). Streams are never compacted, so `cleanup.policy` is always `delete`.

use memstream_engine::config::StreamsConfig;
use memstream_engine::streams::{
    Alterable, Effective, Fsync, SettingChange, SettingsOverrides, Storage, StreamMeta,
};
use memstream_kafka_wire::describe_configs::{config_source, config_type};
use memstream_kafka_wire::incremental_alter_configs::{AlterableConfig, ConfigOperation};
use memstream_kafka_wire::ErrorCode;

use crate::config::KafkaConfig;

/// A topic configuration this broker knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopicConfig {
    /// `retention.ms`.
    RetentionMs,
    /// `retention.bytes`.
    RetentionBytes,
    /// `segment.bytes`.
    SegmentBytes,
    /// `max.message.bytes`.
    MaxMessageBytes,
    /// `cleanup.policy` (always `delete`).
    CleanupPolicy,
    /// `memstream.storage`: chosen at creation, read-only after.
    Storage,
    /// `memstream.fsync`: chosen at creation, read-only after.
    Fsync,
}

impl TopicConfig {
    /// Every configuration, in the order DescribeConfigs lists them.
    pub const ALL: [TopicConfig; 7] = [
        TopicConfig::CleanupPolicy,
        TopicConfig::MaxMessageBytes,
        TopicConfig::RetentionBytes,
        TopicConfig::RetentionMs,
        TopicConfig::SegmentBytes,
        TopicConfig::Storage,
        TopicConfig::Fsync,
    ];

    /// Kafka's name.
    pub fn name(self) -> &'static str {
        match self {
            TopicConfig::RetentionMs => "retention.ms",
            TopicConfig::RetentionBytes => "retention.bytes",
            TopicConfig::SegmentBytes => "segment.bytes",
            TopicConfig::MaxMessageBytes => "max.message.bytes",
            TopicConfig::CleanupPolicy => "cleanup.policy",
            TopicConfig::Storage => "memstream.storage",
            TopicConfig::Fsync => "memstream.fsync",
        }
    }

    /// The configuration called `name`.
    pub fn from_name(name: &str) -> Option<TopicConfig> {
        TopicConfig::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The configuration standing for the engine setting `setting` (the name in the
    /// engine's range errors).
    pub fn of_setting(setting: &str) -> Option<TopicConfig> {
        Some(match setting {
            "retention_ms" => TopicConfig::RetentionMs,
            "retention_bytes" => TopicConfig::RetentionBytes,
            "segment_bytes" => TopicConfig::SegmentBytes,
            "max_message_bytes" => TopicConfig::MaxMessageBytes,
            _ => return None,
        })
    }

    /// The engine setting an alter changes, for the numeric configurations.
    fn alterable(self) -> Option<Alterable> {
        match self {
            TopicConfig::RetentionMs => Some(Alterable::RetentionMs),
            TopicConfig::RetentionBytes => Some(Alterable::RetentionBytes),
            TopicConfig::SegmentBytes => Some(Alterable::SegmentBytes),
            TopicConfig::MaxMessageBytes => Some(Alterable::MaxMessageBytes),
            TopicConfig::CleanupPolicy | TopicConfig::Storage | TopicConfig::Fsync => None,
        }
    }

    /// Whether DescribeConfigs reports it read-only (fixed once the stream exists).
    pub fn read_only(self) -> bool {
        matches!(self, TopicConfig::Storage | TopicConfig::Fsync)
    }

    /// Its DescribeConfigs data type.
    pub fn config_type(self) -> i8 {
        match self {
            TopicConfig::RetentionMs | TopicConfig::RetentionBytes => config_type::LONG,
            TopicConfig::SegmentBytes | TopicConfig::MaxMessageBytes => config_type::INT,
            TopicConfig::CleanupPolicy => config_type::LIST,
            TopicConfig::Storage | TopicConfig::Fsync => config_type::STRING,
        }
    }

    /// Its documentation (DescribeConfigs v3+).
    pub fn documentation(self) -> &'static str {
        match self {
            TopicConfig::RetentionMs => {
                "Age after which whole sealed segments are deleted; -1 keeps them forever."
            }
            TopicConfig::RetentionBytes => {
                "Bytes kept per partition before the oldest sealed segments are deleted; -1 is \
                 unlimited."
            }
            TopicConfig::SegmentBytes => {
                "Size at which a partition rolls to a new segment (1 MiB to 1 GiB); applies to \
                 segments rolled after a change."
            }
            TopicConfig::MaxMessageBytes => {
                "Largest record batch accepted, as sent (compressed); at most the server's \
                 frame limit less 1024 bytes."
            }
            TopicConfig::CleanupPolicy => "Always delete: streams are never compacted.",
            TopicConfig::Storage => "disk or memory; chosen when the topic is created.",
            TopicConfig::Fsync => "always, interval or never; chosen when the topic is created.",
        }
    }
}

/// A configuration refused: the code and a message naming it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// INVALID_CONFIG or INVALID_REQUEST.
    pub code: ErrorCode,
    /// Names the configuration and says why.
    pub message: String,
}

fn invalid(config: &str, why: impl std::fmt::Display) -> Refused {
    Refused {
        code: ErrorCode::INVALID_CONFIG,
        message: format!("{config}: {why}"),
    }
}

fn unknown(name: &str) -> Refused {
    let known: Vec<&str> = TopicConfig::ALL.iter().map(|c| c.name()).collect();
    invalid(
        name,
        format_args!(
            "not a topic configuration this broker supports ({})",
            known.join(", ")
        ),
    )
}

/// The stream setting for a numeric configuration's Kafka value: retention -1 is the
/// engine's 0 (unlimited); Kafka's 0 (keep nothing) has no stream equivalent.
fn number(config: TopicConfig, value: &str) -> Result<u64, Refused> {
    let name = config.name();
    let n: i64 = value
        .trim()
        .parse()
        .map_err(|_| invalid(name, format_args!("`{value}` is not a number")))?;
    let retention = matches!(
        config,
        TopicConfig::RetentionMs | TopicConfig::RetentionBytes
    );
    match n {
        -1 if retention => Ok(0),
        n if n > 0 => Ok(n as u64),
        _ if retention => Err(invalid(
            name,
            format_args!("{n} is not accepted: use -1 (unlimited) or a positive value"),
        )),
        _ => Err(invalid(name, format_args!("{n} is not positive"))),
    }
}

/// `cleanup.policy` accepts `delete` and nothing else: streams are never compacted.
fn cleanup_policy(value: &str) -> Result<(), Refused> {
    if value.trim() == "delete" {
        return Ok(());
    }
    tracing::info!(
        value,
        "cleanup.policy refused: streams are never compacted (only `delete` is supported)"
    );
    Err(invalid(
        "cleanup.policy",
        format_args!("`{value}` is not supported: streams are never compacted, only `delete`"),
    ))
}

/// The overrides CreateTopics' `configs` ask for. A null value takes the default.
pub fn create_overrides<'a>(
    configs: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> Result<SettingsOverrides, Refused> {
    let mut o = SettingsOverrides::default();
    for (name, value) in configs {
        let config = TopicConfig::from_name(name).ok_or_else(|| unknown(name))?;
        let Some(value) = value else {
            continue;
        };
        match config {
            TopicConfig::RetentionMs => o.retention_ms = Some(number(config, value)?),
            TopicConfig::RetentionBytes => o.retention_bytes = Some(number(config, value)?),
            TopicConfig::SegmentBytes => o.segment_bytes = Some(number(config, value)?),
            TopicConfig::MaxMessageBytes => o.max_message_bytes = Some(number(config, value)?),
            TopicConfig::CleanupPolicy => cleanup_policy(value)?,
            TopicConfig::Storage => {
                o.storage = Some(match value {
                    "disk" => Storage::Disk,
                    "memory" => Storage::Memory,
                    _ => return Err(invalid(name, "must be `disk` or `memory`")),
                })
            }
            TopicConfig::Fsync => {
                o.fsync = Some(match value {
                    "always" => Fsync::Always,
                    "interval" => Fsync::Interval,
                    "never" => Fsync::Never,
                    _ => return Err(invalid(name, "must be `always`, `interval` or `never`")),
                })
            }
        }
    }
    Ok(o)
}

/// The changes IncrementalAlterConfigs asks of a topic: SET and DELETE of the alterable
/// configurations (DELETE goes back to the default); `cleanup.policy` may be set to `delete`
/// (a no-op). APPEND, SUBTRACT and unknown operations are INVALID_REQUEST; a configuration
/// named twice is INVALID_REQUEST, as in Kafka.
pub fn alter_changes(configs: &[AlterableConfig]) -> Result<Vec<SettingChange>, Refused> {
    let mut changes = Vec::with_capacity(configs.len());
    let mut seen = std::collections::HashSet::with_capacity(configs.len());
    for c in configs {
        if !seen.insert(c.name.as_str()) {
            return Err(Refused {
                code: ErrorCode::INVALID_REQUEST,
                message: format!("{} is named more than once", c.name),
            });
        }
        let config = TopicConfig::from_name(&c.name).ok_or_else(|| unknown(&c.name))?;
        let value = match c.config_operation {
            ConfigOperation::Set => Some(
                c.value
                    .as_deref()
                    .ok_or_else(|| invalid(&c.name, "SET needs a value"))?,
            ),
            ConfigOperation::Delete => None,
            op @ (ConfigOperation::Append
            | ConfigOperation::Subtract
            | ConfigOperation::Unknown(_)) => {
                return Err(Refused {
                    code: ErrorCode::INVALID_REQUEST,
                    message: format!(
                        "{}: operation {} is not supported (only SET and DELETE)",
                        c.name,
                        op.code()
                    ),
                })
            }
        };
        if config.read_only() {
            return Err(invalid(
                &c.name,
                "read-only: chosen when the topic is created",
            ));
        }
        let Some(setting) = config.alterable() else {
            // cleanup.policy: `delete` is what every stream does already.
            if let Some(value) = value {
                cleanup_policy(value)?;
            }
            continue;
        };
        changes.push(SettingChange {
            setting,
            value: value.map(|v| number(config, v)).transpose()?,
        });
    }
    Ok(changes)
}

/// One configuration of a stream as DescribeConfigs (and CreateTopics v5+) report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    /// Which configuration.
    pub config: TopicConfig,
    /// Its value, in Kafka's terms.
    pub value: String,
    /// DYNAMIC_TOPIC_CONFIG when set for the stream, DEFAULT_CONFIG otherwise.
    pub source: i8,
}

/// Every configuration of the stream `meta` describes, in [`TopicConfig::ALL`] order.
pub fn describe(meta: &StreamMeta) -> Vec<Described> {
    TopicConfig::ALL
        .into_iter()
        .map(|config| describe_one(config, &meta.settings, &meta.overrides))
        .collect()
}

/// Kafka's value of a retention setting: the engine's 0 (unlimited) is -1.
fn retention(v: u64) -> String {
    if v == 0 {
        "-1".to_owned()
    } else {
        v.to_string()
    }
}

fn describe_one(config: TopicConfig, s: &Effective, o: &SettingsOverrides) -> Described {
    let (value, overridden) = match config {
        TopicConfig::RetentionMs => (retention(s.retention_ms), o.retention_ms.is_some()),
        TopicConfig::RetentionBytes => (retention(s.retention_bytes), o.retention_bytes.is_some()),
        TopicConfig::SegmentBytes => (s.segment_bytes.to_string(), o.segment_bytes.is_some()),
        TopicConfig::MaxMessageBytes => (
            s.max_message_bytes.to_string(),
            o.max_message_bytes.is_some(),
        ),
        TopicConfig::CleanupPolicy => ("delete".to_owned(), false),
        TopicConfig::Storage => (
            match s.storage {
                Storage::Disk => "disk",
                Storage::Memory => "memory",
            }
            .to_owned(),
            o.storage.is_some(),
        ),
        TopicConfig::Fsync => (
            match s.fsync {
                Fsync::Always => "always",
                Fsync::Interval => "interval",
                Fsync::Never => "never",
            }
            .to_owned(),
            o.fsync.is_some(),
        ),
    };
    Described {
        config,
        value,
        source: if overridden {
            config_source::DYNAMIC_TOPIC_CONFIG
        } else {
            config_source::DEFAULT_CONFIG
        },
    }
}

/// A broker configuration as DescribeConfigs reports it: read-only, from the server's
/// configuration (`[kafka]` and the `[streams]` defaults new topics get).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerConfig {
    /// Kafka's name.
    pub name: &'static str,
    /// Its value, in Kafka's terms.
    pub value: String,
    /// Its data type.
    pub config_type: i8,
    /// Where it comes from in this server's configuration.
    pub documentation: &'static str,
}

/// The broker configurations a client may ask about (a minimal list: the defaults of new
/// topics).
pub fn describe_broker(kafka: &KafkaConfig, streams: &StreamsConfig) -> Vec<BrokerConfig> {
    let entry = |name, value: String, config_type, documentation| BrokerConfig {
        name,
        value,
        config_type,
        documentation,
    };
    vec![
        entry(
            "auto.create.topics.enable",
            kafka.auto_create_topics.to_string(),
            config_type::BOOLEAN,
            "kafka.auto_create_topics",
        ),
        entry(
            "default.replication.factor",
            "1".into(),
            config_type::INT,
            "a single node",
        ),
        entry(
            "log.retention.bytes",
            retention(streams.retention_bytes),
            config_type::LONG,
            "streams.retention_bytes",
        ),
        entry(
            "log.retention.ms",
            retention(streams.retention_ms),
            config_type::LONG,
            "streams.retention_ms",
        ),
        entry(
            "log.segment.bytes",
            streams.segment_bytes.to_string(),
            config_type::INT,
            "streams.segment_bytes",
        ),
        entry(
            "message.max.bytes",
            streams.max_message_bytes.to_string(),
            config_type::INT,
            "streams.max_message_bytes",
        ),
        entry(
            "num.partitions",
            kafka.default_partitions.to_string(),
            config_type::INT,
            "kafka.default_partitions",
        ),
    ]
}

#[cfg(test)]
#[path = "topic_config_tests.rs"]
mod tests;
