//! Append throughput: batches of 100 records of 100 bytes, into a memory partition and into
//! disk partitions under each fsync policy (for `Always`, each append also waits until it is
//! durable, as an `acks=durable` producer would).
//!
//! Run with `cargo bench -p memstream-log --bench append`. Figures are per batch, with
//! `Throughput::Bytes` of the batch, so they read as bytes per second appended.

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use memstream_batch::BatchBuilder;
use memstream_log::{FsyncPolicy, LogConfig, Partition, Syncer};

/// Records per batch.
const RECORDS: usize = 100;
/// Bytes of each record's value.
const VALUE_BYTES: usize = 100;
/// Segments roll at 64 MiB, as in the default configuration.
const SEGMENT_BYTES: u64 = 64 << 20;
/// Retention keeps the benchmark's RAM and disk use bounded however long it runs.
const RETENTION_BYTES: u64 = 256 << 20;

fn batch() -> BytesMut {
    let value = [7u8; VALUE_BYTES];
    let mut b = BatchBuilder::with_capacity(RECORDS * (VALUE_BYTES + 16) + 64);
    for i in 0..RECORDS {
        b.push(1_700_000_000_000 + i as u64, None, &value, &[]);
    }
    BytesMut::from(&b.finish(-1, -1, -1)[..])
}

fn config(fsync: FsyncPolicy) -> LogConfig {
    LogConfig {
        segment_bytes: SEGMENT_BYTES,
        retention_bytes: RETENTION_BYTES,
        retention_ms: 0,
        index_interval_bytes: 4096,
        fsync,
    }
}

fn append(c: &mut Criterion) {
    let template = batch();
    let mut group = c.benchmark_group("append_100x100B");
    group.throughput(Throughput::Bytes(template.len() as u64));
    let syncer = Syncer::new(2);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");

    let memory = Partition::open_memory(config(FsyncPolicy::Never));
    group.bench_function("memory", |b| {
        b.iter_batched(
            || template.clone(),
            |batch| black_box(memory.append(batch, 0).expect("append")),
            BatchSize::SmallInput,
        )
    });

    let policies = [
        ("disk_fsync_never", FsyncPolicy::Never),
        (
            "disk_fsync_interval_10ms",
            FsyncPolicy::Interval { interval_ms: 10 },
        ),
        ("disk_fsync_always_wait_durable", FsyncPolicy::Always),
    ];
    for (name, fsync) in policies {
        let dir = tempfile::tempdir().expect("tempdir");
        let (p, _) = Partition::open_disk(dir.path(), config(fsync), &syncer).expect("open");
        let wait = fsync == FsyncPolicy::Always;
        group.bench_function(name, |b| {
            b.iter_batched(
                || template.clone(),
                |batch| {
                    let out = p.append(batch, 0).expect("append");
                    if wait {
                        assert!(rt
                            .block_on(p.wait_durable(out.last_offset))
                            .expect("durable"));
                    }
                    // Retention runs as the broker would run it: now and then.
                    if out.base_offset % (1 << 16) == 0 {
                        p.enforce_retention(0).expect("retention");
                    }
                    black_box(out)
                },
                BatchSize::SmallInput,
            )
        });
        p.destroy().expect("destroy");
    }
    group.finish();
    syncer.shutdown();
}

criterion_group!(benches, append);
criterion_main!(benches);
