//! Model test: random appends, reads, rolls, retention, faults, crashes and reopens on a
//! `MemoryBackend` behind a `FaultyBackend`, checked against a plain list of batches.
//!
//! Invariants checked: the log is always a consecutive run of the batches appended, in order
//! and byte for byte; every batch acknowledged durable (`wait_durable` returned `true`)
//! survives a crash unless retention deleted it; reads return whole batches from the one
//! containing the offset.

use crate::common;

use std::sync::Arc;

use bytes::Bytes;
use common::{batch, block_on, read_all};
use memstream_batch::{stamp, BatchHeader};
use memstream_log::{
    FaultyBackend, FsyncPolicy, LogConfig, LogError, MemoryBackend, Partition, Syncer,
};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Op {
    Append { records: u32, value_len: usize },
    Read { at_permille: u16, max_bytes: usize },
    Roll,
    Retention { now_ms: u64 },
    WaitDurable,
    FailSync { nth: u64 },
    FailWrite { nth: u64 },
    TearWrite { nth: u64, keep: usize },
    Crash,
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (1..5u32, 0..300usize).prop_map(|(records, value_len)| Op::Append { records, value_len }),
        3 => (0..=1000u16, 0..2_000usize).prop_map(|(at_permille, max_bytes)| Op::Read { at_permille, max_bytes }),
        1 => Just(Op::Roll),
        1 => (0..200u64).prop_map(|t| Op::Retention { now_ms: t * 100 }),
        2 => Just(Op::WaitDurable),
        1 => (1..4u64).prop_map(|nth| Op::FailSync { nth }),
        1 => (1..4u64).prop_map(|nth| Op::FailWrite { nth }),
        1 => (1..4u64, 0..200usize).prop_map(|(nth, keep)| Op::TearWrite { nth, keep }),
        1 => Just(Op::Crash),
        1 => Just(Op::Reopen),
    ]
}

fn policy() -> impl Strategy<Value = FsyncPolicy> {
    prop_oneof![
        Just(FsyncPolicy::Always),
        Just(FsyncPolicy::Never),
        Just(FsyncPolicy::Interval { interval_ms: 1 }),
    ]
}

/// The batches appended and acknowledged, oldest first.
struct Model {
    batches: Vec<(u64, Bytes)>,
    /// Offsets below this were acknowledged durable.
    durable: u64,
    /// Appends so far, to give each batch its own contents and timestamp.
    appended: u64,
}

impl Model {
    fn end(&self) -> u64 {
        self.batches.last().map_or(0, |(b, bytes)| {
            b + u64::from(BatchHeader::parse(bytes).unwrap().record_count)
        })
    }

    fn position_of(&self, base: u64) -> usize {
        self.batches
            .binary_search_by_key(&base, |(b, _)| *b)
            .unwrap_or_else(|_| panic!("no batch starts at {base}"))
    }

    /// The log must be exactly the model's batches in [start, end).
    fn check_log(&self, p: &Partition) {
        let all = read_all(p, 1 << 20);
        let first = match all.first() {
            Some(b) => self.position_of(BatchHeader::parse(b).unwrap().base_offset),
            None => self.batches.len(),
        };
        let expected: Vec<&Bytes> = self.batches[first..].iter().map(|(_, b)| b).collect();
        assert_eq!(all.iter().collect::<Vec<_>>(), expected);
        assert_eq!(p.end_offset(), self.end());
    }

    /// After a crash: the log is a prefix of the model holding at least the durable batches;
    /// the model forgets the rest.
    fn after_crash(&mut self, p: &Partition) {
        let end = p.end_offset();
        assert!(
            end >= self.durable,
            "durable data lost: end {end}, durable {}",
            self.durable
        );
        let keep = self.batches.partition_point(|(b, _)| *b < end);
        self.batches.truncate(keep);
        self.check_log(p);
    }
}

/// Opens the partition as a restarted process would: faults armed for the old one are gone.
fn open(backend: &FaultyBackend, cfg: &LogConfig, syncer: &Syncer) -> Partition {
    backend.heal();
    Partition::open_with(Arc::new(backend.clone()), cfg.clone(), syncer)
        .expect("open")
        .0
}

fn run(ops: Vec<Op>, fsync: FsyncPolicy) {
    let cfg = LogConfig {
        segment_bytes: 1_500,
        retention_bytes: 6_000,
        retention_ms: 5_000,
        index_interval_bytes: 256,
        fsync,
    };
    let syncer = Syncer::new(1);
    let backend = FaultyBackend::new(Arc::new(MemoryBackend::new()));
    let mut p = open(&backend, &cfg, &syncer);
    let mut model = Model {
        batches: Vec::new(),
        durable: 0,
        appended: 0,
    };
    for op in ops {
        match op {
            Op::Append { records, value_len } => {
                let ts = model.appended * 50;
                let mut b = batch(records, value_len, ts, model.appended as u8);
                model.appended += 1;
                if let Ok(out) = p.append(b.clone(), ts) {
                    assert_eq!(out.base_offset, model.end());
                    stamp(&mut b, out.base_offset, 0);
                    model.batches.push((out.base_offset, b.freeze()));
                }
            }
            Op::Read {
                at_permille,
                max_bytes,
            } => {
                let (start, end) = (p.start_offset(), p.end_offset());
                let offset = start + (end - start) * u64::from(at_permille) / 1000;
                let f = p.read(offset, max_bytes).expect("read");
                if offset == end {
                    assert!(f.batches.is_empty());
                    continue;
                }
                let first = model.batches.partition_point(|(b, _)| *b <= offset) - 1;
                assert!(!f.batches.is_empty());
                let total: usize = f.batches.iter().map(Bytes::len).sum();
                assert!(f.batches.len() == 1 || total <= max_bytes);
                for (i, b) in f.batches.iter().enumerate() {
                    assert_eq!(b, &model.batches[first + i].1);
                }
            }
            Op::Roll => {
                let _ = p.roll(0);
            }
            Op::Retention { now_ms } => {
                let old_start = p.start_offset();
                let report = p.enforce_retention(now_ms).expect("retention");
                assert_eq!(report.new_start_offset, p.start_offset());
                assert!(p.start_offset() >= old_start);
            }
            Op::WaitDurable => {
                let end = p.end_offset();
                if end > 0 {
                    match block_on(p.wait_durable(end - 1)) {
                        Ok(true) => model.durable = model.durable.max(end),
                        Ok(false) => panic!("disk partitions can be durable"),
                        Err(LogError::Fenced { .. }) => {}
                        Err(e) => panic!("wait_durable: {e}"),
                    }
                }
            }
            Op::FailSync { nth } => backend.fail_sync(nth),
            Op::FailWrite { nth } => backend.fail_write(nth),
            Op::TearWrite { nth, keep } => backend.tear_write(nth, keep),
            Op::Crash => {
                backend.crash().expect("crash");
                drop(p);
                p = open(&backend, &cfg, &syncer);
                model.after_crash(&p);
            }
            Op::Reopen => {
                drop(p);
                p = open(&backend, &cfg, &syncer);
                // Nothing is lost without a crash, except a torn write's bytes.
                model.check_log(&p);
            }
        }
        model.check_log(&p);
    }
    backend.crash().expect("crash");
    drop(p);
    let p = open(&backend, &cfg, &syncer);
    model.after_crash(&p);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn the_log_matches_the_model_through_faults_and_crashes(
        ops in prop::collection::vec(op(), 1..80),
        fsync in policy(),
    ) {
        run(ops, fsync);
    }
}

#[test]
fn durable_batches_survive_a_crash_right_after_acknowledgement() {
    for fsync in [FsyncPolicy::Always, FsyncPolicy::Never] {
        let ops = (0..30)
            .flat_map(|i| {
                let mut v = vec![Op::Append {
                    records: 3,
                    value_len: 200,
                }];
                if i % 3 == 0 {
                    v.push(Op::WaitDurable);
                }
                if i % 7 == 6 {
                    v.push(Op::Crash);
                }
                v
            })
            .collect();
        run(ops, fsync);
    }
}

/// Regression: retention deleted a segment whose file was still queued for a sync; the sync
/// brought an empty file of that name back after a crash, and recovery took the empty file as
/// a break in the log and dropped everything after it.
#[test]
fn a_deleted_segment_synced_late_does_not_break_the_log() {
    use Op::*;
    let append = |records, value_len| Append { records, value_len };
    let ops = vec![
        append(3, 251),
        Crash,
        Roll,
        append(4, 189),
        Retention { now_ms: 10_400 },
        append(3, 196),
        append(1, 187),
        WaitDurable,
        append(3, 74),
        append(3, 240),
        TearWrite { nth: 3, keep: 193 },
        append(2, 121),
        append(2, 51),
        TearWrite { nth: 2, keep: 0 },
        FailSync { nth: 3 },
        WaitDurable,
        append(1, 45),
        Reopen,
        append(3, 80),
        Retention { now_ms: 17_600 },
        WaitDurable,
        WaitDurable,
        TearWrite { nth: 1, keep: 64 },
        Retention { now_ms: 16_500 },
        append(2, 234),
        append(4, 87),
        Retention { now_ms: 15_400 },
        append(3, 254),
        Reopen,
        WaitDurable,
        Reopen,
    ];
    run(ops, FsyncPolicy::Never);
}
