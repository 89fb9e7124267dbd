//! Corrupt batches found in a partition, remembered so that operators can see them
//! (`stream describe`) and consumers can skip past them by offset.

use std::collections::VecDeque;
use std::sync::Mutex;

use crate::lock;

/// Corrupt places remembered per partition; the oldest is forgotten first.
pub const CORRUPT_RANGES_MAX: usize = 16;

/// A stored batch that failed its checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorruptRange {
    /// The first offset that could not be read (the read's position when it was found).
    pub from_offset: u64,
    /// The segment file.
    pub segment: String,
    /// Byte position of the bad batch in it.
    pub position: u64,
    /// What was wrong.
    pub reason: String,
}

/// The remembered places, at most [`CORRUPT_RANGES_MAX`], each once.
#[derive(Debug, Default)]
pub(crate) struct CorruptRanges(Mutex<VecDeque<CorruptRange>>);

impl CorruptRanges {
    /// Remembers `range` unless the same place is already known; says whether it is new (so
    /// a caller logs each place once).
    pub fn record(&self, range: CorruptRange) -> bool {
        let mut known = lock(&self.0);
        if known
            .iter()
            .any(|r| r.segment == range.segment && r.position == range.position)
        {
            return false;
        }
        if known.len() == CORRUPT_RANGES_MAX {
            known.pop_front();
        }
        known.push_back(range);
        true
    }

    pub fn list(&self) -> Vec<CorruptRange> {
        lock(&self.0).iter().cloned().collect()
    }

    /// Forgets places in segments retention deleted (below `start_offset`).
    pub fn retain_from(&self, start_offset: u64) {
        lock(&self.0).retain(|r| r.from_offset >= start_offset);
    }
}
