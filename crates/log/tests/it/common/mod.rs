//! Helpers shared by the integration tests: batches with recognisable contents, configs,
//! reading a whole log, and a tiny executor for `wait_durable`.
#![allow(dead_code)]

use bytes::{Bytes, BytesMut};
use memstream_batch::{verify, BatchBuilder, BatchHeader, Limits};
use memstream_log::{FsyncPolicy, LogConfig, Partition};

/// A batch of `records` records of `value_len` bytes, record `i` stamped `timestamp_ms + i`,
/// values filled with `seed` so batches can be told apart.
pub fn batch(records: u32, value_len: usize, timestamp_ms: u64, seed: u8) -> BytesMut {
    let value = vec![seed; value_len];
    let mut b = BatchBuilder::with_capacity(64 + records as usize * (value_len + 16));
    for i in 0..records {
        b.push(timestamp_ms + u64::from(i), Some(&[seed]), &value, &[]);
    }
    let bytes = b.finish(-1, -1, -1);
    verify(&bytes, Limits::UNLIMITED).expect("test batch is valid");
    BytesMut::from(&bytes[..])
}

/// A config with the given segment size, 1 KiB index interval, no retention.
pub fn config(segment_bytes: u64, fsync: FsyncPolicy) -> LogConfig {
    LogConfig {
        segment_bytes,
        retention_bytes: 0,
        retention_ms: 0,
        index_interval_bytes: 1024,
        fsync,
    }
}

/// Every batch from the start to the end, reading `max_bytes` at a time.
pub fn read_all(p: &Partition, max_bytes: usize) -> Vec<Bytes> {
    let mut out = Vec::new();
    let mut offset = p.start_offset();
    loop {
        let f = p.read(offset, max_bytes).expect("read");
        if f.batches.is_empty() {
            assert_eq!(offset, f.end_offset);
            return out;
        }
        for b in &f.batches {
            let h = BatchHeader::parse(b).unwrap();
            assert_eq!(h.base_offset, offset, "batches are consecutive");
            offset += u64::from(h.record_count);
        }
        assert_eq!(offset, f.next_offset);
        out.extend(f.batches);
    }
}

/// Base offset of a stored batch.
pub fn base_of(b: &[u8]) -> u64 {
    BatchHeader::parse(b).unwrap().base_offset
}

/// Runs a future to completion on a fresh current-thread runtime.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime")
        .block_on(f)
}
