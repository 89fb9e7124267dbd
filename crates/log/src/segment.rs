//! A segment: a run of consecutive batches, its file name, its index, and (while it is the
//! active segment of a disk partition, or any segment of a memory partition) its bytes in RAM
//! as one refcounted `Bytes` per batch, so reads are zero-copy slices.

use std::sync::Arc;

use bytes::Bytes;

use crate::backend::BackendFile;
use crate::index::{IndexEntry, SparseIndex};

/// Suffix of segment files.
pub(crate) const LOG_SUFFIX: &str = ".log";
/// Suffix of offset-index files.
pub(crate) const INDEX_SUFFIX: &str = ".index";
/// Suffix of time-index files.
pub(crate) const TIME_INDEX_SUFFIX: &str = ".timeindex";
/// Digits of the zero-padded base offset in file names (`u64::MAX` has 20).
const NAME_DIGITS: usize = 20;

/// What a file in a partition directory is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FileKind {
    /// Segment data.
    Log,
    /// Offset index.
    Index,
    /// Time index.
    TimeIndex,
}

/// `{base_offset:020}{suffix}`.
pub(crate) fn file_name(base_offset: u64, suffix: &str) -> String {
    format!("{base_offset:020}{suffix}")
}

/// Parses a file name made by [`file_name`]; `None` for anything else.
pub(crate) fn parse_file_name(name: &str) -> Option<(u64, FileKind)> {
    let digits = name.get(..NAME_DIGITS)?;
    let kind = match name.get(NAME_DIGITS..)? {
        LOG_SUFFIX => FileKind::Log,
        INDEX_SUFFIX => FileKind::Index,
        TIME_INDEX_SUFFIX => FileKind::TimeIndex,
        _ => return None,
    };
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((digits.parse().ok()?, kind))
}

/// One batch held in RAM.
#[derive(Clone, Debug)]
pub(crate) struct RamBatch {
    /// Offset of its first record.
    pub base_offset: u64,
    /// Largest record timestamp in the segment up to and including this batch.
    pub running_max_timestamp_ms: u64,
    /// The batch exactly as stored, base offset stamped.
    pub bytes: Bytes,
}

/// What the segment needs to know about an appended batch.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BatchMeta {
    /// Offset of its first record (the segment's next offset).
    pub base_offset: u64,
    /// Records in it.
    pub record_count: u32,
    /// Its largest record timestamp.
    pub max_timestamp_ms: u64,
    /// Its length in bytes.
    pub len: u64,
}

/// Where a read within one segment stopped.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadProgress {
    /// The offset after the last batch taken.
    pub next_offset: u64,
    /// The byte budget stopped it (rather than the end of the segment).
    pub budget_exhausted: bool,
}

/// A run of consecutive batches starting at `base_offset`.
pub(crate) struct Segment {
    /// Offset of the first batch; also the file name.
    pub base_offset: u64,
    /// Offset after the last batch.
    pub next_offset: u64,
    /// Bytes of batches in the segment.
    pub size_bytes: u64,
    /// Largest record timestamp in the segment (0 while empty).
    pub max_timestamp_ms: u64,
    /// Sparse offset/time index.
    pub index: SparseIndex,
    /// The batches, when the segment is served from RAM.
    pub ram: Option<Vec<RamBatch>>,
    /// The segment file (disk partitions).
    pub file: Option<Arc<dyn BackendFile>>,
}

impl Segment {
    /// An empty segment held in RAM, with `file` for disk partitions.
    pub fn new(base_offset: u64, file: Option<Arc<dyn BackendFile>>) -> Segment {
        Segment {
            base_offset,
            next_offset: base_offset,
            size_bytes: 0,
            max_timestamp_ms: 0,
            index: SparseIndex::default(),
            ram: Some(Vec::new()),
            file,
        }
    }

    /// The segment's file name.
    pub fn name(&self) -> String {
        file_name(self.base_offset, LOG_SUFFIX)
    }

    /// Whether `meta` must go to a new segment: this one is not empty and the batch would take
    /// it past `limit_bytes`, or past the 2^32 offsets a segment's relative offsets can name.
    pub fn is_full_for(&self, meta: &BatchMeta, limit_bytes: u64) -> bool {
        let offsets_after = self
            .next_offset
            .saturating_sub(self.base_offset)
            .saturating_add(u64::from(meta.record_count));
        self.size_bytes > 0
            && (self.size_bytes.saturating_add(meta.len) > limit_bytes
                || offsets_after > u64::from(u32::MAX))
    }

    /// Records a batch appended at the end (the caller wrote the file); keeps `bytes` when the
    /// segment is in RAM.
    pub fn push(&mut self, meta: &BatchMeta, bytes: Bytes, interval_bytes: u32) {
        debug_assert_eq!(meta.base_offset, self.next_offset);
        self.max_timestamp_ms = self.max_timestamp_ms.max(meta.max_timestamp_ms);
        // Both fit: `is_full_for` rolls before a batch could start at 4 GiB or 2^32 offsets in.
        let entry = IndexEntry {
            rel_offset: u32::try_from(meta.base_offset.saturating_sub(self.base_offset))
                .unwrap_or(u32::MAX),
            position: u32::try_from(self.size_bytes).unwrap_or(u32::MAX),
            max_timestamp_ms: self.max_timestamp_ms,
        };
        self.index.observe(entry, interval_bytes);
        if let Some(ram) = &mut self.ram {
            ram.push(RamBatch {
                base_offset: meta.base_offset,
                running_max_timestamp_ms: self.max_timestamp_ms,
                bytes,
            });
        }
        self.size_bytes = self.size_bytes.saturating_add(meta.len);
        self.next_offset = meta
            .base_offset
            .saturating_add(u64::from(meta.record_count));
    }

    /// Offset of the batch after RAM batch `i`.
    fn ram_next_offset(&self, ram: &[RamBatch], i: usize) -> u64 {
        ram.get(i.saturating_add(1))
            .map_or(self.next_offset, |b| b.base_offset)
    }

    /// Appends to `out` the RAM batches from the one containing `offset`, while the total
    /// (`*used`) stays within `max_bytes`, taking at least one batch if `out` is empty.
    /// `None` if the segment is not in RAM.
    pub fn read_ram(
        &self,
        offset: u64,
        max_bytes: usize,
        out: &mut Vec<Bytes>,
        used: &mut usize,
    ) -> Option<ReadProgress> {
        let ram = self.ram.as_deref()?;
        let first = ram
            .partition_point(|b| b.base_offset <= offset)
            .saturating_sub(1);
        let mut progress = ReadProgress {
            next_offset: offset,
            budget_exhausted: false,
        };
        for (i, batch) in ram.iter().enumerate().skip(first) {
            let len = batch.bytes.len();
            if !out.is_empty() && used.saturating_add(len) > max_bytes {
                progress.budget_exhausted = true;
                return Some(progress);
            }
            out.push(batch.bytes.clone());
            *used = used.saturating_add(len);
            progress.next_offset = self.ram_next_offset(ram, i);
        }
        Some(progress)
    }

    /// First offset of the first RAM batch whose max timestamp is at least `timestamp_ms`.
    pub fn ram_offset_for_timestamp(&self, timestamp_ms: u64) -> Option<u64> {
        let ram = self.ram.as_deref()?;
        let i = ram.partition_point(|b| b.running_max_timestamp_ms < timestamp_ms);
        ram.get(i).map(|b| b.base_offset)
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn file_names_round_trip_and_strangers_are_ignored() {
        assert_eq!(file_name(42, LOG_SUFFIX), "00000000000000000042.log");
        assert_eq!(
            parse_file_name(&file_name(u64::MAX, TIME_INDEX_SUFFIX)),
            Some((u64::MAX, FileKind::TimeIndex))
        );
        assert_eq!(
            parse_file_name("00000000000000000007.index"),
            Some((7, FileKind::Index))
        );
        for bad in [
            "",
            "0.log",
            "0000000000000000000a.log",
            "99999999999999999999.log",
            "00000000000000000000.log.tmp",
            "+0000000000000000000.log",
            "00000000000000000000.LOG",
        ] {
            assert_eq!(parse_file_name(bad), None, "{bad}");
        }
    }
}
