//! Syncing: group commit, fsync policies, fencing after failures, shutdown.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use common::{batch, block_on, config, read_all};
use memstream_log::{
    FaultyBackend, FileBackend, FsyncPolicy, LogError, MemoryBackend, Partition, Syncer,
};

fn faulty_memory() -> FaultyBackend {
    FaultyBackend::new(Arc::new(MemoryBackend::new()))
}

#[test]
fn group_commit_shares_fsyncs_between_concurrent_appenders() {
    const THREADS: usize = 8;
    const APPENDS_PER_THREAD: usize = 40;
    let dir = tempfile::tempdir().unwrap();
    let backend = FaultyBackend::new(Arc::new(FileBackend::new(dir.path()).unwrap()));
    let syncer = Syncer::new(2);
    let cfg = config(1 << 30, FsyncPolicy::Always);
    let (p, _) = Partition::open_with(Arc::new(backend.clone()), cfg, &syncer).unwrap();
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let p = p.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                for i in 0..APPENDS_PER_THREAD {
                    let out = p.append(batch(2, 100, 0, (t * 100 + i) as u8), 0).unwrap();
                    assert!(rt.block_on(p.wait_durable(out.last_offset)).unwrap());
                    assert!(p.durable_offset() > out.last_offset);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let appends = (THREADS * APPENDS_PER_THREAD) as u64;
    let fsyncs = backend.sync_count();
    println!("{appends} appends, {fsyncs} fsyncs");
    assert!(
        fsyncs < appends,
        "{fsyncs} fsyncs for {appends} appends: none shared"
    );
    assert_eq!(p.durable_offset(), p.end_offset());
    assert_eq!(read_all(&p, usize::MAX).len() as u64, appends);
    // The partition's own count agrees: every batch made durable, by fewer fsyncs (one sync
    // may cover two files at a roll, so the backend may count more calls than syncs).
    let stats = p.sync_stats();
    assert_eq!(stats.batches, appends);
    assert!(stats.fsyncs >= 1 && stats.fsyncs <= fsyncs, "{stats:?}");
}

#[test]
fn a_failed_fsync_fences_the_partition_and_durable_data_stays_readable() {
    let backend = faulty_memory();
    let syncer = Syncer::new(1);
    let (p, _) = Partition::open_with(
        Arc::new(backend.clone()),
        config(1 << 20, FsyncPolicy::Never),
        &syncer,
    )
    .unwrap();
    let a = p.append(batch(3, 10, 0, 1), 0).unwrap();
    assert!(block_on(p.wait_durable(a.last_offset)).unwrap());
    backend.fail_sync(1);
    let b = p.append(batch(2, 10, 0, 2), 0).unwrap();
    assert!(matches!(
        block_on(p.wait_durable(b.last_offset)),
        Err(LogError::Fenced { .. })
    ));
    assert!(matches!(
        p.append(batch(1, 10, 0, 3), 0),
        Err(LogError::Fenced { .. })
    ));
    assert_eq!(p.durable_offset(), a.last_offset + 1);
    assert!(
        block_on(p.wait_durable(a.last_offset)).unwrap(),
        "durable before the fence"
    );
    assert_eq!(read_all(&p, usize::MAX).len(), 2);
}

#[test]
fn a_failed_write_fences_the_partition_and_reopening_recovers() {
    let backend = faulty_memory();
    let syncer = Syncer::new(1);
    let cfg = config(1 << 20, FsyncPolicy::Never);
    let (p, _) = Partition::open_with(Arc::new(backend.clone()), cfg.clone(), &syncer).unwrap();
    p.append(batch(3, 10, 0, 1), 0).unwrap();
    backend.fail_write(1);
    match p.append(batch(2, 10, 0, 2), 0) {
        Err(LogError::Io { what, .. }) => assert_eq!(what, "write 00000000000000000000.log"),
        other => panic!("expected Io, got {other:?}"),
    }
    assert!(matches!(
        p.append(batch(1, 10, 0, 3), 0),
        Err(LogError::Fenced { .. })
    ));
    assert_eq!(p.read(0, 100).unwrap().batches.len(), 1);
    drop(p);
    let (p, report) = Partition::open_with(Arc::new(backend), cfg, &syncer).unwrap();
    assert_eq!((report.truncated_bytes, p.end_offset()), (0, 3));
    assert_eq!(p.append(batch(1, 10, 0, 4), 0).unwrap().base_offset, 3);
}

#[test]
fn a_torn_write_is_cut_off_on_reopen() {
    let backend = faulty_memory();
    let syncer = Syncer::new(1);
    let cfg = config(1 << 20, FsyncPolicy::Never);
    let (p, _) = Partition::open_with(Arc::new(backend.clone()), cfg.clone(), &syncer).unwrap();
    p.append(batch(3, 10, 0, 1), 0).unwrap();
    backend.tear_write(1, 30);
    assert!(p.append(batch(2, 10, 0, 2), 0).is_err());
    drop(p);
    let (p, report) = Partition::open_with(Arc::new(backend), cfg, &syncer).unwrap();
    assert_eq!((report.truncated_bytes, report.corrupt), (30, None));
    assert_eq!(p.end_offset(), 3);
}

#[test]
fn memory_partitions_are_never_durable() {
    let p = Partition::open_memory(config(1 << 20, FsyncPolicy::Always));
    let out = p.append(batch(1, 10, 0, 1), 0).unwrap();
    assert!(!block_on(p.wait_durable(out.last_offset)).unwrap());
    assert_eq!(p.durable_offset(), 0);
}

#[test]
fn never_policy_syncs_only_when_asked() {
    let backend = faulty_memory();
    let syncer = Syncer::new(1);
    let cfg = config(1 << 20, FsyncPolicy::Never);
    let (p, _) = Partition::open_with(Arc::new(backend.clone()), cfg, &syncer).unwrap();
    for i in 0..5 {
        p.append(batch(1, 10, 0, i), 0).unwrap();
    }
    assert_eq!((backend.sync_count(), p.durable_offset()), (0, 0));
    assert!(matches!(
        block_on(p.wait_durable(5)),
        Err(LogError::OffsetOutOfRange { requested: 5, .. })
    ));
    assert!(block_on(p.wait_durable(4)).unwrap());
    assert_eq!((backend.sync_count(), p.durable_offset()), (1, 5));
    // Nothing new: asking again costs no fsync.
    assert!(block_on(p.wait_durable(2)).unwrap());
    assert_eq!(backend.sync_count(), 1);
}

#[test]
fn interval_policy_syncs_without_a_waiter() {
    let backend = faulty_memory();
    let syncer = Syncer::new(1);
    let cfg = config(1 << 20, FsyncPolicy::Interval { interval_ms: 1 });
    let (p, _) = Partition::open_with(Arc::new(backend), cfg, &syncer).unwrap();
    p.append(batch(2, 10, 0, 1), 0).unwrap();
    let mut durable = p.subscribe_durable().expect("disk partition");
    block_on(async {
        let wait = durable.wait_for(|d| *d >= 2);
        tokio::time::timeout(Duration::from_secs(30), wait).await
    })
    .expect("the interval timer synced within 30 s")
    .unwrap();
    assert_eq!(p.durable_offset(), 2);
}

#[test]
fn shutdown_syncs_dirty_partitions_then_refuses_appends() {
    let backend = faulty_memory();
    let syncer = Syncer::new(2);
    let cfg = config(1 << 20, FsyncPolicy::Never);
    let (p, _) = Partition::open_with(Arc::new(backend.clone()), cfg, &syncer).unwrap();
    p.append(batch(4, 10, 0, 1), 0).unwrap();
    assert_eq!(p.durable_offset(), 0);
    syncer.shutdown();
    assert_eq!(p.durable_offset(), 4);
    assert!(matches!(
        p.append(batch(1, 10, 0, 2), 0),
        Err(LogError::Closed)
    ));
    assert!(block_on(p.wait_durable(3)).unwrap());
    syncer.shutdown();
    backend.crash().unwrap();
    let (p, _) = Partition::open_with(
        Arc::new(backend),
        config(1 << 20, FsyncPolicy::Never),
        &Syncer::new(1),
    )
    .unwrap();
    assert_eq!(p.end_offset(), 4, "the final sync made everything durable");
}
