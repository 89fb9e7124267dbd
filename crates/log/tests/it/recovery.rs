//! Recovery on real files: clean reopen, torn tails, flipped bytes, lost and bad indexes.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use common::{base_of, batch, config, read_all};
use memstream_log::{FsyncPolicy, LogConfig, LogError, Partition, Syncer};

fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_str().unwrap().ends_with(suffix))
        .collect();
    v.sort();
    v
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_str().unwrap().to_string()
}

/// Writes `n` batches to a fresh disk partition in `dir` and closes it; returns the batches.
fn write_log(dir: &Path, cfg: &LogConfig, n: u32) -> Vec<Bytes> {
    let syncer = Syncer::new(1);
    let (p, _) = Partition::open_disk(dir, cfg.clone(), &syncer).unwrap();
    for i in 0..n {
        p.append(batch(1 + i % 3, 100, 1_000 + u64::from(i), i as u8), 0)
            .unwrap();
    }
    read_all(&p, usize::MAX)
}

fn reopen(dir: &Path, cfg: &LogConfig) -> (Partition, memstream_log::RecoveryReport) {
    Partition::open_disk(dir, cfg.clone(), &Syncer::new(1)).unwrap()
}

/// Byte positions of the batches of one segment file.
fn positions(bytes: &[u8]) -> Vec<usize> {
    let mut at = 0;
    let mut v = Vec::new();
    while at < bytes.len() {
        v.push(at);
        at += u32::from_be_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize + 12;
    }
    v
}

#[test]
fn reopen_after_clean_close_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(2_000, FsyncPolicy::Always);
    let stored = write_log(dir.path(), &cfg, 40);
    let (p, report) = reopen(dir.path(), &cfg);
    assert_eq!(report.corrupt, None);
    assert_eq!((report.truncated_bytes, report.rebuilt_indexes), (0, 0));
    assert_eq!(report.segments, files(dir.path(), ".log").len());
    assert_eq!(read_all(&p, 3_000), stored);
    assert_eq!(p.durable_offset(), p.end_offset());
    // Appending after a reopen continues the offsets.
    let end = p.end_offset();
    assert_eq!(p.append(batch(1, 1, 0, 0), 0).unwrap().base_offset, end);
}

#[test]
fn a_torn_last_batch_is_cut_at_every_byte() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(1 << 20, FsyncPolicy::Never);
    let stored = write_log(dir.path(), &cfg, 6);
    let log = files(dir.path(), ".log").pop().unwrap();
    let original = fs::read(&log).unwrap();
    let last = *positions(&original).last().unwrap();
    for cut in last..original.len() {
        fs::write(&log, &original[..cut]).unwrap();
        let (p, report) = reopen(dir.path(), &cfg);
        assert_eq!(report.truncated_bytes, (cut - last) as u64, "cut at {cut}");
        assert_eq!(
            report.corrupt, None,
            "a torn tail is not corruption (cut at {cut})"
        );
        assert_eq!(p.end_offset(), base_of(&stored[5]));
        assert_eq!(read_all(&p, usize::MAX), stored[..5]);
        assert_eq!(fs::metadata(&log).unwrap().len(), last as u64);
    }
}

#[test]
fn a_flipped_byte_in_the_active_segment_is_reported_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(1 << 20, FsyncPolicy::Never);
    let stored = write_log(dir.path(), &cfg, 5);
    let log = files(dir.path(), ".log").pop().unwrap();
    let original = fs::read(&log).unwrap();
    let at = positions(&original)[2];
    let len = stored[2].len();
    for i in at..at + len {
        let mut bad = original.clone();
        bad[i] ^= 0x40;
        fs::write(&log, &bad).unwrap();
        let (p, report) = reopen(dir.path(), &cfg);
        assert_eq!(p.end_offset(), base_of(&stored[2]), "flip at {i}");
        assert_eq!(read_all(&p, usize::MAX), stored[..2]);
        assert_eq!(report.truncated_bytes, (original.len() - at) as u64);
        // A length field made to point past the end of the file reads as a torn write.
        let length_field = (at + 8..at + 12).contains(&i);
        match &report.corrupt {
            Some((segment, position, _)) => {
                assert_eq!(
                    (segment.as_str(), *position),
                    (name(&log).as_str(), at as u64)
                );
            }
            None => assert!(length_field, "flip at {i} not reported"),
        }
    }
}

#[test]
fn a_flipped_byte_in_a_sealed_segment_is_never_served() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(2_000, FsyncPolicy::Never);
    let stored = write_log(dir.path(), &cfg, 30);
    let first = &files(dir.path(), ".log")[0];
    let original = fs::read(first).unwrap();
    let at = positions(&original);
    let in_first: Vec<&Bytes> = stored.iter().take(at.len()).collect();
    assert!(at.len() >= 3 && files(dir.path(), ".log").len() >= 3);

    // A flipped record byte: recovery walks headers only, the read finds it.
    let mut bad = original.clone();
    bad[at[1] + 70] ^= 1;
    fs::write(first, &bad).unwrap();
    let (p, report) = reopen(dir.path(), &cfg);
    assert_eq!(report.corrupt, None);
    match p.read(base_of(in_first[1]), 10_000) {
        Err(LogError::Corrupt {
            segment, position, ..
        }) => {
            assert_eq!((segment, position), (name(first), at[1] as u64));
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    // Reads before it stop short of it; reads after it work.
    let f = p.read(0, usize::MAX).unwrap();
    assert_eq!(f.batches, [in_first[0].clone()]);
    assert_eq!(
        p.read(base_of(in_first[2]), 1).unwrap().batches,
        [in_first[2].clone()]
    );
    let later = base_of(stored.last().unwrap());
    assert_eq!(
        p.read(later, 1).unwrap().batches,
        [stored.last().unwrap().clone()]
    );
    drop(p);

    // A flipped header byte of the last batch (past the last index entry): recovery's header
    // walk reports it, keeps the segment, and the read refuses the batch.
    let last = *at.last().unwrap();
    let mut bad = original.clone();
    bad[last + 16] ^= 0xff; // the format byte
    fs::write(first, &bad).unwrap();
    let (p, report) = reopen(dir.path(), &cfg);
    let (segment, position, _) = report.corrupt.expect("reported");
    assert_eq!((segment, position), (name(first), last as u64));
    assert_eq!(p.end_offset(), base_of(stored.last().unwrap()) + 1 + 29 % 3);
    let last_base = base_of(in_first[at.len() - 1]);
    assert!(matches!(
        p.read(last_base, 1),
        Err(LogError::Corrupt { .. })
    ));
    assert_eq!(p.read(0, 1).unwrap().batches, [in_first[0].clone()]);
}

#[test]
fn a_sealed_segment_cut_short_ends_the_log_there() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(2_000, FsyncPolicy::Never);
    let stored = write_log(dir.path(), &cfg, 30);
    let logs = files(dir.path(), ".log");
    let original = fs::read(&logs[1]).unwrap();
    let at = positions(&original);
    fs::write(&logs[1], &original[..at[2] + 30]).unwrap();
    let later: u64 = logs[2..]
        .iter()
        .map(|l| fs::metadata(l).unwrap().len())
        .sum();
    let (p, report) = reopen(dir.path(), &cfg);
    assert_eq!(report.segments, 2);
    assert_eq!(report.truncated_bytes, later + 30);
    let kept = files(dir.path(), ".log").len();
    assert_eq!(kept, 2);
    let expected: Vec<Bytes> = stored
        .iter()
        .take_while(|b| b[..] != original[at[2]..at[2] + b.len()])
        .cloned()
        .collect();
    assert_eq!(read_all(&p, usize::MAX), expected);
}

/// Every read and timestamp lookup, to compare a log before and after an index rebuild.
fn observe(p: &Partition) -> (Vec<Vec<Bytes>>, Vec<u64>) {
    let reads = (0..p.end_offset())
        .map(|o| p.read(o, 900).unwrap().batches)
        .collect();
    let times = (900..1_100).map(|t| p.offset_for_timestamp(t)).collect();
    (reads, times)
}

#[test]
fn a_deleted_short_or_garbage_index_is_rebuilt_with_identical_results() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(3_000, FsyncPolicy::Never);
    cfg.index_interval_bytes = 500;
    write_log(dir.path(), &cfg, 40);
    let (p, _) = reopen(dir.path(), &cfg);
    let before = observe(&p);
    drop(p);
    let indexes: Vec<(PathBuf, Vec<u8>)> = [".index", ".timeindex"]
        .iter()
        .flat_map(|s| files(dir.path(), s))
        .map(|f| (f.clone(), fs::read(&f).unwrap()))
        .collect();
    let sealed = files(dir.path(), ".index").len();
    assert!(sealed >= 3);

    type Damage = fn(&Path, &[u8]);
    let damages: [(&str, Damage, usize); 5] = [
        ("deleted", |f, _| fs::remove_file(f).unwrap(), sealed),
        (
            "garbage",
            |f, b| fs::write(f, vec![0xa5; b.len()]).unwrap(),
            sealed,
        ),
        (
            "partial entry",
            |f, b| fs::write(f, &b[..b.len() - 3]).unwrap(),
            sealed,
        ),
        (
            "missing last entry",
            |f, b| {
                fs::write(
                    f,
                    &b[..b.len()
                        - if f.extension().unwrap() == "index" {
                            8
                        } else {
                            12
                        }],
                )
                .unwrap()
            },
            sealed,
        ),
        ("empty", |f, _| fs::write(f, b"").unwrap(), sealed),
    ];
    for (what, damage, rebuilt) in damages {
        for (f, bytes) in &indexes {
            damage(f, bytes);
        }
        let (p, report) = reopen(dir.path(), &cfg);
        assert_eq!(report.rebuilt_indexes, rebuilt, "{what}");
        assert_eq!(report.corrupt, None, "{what}");
        assert_eq!(observe(&p), before, "{what}");
        for (f, bytes) in &indexes {
            assert_eq!(
                &fs::read(f).unwrap(),
                bytes,
                "{what}: {} rewritten identically",
                f.display()
            );
        }
    }

    // Indexes of two segments swapped: well-formed but pointing at the wrong batches.
    let idx = files(dir.path(), ".index");
    let (a, b) = (fs::read(&idx[0]).unwrap(), fs::read(&idx[1]).unwrap());
    fs::write(&idx[0], &b).unwrap();
    fs::write(&idx[1], &a).unwrap();
    let (p, report) = reopen(dir.path(), &cfg);
    assert!(report.rebuilt_indexes >= 1);
    assert_eq!(observe(&p), before, "swapped");
}

#[test]
fn unknown_files_are_left_alone_and_orphan_indexes_removed() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(1 << 20, FsyncPolicy::Never);
    let stored = write_log(dir.path(), &cfg, 3);
    fs::write(dir.path().join("notes.txt"), b"hi").unwrap();
    fs::write(dir.path().join("00000000000000000999.index"), b"junk").unwrap();
    let (p, report) = reopen(dir.path(), &cfg);
    assert_eq!(report.corrupt, None);
    assert_eq!(read_all(&p, usize::MAX), stored);
    assert!(dir.path().join("notes.txt").exists());
    assert!(!dir.path().join("00000000000000000999.index").exists());
}

#[test]
fn an_empty_leftover_segment_before_the_log_is_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(2_000, FsyncPolicy::Never);
    let stored = write_log(dir.path(), &cfg, 30);
    let logs = files(dir.path(), ".log");
    // The first segment was deleted by retention, but its (empty) file came back.
    fs::write(&logs[0], b"").unwrap();
    let second_base: u64 = name(&logs[1])[..20].parse().unwrap();
    let (p, report) = reopen(dir.path(), &cfg);
    assert_eq!((report.corrupt, report.truncated_bytes), (None, 0));
    assert_eq!(p.start_offset(), second_base);
    let kept: Vec<Bytes> = stored
        .into_iter()
        .filter(|b| base_of(b) >= second_base)
        .collect();
    assert_eq!(read_all(&p, usize::MAX), kept);
    assert!(!logs[0].exists());
}

#[test]
fn segment_names_near_u64_max_are_corrupt_data_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(2_000, FsyncPolicy::Never);
    write_log(dir.path(), &cfg, 30);
    // Keep the first two segments (with their index files) and give them the two largest
    // names there are: every offset computed from them would overflow.
    let logs = files(dir.path(), ".log");
    assert!(logs.len() >= 3);
    for (i, log) in logs.iter().enumerate() {
        let stem = name(log).trim_end_matches(".log").to_owned();
        for suffix in [".log", ".index", ".timeindex"] {
            let from = dir.path().join(format!("{stem}{suffix}"));
            if i >= 2 {
                let _ = fs::remove_file(&from);
                continue;
            }
            let to = dir
                .path()
                .join(format!("{:020}{suffix}", u64::MAX - 1 + i as u64));
            if from.exists() {
                fs::rename(&from, &to).unwrap();
            }
        }
    }
    let (p, report) = reopen(dir.path(), &cfg);
    assert!(report.corrupt.is_some(), "{report:?}");
    // What is left is a consistent log that takes no offsets it cannot hold.
    assert!(p.start_offset() <= p.end_offset());
}
