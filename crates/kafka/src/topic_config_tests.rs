//! The config table's conversions, both ways.

use super::*;

fn set(name: &str, value: &str) -> AlterableConfig {
    AlterableConfig {
        name: name.into(),
        config_operation: ConfigOperation::Set,
        value: Some(value.into()),
    }
}

#[test]
fn every_name_round_trips() {
    for c in TopicConfig::ALL {
        assert_eq!(TopicConfig::from_name(c.name()), Some(c));
    }
    assert_eq!(TopicConfig::from_name("min.insync.replicas"), None);
    assert_eq!(
        TopicConfig::of_setting("segment_bytes"),
        Some(TopicConfig::SegmentBytes)
    );
}

#[test]
fn creation_configs_become_overrides() {
    let o = create_overrides([
        ("retention.ms", Some("-1")),
        ("retention.bytes", Some("1048576")),
        ("segment.bytes", Some("2097152")),
        ("max.message.bytes", Some("1000")),
        ("cleanup.policy", Some("delete")),
        ("memstream.storage", Some("memory")),
        ("memstream.fsync", Some("never")),
        ("retention.ms", None),
    ])
    .unwrap();
    assert_eq!(
        o,
        SettingsOverrides {
            storage: Some(Storage::Memory),
            retention_bytes: Some(1 << 20),
            retention_ms: Some(0),
            segment_bytes: Some(2 << 20),
            max_message_bytes: Some(1000),
            fsync: Some(Fsync::Never),
            fsync_interval_ms: None,
        }
    );
    assert_eq!(create_overrides([]).unwrap(), SettingsOverrides::default());
}

#[test]
fn bad_creation_configs_are_invalid_config_naming_the_config() {
    for (name, value, says) in [
        ("cleanup.policy", "compact", "never compacted"),
        ("cleanup.policy", "compact,delete", "never compacted"),
        ("retention.ms", "0", "-1 (unlimited)"),
        ("retention.bytes", "-2", "-1 (unlimited)"),
        ("segment.bytes", "0", "not positive"),
        ("max.message.bytes", "lots", "not a number"),
        ("memstream.storage", "tape", "disk"),
        ("min.insync.replicas", "1", "not a topic configuration"),
    ] {
        let e = create_overrides([(name, Some(value))]).unwrap_err();
        assert_eq!(e.code, ErrorCode::INVALID_CONFIG, "{name}={value}");
        assert!(
            e.message.starts_with(name) && e.message.contains(says),
            "{name}={value}: {}",
            e.message
        );
    }
}

#[test]
fn alters_become_changes() {
    let delete = AlterableConfig {
        name: "retention.bytes".into(),
        config_operation: ConfigOperation::Delete,
        value: None,
    };
    let changes = alter_changes(&[
        set("retention.ms", "60000"),
        set("max.message.bytes", "2048"),
        set("cleanup.policy", "delete"),
        delete,
    ])
    .unwrap();
    assert_eq!(
        changes,
        [
            SettingChange {
                setting: Alterable::RetentionMs,
                value: Some(60_000)
            },
            SettingChange {
                setting: Alterable::MaxMessageBytes,
                value: Some(2048)
            },
            SettingChange {
                setting: Alterable::RetentionBytes,
                value: None
            },
        ]
    );
}

#[test]
fn refused_alters() {
    let append = AlterableConfig {
        config_operation: ConfigOperation::Append,
        ..set("cleanup.policy", "delete")
    };
    let odd = AlterableConfig {
        config_operation: ConfigOperation::Unknown(9),
        ..set("retention.ms", "1")
    };
    let null = AlterableConfig {
        value: None,
        ..set("retention.ms", "1")
    };
    for (configs, code) in [
        (vec![append], ErrorCode::INVALID_REQUEST),
        (vec![odd], ErrorCode::INVALID_REQUEST),
        (
            vec![set("retention.ms", "1"), set("retention.ms", "2")],
            ErrorCode::INVALID_REQUEST,
        ),
        (vec![null], ErrorCode::INVALID_CONFIG),
        (
            vec![set("cleanup.policy", "compact")],
            ErrorCode::INVALID_CONFIG,
        ),
        (
            vec![set("memstream.storage", "disk")],
            ErrorCode::INVALID_CONFIG,
        ),
        (vec![set("flush.ms", "1")], ErrorCode::INVALID_CONFIG),
    ] {
        let e = alter_changes(&configs).unwrap_err();
        assert_eq!(e.code, code, "{configs:?}: {}", e.message);
    }
}

#[test]
fn description_reports_values_in_kafka_terms_and_their_source() {
    let overrides = SettingsOverrides {
        retention_ms: Some(0),
        ..SettingsOverrides::default()
    };
    let settings = Effective::resolve(&overrides, &StreamsConfig::default(), 1 << 20).unwrap();
    let meta = StreamMeta {
        name: "t".into(),
        id: 1,
        partitions: 1,
        settings: settings.clone(),
        overrides,
    };
    let described = describe(&meta);
    assert_eq!(described.len(), TopicConfig::ALL.len());
    let get = |c: TopicConfig| described.iter().find(|d| d.config == c).unwrap();
    let ms = get(TopicConfig::RetentionMs);
    assert_eq!(
        (ms.value.as_str(), ms.source),
        ("-1", config_source::DYNAMIC_TOPIC_CONFIG)
    );
    let bytes = get(TopicConfig::RetentionBytes);
    assert_eq!(bytes.value, settings.retention_bytes.to_string());
    assert_eq!(bytes.source, config_source::DEFAULT_CONFIG);
    assert_eq!(get(TopicConfig::CleanupPolicy).value, "delete");
    assert_eq!(get(TopicConfig::Storage).value, "disk");
    assert!(TopicConfig::Storage.read_only() && !TopicConfig::RetentionMs.read_only());
}
