//! Append and read back, across segment rolls, on every kind of partition.

use crate::common;

use std::sync::Arc;

use bytes::Bytes;
use common::{base_of, batch, config, read_all};
use memstream_batch::{stamp, BatchHeader};
use memstream_log::{FsyncPolicy, LogConfig, LogError, MemoryBackend, Partition, Syncer};

/// Every flavour: RAM only, disk-like on a MemoryBackend, real files in a tempdir.
fn flavours(
    cfg: &LogConfig,
    syncer: &Syncer,
    dir: &tempfile::TempDir,
) -> Vec<(&'static str, Partition)> {
    let (mem_disk, _) =
        Partition::open_with(Arc::new(MemoryBackend::new()), cfg.clone(), syncer).unwrap();
    let (files, _) = Partition::open_disk(dir.path(), cfg.clone(), syncer).unwrap();
    vec![
        ("memory", Partition::open_memory(cfg.clone())),
        ("memory backend", mem_disk),
        ("files", files),
    ]
}

/// Appends `n` batches of 1..=4 records; returns the stored bytes (base offsets stamped).
fn fill(p: &Partition, n: u32, first_ts: u64) -> Vec<Bytes> {
    let mut stored = Vec::new();
    for i in 0..n {
        let mut b = batch(1 + i % 4, 100, first_ts + u64::from(i) * 10, i as u8);
        let expected_base = p.end_offset();
        let out = p.append(b.clone(), 0).unwrap();
        assert_eq!(out.base_offset, expected_base);
        assert_eq!(out.last_offset, expected_base + u64::from(i % 4));
        stamp(&mut b, expected_base, 0);
        stored.push(b.freeze());
    }
    stored
}

#[test]
fn append_read_round_trip_across_segment_rolls() {
    let cfg = config(2_000, FsyncPolicy::Never);
    let syncer = Syncer::new(1);
    let dir = tempfile::tempdir().unwrap();
    for (name, p) in flavours(&cfg, &syncer, &dir) {
        let stored = fill(&p, 60, 1_000);
        assert!(
            p.size_bytes() > 5 * cfg.segment_bytes,
            "{name}: several segments"
        );
        assert_eq!(
            p.size_bytes(),
            stored.iter().map(|b| b.len() as u64).sum::<u64>()
        );
        for max_bytes in [1, 700, 5_000, usize::MAX] {
            assert_eq!(
                read_all(&p, max_bytes),
                stored,
                "{name}, max_bytes {max_bytes}"
            );
        }
    }
    let (reopened, report) = Partition::open_disk(dir.path(), cfg, &syncer).unwrap();
    assert!(report.segments > 5 && report.corrupt.is_none() && report.truncated_bytes == 0);
    assert_eq!(read_all(&reopened, 4096).len(), 60);
}

#[test]
fn read_from_the_middle_of_a_batch_returns_the_containing_batch() {
    let cfg = config(1_500, FsyncPolicy::Never);
    let syncer = Syncer::new(1);
    let dir = tempfile::tempdir().unwrap();
    for (name, p) in flavours(&cfg, &syncer, &dir) {
        let stored = fill(&p, 30, 0);
        for b in &stored {
            let base = base_of(b);
            let count = memstream_batch::BatchHeader::parse(b).unwrap().record_count;
            for offset in base..base + u64::from(count) {
                let f = p.read(offset, 1).unwrap();
                assert_eq!(
                    f.batches,
                    std::slice::from_ref(b),
                    "{name}: offset {offset}"
                );
                assert_eq!(f.next_offset, base + u64::from(count));
            }
        }
    }
}

#[test]
fn max_bytes_is_respected_but_at_least_one_batch_is_returned() {
    let cfg = config(4_000, FsyncPolicy::Never);
    let syncer = Syncer::new(1);
    let dir = tempfile::tempdir().unwrap();
    for (name, p) in flavours(&cfg, &syncer, &dir) {
        let stored = fill(&p, 40, 0);
        let f = p.read(0, 0).unwrap();
        assert_eq!(f.batches, [stored[0].clone()], "{name}");
        let two = stored[0].len() + stored[1].len();
        assert_eq!(p.read(0, two).unwrap().batches.len(), 2, "{name}");
        assert_eq!(p.read(0, two - 1).unwrap().batches.len(), 1, "{name}");
        let mut offset = 0;
        while offset < p.end_offset() {
            let f = p.read(offset, 1_000).unwrap();
            let total: usize = f.batches.iter().map(Bytes::len).sum();
            assert!(
                f.batches.len() == 1 || total <= 1_000,
                "{name}: {total} bytes"
            );
            offset = f.next_offset;
        }
    }
}

#[test]
fn offsets_outside_the_log_are_refused_and_the_end_is_empty() {
    let cfg = config(1 << 20, FsyncPolicy::Never);
    let syncer = Syncer::new(1);
    let dir = tempfile::tempdir().unwrap();
    for (name, p) in flavours(&cfg, &syncer, &dir) {
        let empty = p.read(0, 100).unwrap();
        assert!(empty.batches.is_empty() && empty.end_offset == 0, "{name}");
        fill(&p, 3, 0);
        let end = p.end_offset();
        let f = p.read(end, 100).unwrap();
        assert!(f.batches.is_empty() && f.next_offset == end, "{name}");
        assert!(matches!(
            p.read(end + 1, 100),
            Err(LogError::OffsetOutOfRange { requested, start: 0, end: e }) if requested == end + 1 && e == end
        ));
    }
}

#[test]
fn offset_for_timestamp_finds_the_first_batch_at_or_after() {
    let mut cfg = config(1_200, FsyncPolicy::Never);
    cfg.index_interval_bytes = 300;
    let syncer = Syncer::new(1);
    let dir = tempfile::tempdir().unwrap();
    // Timestamps mostly rise, with some batches from the past.
    let stamps: Vec<u64> = (0..50u64)
        .map(|i| if i % 7 == 3 { 100 } else { 1_000 + i * 50 })
        .collect();
    for (name, p) in flavours(&cfg, &syncer, &dir) {
        let mut batches = Vec::new();
        for (i, &ts) in stamps.iter().enumerate() {
            let out = p.append(batch(2, 100, ts, i as u8), 0).unwrap();
            batches.push((out.base_offset, ts + 1)); // max timestamp of a 2-record batch
        }
        for target in (0..4_000).step_by(37) {
            let expected = batches
                .iter()
                .find(|(_, max)| *max >= target)
                .map_or(p.end_offset(), |(base, _)| *base);
            assert_eq!(
                p.offset_for_timestamp(target),
                expected,
                "{name}: ts {target}"
            );
        }
    }
}

#[test]
fn subscribers_see_the_end_offset_after_each_append() {
    let p = Partition::open_memory(config(1 << 20, FsyncPolicy::Never));
    let mut rx = p.subscribe();
    assert_eq!(*rx.borrow_and_update(), 0);
    p.append(batch(3, 10, 0, 1), 0).unwrap();
    assert!(rx.has_changed().unwrap());
    assert_eq!(*rx.borrow_and_update(), 3);
    let late = p.subscribe();
    assert_eq!(*late.borrow(), 3);
    p.destroy().unwrap();
    assert!(rx.has_changed().is_err(), "destroy closes the watch");
}

#[test]
fn destroy_deletes_every_file() {
    let syncer = Syncer::new(1);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p0");
    let (p, _) = Partition::open_disk(&path, config(1_000, FsyncPolicy::Never), &syncer).unwrap();
    fill(&p, 20, 0);
    let other = p.clone();
    assert!(std::fs::read_dir(&path).unwrap().count() > 3);
    p.destroy().unwrap();
    assert!(!path.exists());
    assert!(matches!(other.read(0, 10), Err(LogError::Closed)));
    assert!(matches!(
        other.append(batch(1, 1, 0, 0), 0),
        Err(LogError::Closed)
    ));
}

#[test]
fn a_batch_that_does_not_parse_is_refused_and_not_stored() {
    let p = Partition::open_memory(config(1 << 20, FsyncPolicy::Never));
    for junk in [&b""[..], &[0u8; 10], &[0xff; 100]] {
        let err = p.append(bytes::BytesMut::from(junk), 0).unwrap_err();
        assert!(matches!(err, LogError::Corrupt { .. }), "{err}");
    }
    let mut short = batch(2, 10, 0, 1);
    short.truncate(short.len() - 1);
    assert!(p.append(short, 0).is_err());
    assert_eq!((p.end_offset(), p.size_bytes()), (0, 0));
}

#[test]
fn readers_see_consecutive_batches_while_a_writer_appends_and_rolls() {
    let dir = tempfile::tempdir().unwrap();
    let syncer = Syncer::new(1);
    let cfg = LogConfig {
        retention_bytes: 20_000,
        ..config(2_000, FsyncPolicy::Interval { interval_ms: 1 })
    };
    let (p, _) = Partition::open_disk(dir.path(), cfg, &syncer).unwrap();
    const BATCHES: u64 = 1_000;
    let readers: Vec<_> = (0..2)
        .map(|r| {
            let p = p.clone();
            std::thread::spawn(move || {
                let mut end = p.subscribe();
                let mut offset = 0;
                while offset < BATCHES {
                    let f = match p.read(offset, 1_000 * (r + 1)) {
                        Ok(f) => f,
                        // Retention overtook this reader: skip ahead, as a consumer would.
                        Err(LogError::OffsetOutOfRange { start, .. }) if offset < start => {
                            offset = start;
                            continue;
                        }
                        Err(e) => panic!("{e}"),
                    };
                    for b in &f.batches {
                        let h =
                            memstream_batch::verify(b, memstream_batch::Limits::UNLIMITED).unwrap();
                        assert!(h.base_offset <= offset && offset < h.next_offset());
                        assert_eq!(b[b.len() - 2], h.base_offset as u8, "contents of batch");
                        offset = h.next_offset();
                    }
                    if f.batches.is_empty() {
                        let _ = block_until_changed(&mut end);
                    }
                }
            })
        })
        .collect();
    for i in 0..BATCHES {
        // One record whose value (and key) is the batch's offset, mod 256.
        let mut b = batch(1, 1, i, i as u8);
        assert_eq!(p.append(b.split(), i).unwrap().base_offset, i);
        if i % 100 == 99 {
            p.enforce_retention(i).unwrap();
        }
    }
    for r in readers {
        r.join().unwrap();
    }
}

/// Waits for the next end-offset change from a plain thread.
fn block_until_changed(rx: &mut tokio::sync::watch::Receiver<u64>) -> bool {
    common::block_on(rx.changed()).is_ok()
}

#[test]
fn handles_are_send_and_sync_and_wait_durable_is_send() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: T) {}
    let p = Partition::open_memory(config(1 << 20, FsyncPolicy::Never));
    send_sync(&p);
    send_sync(&Syncer::new(1));
    send(p.wait_durable(0));
}

/// A producer's batch without timestamps (Kafka's NO_TIMESTAMP, -1: librdkafka's C++
/// `produce()` with timestamp -1) is stored with the append time, as LogAppendTime, with a
/// valid checksum; a search by time finds it.
#[test]
fn a_batch_without_timestamps_gets_the_append_time() {
    let cfg = config(1 << 20, FsyncPolicy::Never);
    let syncer = Syncer::new(1);
    let dir = tempfile::tempdir().unwrap();
    for (name, p) in flavours(&cfg, &syncer, &dir) {
        p.append(batch(1, 10, 500, 1), 0).unwrap();
        let mut untimed = batch(3, 10, 0, 2);
        untimed[27..35].copy_from_slice(&(-1i64).to_be_bytes());
        untimed[35..43].copy_from_slice(&(-1i64).to_be_bytes());
        let crc = crc32c::crc32c(&untimed[21..]);
        untimed[17..21].copy_from_slice(&crc.to_be_bytes());
        assert!(BatchHeader::parse(&untimed).unwrap().timestamps_missing);
        let out = p.append(untimed, 7_000).unwrap();
        assert_eq!(out.base_offset, 1, "{name}");
        let stored = read_all(&p, 1 << 20);
        let h = memstream_batch::check_envelope(&stored[1]).expect("checksum still valid");
        assert_eq!(
            (h.first_timestamp_ms, h.max_timestamp_ms),
            (7_000, 7_000),
            "{name}"
        );
        assert_ne!(h.attributes & memstream_batch::TIMESTAMP_TYPE_LOG_APPEND, 0);
        assert!(!h.timestamps_missing);
        assert_eq!(p.offset_for_timestamp(6_000), 1, "{name}");
    }
}
