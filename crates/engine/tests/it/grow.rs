//! `Streams::add_partitions`: growth is stored, refused past the limits, and seen by every
//! holder of the stream, subscriptions included.

use std::collections::HashMap;

use memstream_engine::config::StreamsConfig;
use memstream_engine::streams::{Placement, SettingsOverrides, Storage, StreamError};
use memstream_engine::subscriptions::{CursorRead, Cursors, StartAt};
use memstream_names::Pattern;

use crate::common::{batch, config, limits, new_stream, open, FRAME};

#[test]
fn added_partitions_take_appends_and_survive_reopening() {
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
        .append(Placement::Partition(0), &batch(10), &limits(), 1)
        .unwrap();
    assert_eq!(streams.add_partitions("orders", 5, &cfg).unwrap(), 2);
    assert_eq!(stream.partition_count(), 5);
    assert_eq!(stream.meta().partitions, 5);
    let appended = stream
        .append(Placement::Partition(4), &batch(10), &limits(), 1)
        .unwrap();
    assert_eq!((appended.partition, appended.base_offset), (4, 0));
    assert_eq!(streams.list()[0].partitions, 5);
    assert_eq!(streams.describe("orders").unwrap().partitions.len(), 5);
    assert!(dir.path().join("streams/orders/00004").is_dir());
    drop(stream);
    streams.shutdown();
    drop(streams);

    let streams = open(dir.path());
    let stream = streams.get("orders").unwrap();
    assert_eq!(stream.partition_count(), 5, "the new count was stored");
    let ends: Vec<u64> = streams
        .describe("orders")
        .unwrap()
        .partitions
        .iter()
        .map(|p| p.end_offset)
        .collect();
    assert_eq!(ends, [1, 0, 0, 0, 1]);
    streams.shutdown();
}

#[test]
fn memory_streams_grow_too() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config();
    let streams = open(dir.path());
    let settings = SettingsOverrides {
        storage: Some(Storage::Memory),
        ..SettingsOverrides::default()
    };
    let stream = streams
        .create(&new_stream("m", 1, settings), &cfg, FRAME)
        .unwrap();
    streams.add_partitions("m", 3, &cfg).unwrap();
    stream
        .append(Placement::Partition(2), &batch(10), &limits(), 1)
        .unwrap();
    assert!(stream.partition(2).unwrap().log.durable_offset() == 0);
    streams.shutdown();
}

#[test]
fn growth_is_refused_when_not_larger_or_past_the_limits() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = StreamsConfig {
        max_partitions_per_stream: 8,
        max_partitions_total: 10,
        ..config()
    };
    let streams = open(dir.path());
    for (name, n) in [("a", 3), ("b", 4)] {
        streams
            .create(
                &new_stream(name, n, SettingsOverrides::default()),
                &cfg,
                FRAME,
            )
            .unwrap();
    }
    for count in [3, 2, 0] {
        let e = streams.add_partitions("a", count, &cfg).unwrap_err();
        assert!(
            matches!(e, StreamError::PartitionsNotAdded { current: 3, requested, .. } if requested == count),
            "{e}"
        );
    }
    let e = streams.add_partitions("a", 9, &cfg).unwrap_err();
    assert!(
        matches!(&e, StreamError::OutOfRange(r) if r.setting == "partitions" && r.max == 8),
        "{e}"
    );
    // 3 + 4 now; growing `a` to 7 would make 11 > 10.
    let e = streams.add_partitions("a", 7, &cfg).unwrap_err();
    assert!(
        matches!(
            e,
            StreamError::LimitReached {
                limit: "streams.max_partitions_total",
                max: 10
            }
        ),
        "{e}"
    );
    assert!(matches!(
        streams.add_partitions("nope", 4, &cfg),
        Err(StreamError::NotFound(_))
    ));
    assert_eq!(streams.check_add_partitions("a", 6, &cfg).unwrap(), 3);
    assert!(streams.check_add_partitions("a", 7, &cfg).is_err());
    let a = streams.get("a").unwrap();
    assert_eq!(
        a.partition_count(),
        3,
        "neither refusals nor checks grew it"
    );
    assert!(!dir.path().join("streams/a/00003").exists());
    // Exactly at the total limit is allowed.
    streams.add_partitions("a", 6, &cfg).unwrap();
    assert_eq!(a.partition_count(), 6);
    streams.shutdown();
}

#[test]
fn holders_of_the_stream_and_their_subscriptions_see_new_partitions() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config();
    let streams = open(dir.path());
    let held = streams
        .create(
            &new_stream("events", 1, SettingsOverrides::default()),
            &cfg,
            FRAME,
        )
        .unwrap();
    let mut cursors = Cursors::open(
        &streams,
        Pattern::parse("events").unwrap(),
        None,
        StartAt::Earliest,
        HashMap::new(),
        std::sync::Arc::new(|_: &str| true),
    );
    assert!(cursors.watches_created());
    assert_eq!(cursors.cursors.len(), 1);
    let mut created = streams.watch_created();
    created.mark_unchanged();

    // Another thread grows the stream while this one keeps appending round-robin through
    // the handle it held from before.
    let grower = std::thread::scope(|s| {
        let t = s.spawn(|| streams.add_partitions("events", 3, &cfg).unwrap());
        while held.partition_count() < 3 {
            held.append(Placement::RoundRobin, &batch(10), &limits(), 1)
                .unwrap();
        }
        t.join().unwrap()
    });
    assert_eq!(grower, 1);
    assert!(created.has_changed().unwrap(), "subscriptions are told");
    for p in [1, 2] {
        held.append(Placement::Partition(p), &batch(10), &limits(), 1)
            .unwrap();
    }

    cursors.add_new_streams(&streams);
    let mut partitions: Vec<u32> = cursors.cursors.iter().map(|c| c.partition).collect();
    partitions.sort_unstable();
    assert_eq!(partitions, [0, 1, 2], "cursors for the new partitions");
    cursors.add_new_streams(&streams);
    assert_eq!(cursors.cursors.len(), 3, "added once");
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for cursor in cursors.cursors.iter_mut().filter(|c| c.partition > 0) {
        let end = held.partition(cursor.partition).unwrap().log.end_offset();
        let CursorRead::Batches {
            batches,
            next_offset,
            ..
        } = rt.block_on(cursor.read(1 << 20, 1 << 20))
        else {
            panic!("partition {} has batches", cursor.partition);
        };
        let first = memstream_batch::BatchHeader::parse(&batches[0]).unwrap();
        assert_eq!(
            (first.base_offset, next_offset),
            (0, end),
            "new partitions are read from their start"
        );
    }

    // A subscription to one partition does not follow growth.
    let one = Cursors::open(
        &streams,
        Pattern::parse("events").unwrap(),
        Some(0),
        StartAt::Earliest,
        HashMap::new(),
        std::sync::Arc::new(|_: &str| true),
    );
    assert!(!one.watches_created());
    streams.shutdown();
}

/// A pattern subscription reads only the streams its principal may read, now and later.
#[test]
fn a_pattern_skips_streams_it_may_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config();
    let streams = open(dir.path());
    for name in ["orders.eu", "orders.secret"] {
        streams
            .create(
                &new_stream(name, 1, SettingsOverrides::default()),
                &cfg,
                FRAME,
            )
            .unwrap();
    }
    let mut cursors = Cursors::open(
        &streams,
        Pattern::parse("orders.*").unwrap(),
        None,
        StartAt::Earliest,
        HashMap::new(),
        std::sync::Arc::new(|name: &str| !name.contains("secret")),
    );
    let names =
        |c: &Cursors| -> Vec<String> { c.positions().into_iter().map(|p| p.stream).collect() };
    assert_eq!(names(&cursors), ["orders.eu"]);
    for name in ["orders.us", "orders.secret2"] {
        streams
            .create(
                &new_stream(name, 1, SettingsOverrides::default()),
                &cfg,
                FRAME,
            )
            .unwrap();
    }
    cursors.add_new_streams(&streams);
    let mut got = names(&cursors);
    got.sort();
    assert_eq!(got, ["orders.eu", "orders.us"]);
    streams.shutdown();
}
