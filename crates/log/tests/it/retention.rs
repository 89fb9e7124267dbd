//! Retention by size and by age; time is an argument, never the wall clock.

use crate::common;

use common::{batch, config, read_all};
use memstream_batch::BatchHeader;
use memstream_log::{FsyncPolicy, LogConfig, LogError, Partition, Syncer};

fn log_files(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().unwrap() == "log")
        .count()
}

/// Batch `i` has records stamped `i * 1000` and `i * 1000 + 1`.
fn fill(p: &Partition, n: u64) {
    for i in 0..n {
        p.append(batch(2, 100, i * 1_000, i as u8), 0).unwrap();
    }
}

#[test]
fn retention_by_bytes_deletes_the_oldest_sealed_segments() {
    let dir = tempfile::tempdir().unwrap();
    let syncer = Syncer::new(1);
    let cfg = LogConfig {
        retention_bytes: 3_000,
        ..config(1_000, FsyncPolicy::Never)
    };
    let (p, _) = Partition::open_disk(dir.path(), cfg, &syncer).unwrap();
    fill(&p, 40);
    let (end, before) = (p.end_offset(), p.size_bytes());
    let files_before = log_files(dir.path());
    let report = p.enforce_retention(0).unwrap();
    assert!(report.segments_deleted > 0);
    assert_eq!(p.size_bytes(), before - report.bytes_deleted);
    assert!(p.size_bytes() <= 3_000);
    assert!(
        p.size_bytes() + 1_000 > 3_000,
        "deletes no more than needed"
    );
    assert_eq!(
        log_files(dir.path()),
        files_before - report.segments_deleted
    );
    let start = p.start_offset();
    assert_eq!(report.new_start_offset, start);
    assert_eq!(p.end_offset(), end);
    assert!(matches!(
        p.read(start - 1, 100),
        Err(LogError::OffsetOutOfRange { requested, .. }) if requested == start - 1
    ));
    assert_eq!(
        BatchHeader::parse(&read_all(&p, usize::MAX)[0])
            .unwrap()
            .base_offset,
        start
    );
    assert_eq!(
        p.enforce_retention(0).unwrap().segments_deleted,
        0,
        "idempotent"
    );
    drop(p);
    let (p, _) =
        Partition::open_disk(dir.path(), config(1_000, FsyncPolicy::Never), &syncer).unwrap();
    assert_eq!(
        (p.start_offset(), p.end_offset()),
        (start, end),
        "survives reopening"
    );
}

#[test]
fn retention_by_time_deletes_segments_whose_newest_record_is_too_old() {
    let dir = tempfile::tempdir().unwrap();
    let syncer = Syncer::new(1);
    let cfg = LogConfig {
        retention_ms: 10_000,
        ..config(1_000, FsyncPolicy::Never)
    };
    let (p, _) = Partition::open_disk(dir.path(), cfg, &syncer).unwrap();
    fill(&p, 40);
    assert_eq!(p.enforce_retention(10_000).unwrap().segments_deleted, 0);
    let now = 30_000;
    let report = p.enforce_retention(now).unwrap();
    assert!(report.segments_deleted > 0);
    let kept = read_all(&p, usize::MAX);
    let first_kept = BatchHeader::parse(&kept[0]).unwrap();
    // Batch i holds offsets 2i, 2i + 1 and max timestamp 1000 i + 1.
    for i in 0..first_kept.base_offset / 2 {
        assert!(
            i * 1_000 + 1 < now - 10_000,
            "deleted batch {i} was young enough"
        );
    }
    // Everything sealed goes when all of it is old; the active segment stays.
    let report = p.enforce_retention(u64::MAX).unwrap();
    assert!(report.segments_deleted > 0);
    assert_eq!(log_files(dir.path()), 1);
    assert_eq!(p.end_offset(), 80);
    assert!(!p.read(p.start_offset(), 1).unwrap().batches.is_empty());
}

#[test]
fn the_active_segment_is_never_deleted() {
    let cfg = LogConfig {
        retention_bytes: 1,
        retention_ms: 1,
        ..config(1 << 20, FsyncPolicy::Never)
    };
    let p = Partition::open_memory(cfg);
    fill(&p, 10);
    let report = p.enforce_retention(u64::MAX).unwrap();
    assert_eq!(report.segments_deleted, 0);
    assert_eq!(read_all(&p, usize::MAX).len(), 10);
}

#[test]
fn memory_partitions_apply_retention_at_every_roll() {
    let cfg = LogConfig {
        retention_bytes: 5_000,
        ..config(1_000, FsyncPolicy::Never)
    };
    let p = Partition::open_memory(cfg);
    for i in 0..500u64 {
        p.append(batch(2, 100, i, i as u8), 0).unwrap();
        assert!(p.size_bytes() <= 5_000 + 1_000, "bounded at append {i}");
    }
    assert_eq!(p.end_offset(), 1_000);
    assert!(p.start_offset() > 900);
    let kept = read_all(&p, usize::MAX);
    assert_eq!(
        BatchHeader::parse(&kept[0]).unwrap().base_offset,
        p.start_offset()
    );
}

#[test]
fn limits_changed_live_apply_to_the_next_roll_and_retention_run() {
    let dir = tempfile::tempdir().unwrap();
    let syncer = Syncer::new(1);
    let (p, _) =
        Partition::open_disk(dir.path(), config(100_000, FsyncPolicy::Never), &syncer).unwrap();
    fill(&p, 20);
    assert_eq!(log_files(dir.path()), 1, "everything fits one segment");
    assert_eq!(p.enforce_retention(0).unwrap().segments_deleted, 0);
    let limits = memstream_log::LiveLimits {
        segment_bytes: 1_000,
        retention_bytes: 3_000,
        ..p.limits()
    };
    p.set_limits(limits);
    assert_eq!(p.limits(), limits);
    fill(&p, 40);
    assert!(
        log_files(dir.path()) > 2,
        "new segments roll at the new size"
    );
    let report = p.enforce_retention(0).unwrap();
    assert!(report.segments_deleted > 0, "the new retention applies");
    assert!(p.size_bytes() <= 3_000);
}
