//! `Streams::alter` and the overrides a stream keeps: changes apply live, are stored, are
//! checked as at creation, and `None` goes back to the default.

use memstream_engine::config::StreamsConfig;
use memstream_engine::streams::{
    Alterable, Placement, SettingChange, SettingsOverrides, Storage, StreamError,
};

use crate::common::{batch, config, limits, new_stream, open, FRAME};

fn set(setting: Alterable, value: u64) -> SettingChange {
    SettingChange {
        setting,
        value: Some(value),
    }
}

#[test]
fn creation_keeps_which_settings_were_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config();
    let streams = open(dir.path());
    let settings = SettingsOverrides {
        retention_ms: Some(60_000),
        ..SettingsOverrides::default()
    };
    let stream = streams
        .create(&new_stream("orders", 1, settings.clone()), &cfg, FRAME)
        .unwrap();
    assert_eq!(stream.meta().overrides, settings);
    assert_eq!(stream.meta().settings.retention_ms, 60_000);
    streams.shutdown();
    drop((stream, streams));
    let streams = open(dir.path());
    assert_eq!(streams.get("orders").unwrap().meta().overrides, settings);
    streams.shutdown();
}

#[test]
fn altered_settings_apply_live_and_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config();
    let streams = open(dir.path());
    let stream = streams
        .create(
            &new_stream("orders", 2, SettingsOverrides::default()),
            &cfg,
            FRAME,
        )
        .unwrap();
    stream
        .append(Placement::Partition(0), &batch(2_000), &limits(), 1)
        .unwrap();
    let changes = [
        set(Alterable::MaxMessageBytes, 1_000),
        set(Alterable::RetentionBytes, 5 << 20),
        set(Alterable::RetentionMs, 3_600_000),
        set(Alterable::SegmentBytes, 2 << 20),
    ];
    let eff = streams.alter("orders", &changes, &cfg, FRAME).unwrap();
    assert_eq!(
        (
            eff.max_message_bytes,
            eff.retention_bytes,
            eff.retention_ms,
            eff.segment_bytes
        ),
        (1_000, 5 << 20, 3_600_000, 2 << 20)
    );
    assert_eq!(
        stream.meta().settings,
        eff,
        "the held stream sees the change"
    );
    let e = stream
        .append(Placement::Partition(0), &batch(2_000), &limits(), 1)
        .unwrap_err();
    assert!(matches!(e, StreamError::Batch(_)), "{e}");
    for p in stream.partitions().iter() {
        let l = p.log.limits();
        assert_eq!(
            (l.segment_bytes, l.retention_bytes, l.retention_ms),
            (2 << 20, 5 << 20, 3_600_000),
            "every partition log has the new limits"
        );
    }
    let overrides = stream.meta().overrides.clone();
    assert_eq!(overrides.max_message_bytes, Some(1_000));
    assert_eq!(overrides.storage, None, "storage was never chosen");
    streams.shutdown();
    drop((stream, streams));

    let streams = open(dir.path());
    let stream = streams.get("orders").unwrap();
    assert_eq!(stream.meta().settings, eff, "stored");
    assert_eq!(stream.meta().overrides, overrides);
    assert_eq!(
        stream.partition(1).unwrap().log.limits().segment_bytes,
        2 << 20
    );
    assert!(stream
        .append(Placement::Partition(0), &batch(2_000), &limits(), 1)
        .is_err());
    streams.shutdown();
}

#[test]
fn a_change_to_none_takes_the_default_and_clears_the_override() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config();
    let streams = open(dir.path());
    let settings = SettingsOverrides {
        retention_ms: Some(60_000),
        ..SettingsOverrides::default()
    };
    streams
        .create(&new_stream("orders", 1, settings), &cfg, FRAME)
        .unwrap();
    // The default changed since the stream was created: `None` takes today's.
    let cfg = StreamsConfig {
        retention_ms: 120_000,
        ..cfg
    };
    let change = SettingChange {
        setting: Alterable::RetentionMs,
        value: None,
    };
    let eff = streams.alter("orders", &[change], &cfg, FRAME).unwrap();
    assert_eq!(eff.retention_ms, 120_000);
    let stream = streams.get("orders").unwrap();
    assert_eq!(stream.meta().overrides, SettingsOverrides::default());
    assert_eq!(
        stream.partition(0).unwrap().log.limits().retention_ms,
        120_000
    );
    streams.shutdown();
}

#[test]
fn refused_changes_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config();
    let streams = open(dir.path());
    let memory = SettingsOverrides {
        storage: Some(Storage::Memory),
        retention_bytes: Some(1 << 20),
        ..SettingsOverrides::default()
    };
    let stream = streams
        .create(&new_stream("m", 1, memory), &cfg, FRAME)
        .unwrap();
    let before = stream.meta();
    let refused = [
        // Batches must fit the frames that carry them.
        (
            set(Alterable::MaxMessageBytes, u64::from(FRAME)),
            "max_message_bytes",
        ),
        (set(Alterable::MaxMessageBytes, 0), "max_message_bytes"),
        (set(Alterable::SegmentBytes, 1_000), "segment_bytes"),
        // A memory stream must stay bounded.
        (set(Alterable::RetentionBytes, 0), "retention_bytes"),
    ];
    for (change, setting) in refused {
        for result in [
            streams.check_alter("m", &[change], &cfg, FRAME),
            streams.alter("m", &[change], &cfg, FRAME),
        ] {
            let e = result.unwrap_err();
            assert!(
                matches!(&e, StreamError::OutOfRange(r) if r.setting == setting),
                "{change:?}: {e}"
            );
        }
    }
    assert_eq!(stream.meta(), before);
    // A check reports the outcome without applying it.
    let eff = streams
        .check_alter("m", &[set(Alterable::RetentionMs, 5)], &cfg, FRAME)
        .unwrap();
    assert_eq!(eff.retention_ms, 5);
    assert_eq!(stream.meta(), before);
    assert!(matches!(
        streams.alter("nope", &[], &cfg, FRAME),
        Err(StreamError::NotFound(_))
    ));
    streams.shutdown();
}

#[test]
fn check_create_refuses_what_create_would_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config();
    let streams = open(dir.path());
    let req = new_stream("orders", 3, SettingsOverrides::default());
    let (partitions, eff) = streams.check_create(&req, &cfg, FRAME).unwrap();
    assert_eq!((partitions, eff.retention_ms), (3, cfg.retention_ms));
    assert!(streams.list().is_empty());
    streams.create(&req, &cfg, FRAME).unwrap();
    assert!(matches!(
        streams.check_create(&req, &cfg, FRAME),
        Err(StreamError::AlreadyExists(_))
    ));
    let bad = new_stream("bad name!", 1, SettingsOverrides::default());
    assert!(matches!(
        streams.check_create(&bad, &cfg, FRAME),
        Err(StreamError::InvalidName { .. })
    ));
    streams.shutdown();
}
