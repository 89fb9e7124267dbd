//! What went through a partition: records and bytes appended, and records and bytes served
//! to readers (consumers' fetches and pushes, counted by the front-ends that send them).
//! Relaxed atomics, added to once per batch, never per record.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use memstream_batch::BatchHeader;

use crate::Partition;

/// The counters of one partition.
#[derive(Debug, Default)]
pub struct Traffic {
    records_in: AtomicU64,
    bytes_in: AtomicU64,
    records_out: AtomicU64,
    bytes_out: AtomicU64,
}

/// The counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrafficTotals {
    /// Records appended.
    pub records_in: u64,
    /// Bytes of batches appended.
    pub bytes_in: u64,
    /// Records served to readers.
    pub records_out: u64,
    /// Bytes of batches served to readers.
    pub bytes_out: u64,
}

impl TrafficTotals {
    /// The sum of two.
    pub fn plus(self, other: TrafficTotals) -> TrafficTotals {
        TrafficTotals {
            records_in: self.records_in.saturating_add(other.records_in),
            bytes_in: self.bytes_in.saturating_add(other.bytes_in),
            records_out: self.records_out.saturating_add(other.records_out),
            bytes_out: self.bytes_out.saturating_add(other.bytes_out),
        }
    }
}

impl Traffic {
    pub(crate) fn appended(&self, records: u32, bytes: usize) {
        self.records_in
            .fetch_add(u64::from(records), Ordering::Relaxed);
        self.bytes_in.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    fn totals(&self) -> TrafficTotals {
        TrafficTotals {
            records_in: self.records_in.load(Ordering::Relaxed),
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
            records_out: self.records_out.load(Ordering::Relaxed),
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
        }
    }
}

impl Partition {
    /// Counts `batches` (whole stored batches, as a read returned them) as served to a
    /// reader.
    pub fn served(&self, batches: &[Bytes]) {
        let (mut records, mut bytes) = (0u64, 0u64);
        for batch in batches {
            bytes = bytes.saturating_add(batch.len() as u64);
            let count = BatchHeader::parse(batch).map_or(0, |h| u64::from(h.record_count));
            records = records.saturating_add(count);
        }
        let traffic = &self.inner.traffic;
        traffic.records_out.fetch_add(records, Ordering::Relaxed);
        traffic.bytes_out.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Everything counted since the partition was opened.
    pub fn traffic(&self) -> TrafficTotals {
        self.inner.traffic.totals()
    }
}
