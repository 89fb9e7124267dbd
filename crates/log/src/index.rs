//! The sparse offset index and the time index of one segment.
//!
//! In memory both are one vector of [`IndexEntry`]; on disk they are two files written side by
//! side (`.index`: `u32 rel_offset, u32 position`; `.timeindex`: `u64 max_timestamp_ms,
//! u32 rel_offset`), always with the same number of entries. An entry is made for the first
//! batch of a segment and then for the first batch that starts at least
//! `index_interval_bytes` after the previous entry, so the index is a pure function of the
//! segment's bytes and can always be rebuilt from them.

/// Bytes of one offset-index entry on disk.
pub(crate) const OFFSET_ENTRY_LEN: usize = 8;
/// Bytes of one time-index entry on disk.
pub(crate) const TIME_ENTRY_LEN: usize = 12;

/// One indexed batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    /// Base offset of the batch minus the segment's base offset.
    pub rel_offset: u32,
    /// Byte position of the batch in the segment file.
    pub position: u32,
    /// Largest record timestamp in the segment up to and including this batch.
    pub max_timestamp_ms: u64,
}

/// The entries of one segment, in order.
#[derive(Clone, Debug, Default)]
pub(crate) struct SparseIndex {
    entries: Vec<IndexEntry>,
}

impl SparseIndex {
    /// Offers the next batch of the segment; records it if an entry is due. Returns whether
    /// an entry was added.
    pub fn observe(&mut self, entry: IndexEntry, interval_bytes: u32) -> bool {
        let due = match self.entries.last() {
            None => true,
            Some(last) => entry.position.saturating_sub(last.position) >= interval_bytes,
        };
        if due {
            self.entries.push(entry);
        }
        due
    }

    /// The last entry at or before `rel_offset`.
    pub fn floor(&self, rel_offset: u32) -> Option<IndexEntry> {
        let n = self.entries.partition_point(|e| e.rel_offset <= rel_offset);
        n.checked_sub(1).and_then(|i| self.entries.get(i)).copied()
    }

    /// The last entry whose running maximum timestamp is below `timestamp_ms`: no batch up to
    /// and including it can answer a search for `timestamp_ms`.
    pub fn before_timestamp(&self, timestamp_ms: u64) -> Option<IndexEntry> {
        let n = self
            .entries
            .partition_point(|e| e.max_timestamp_ms < timestamp_ms);
        n.checked_sub(1).and_then(|i| self.entries.get(i)).copied()
    }

    /// The last entry.
    pub fn last(&self) -> Option<IndexEntry> {
        self.entries.last().copied()
    }

    /// The `.index` and `.timeindex` file contents.
    pub fn encode(&self) -> (Vec<u8>, Vec<u8>) {
        let mut offsets = Vec::with_capacity(self.entries.len().saturating_mul(OFFSET_ENTRY_LEN));
        let mut times = Vec::with_capacity(self.entries.len().saturating_mul(TIME_ENTRY_LEN));
        for e in &self.entries {
            offsets.extend_from_slice(&e.rel_offset.to_le_bytes());
            offsets.extend_from_slice(&e.position.to_le_bytes());
            times.extend_from_slice(&e.max_timestamp_ms.to_le_bytes());
            times.extend_from_slice(&e.rel_offset.to_le_bytes());
        }
        (offsets, times)
    }

    /// Parses index files and checks everything they can tell by themselves: whole entries,
    /// equal counts, matching relative offsets, a first entry at (0, 0), strictly increasing
    /// offsets and positions, non-decreasing timestamps, positions below `segment_len`.
    /// Whether the entries point at real batches is checked by the caller against the segment.
    pub fn decode(offsets: &[u8], times: &[u8], segment_len: u64) -> Result<SparseIndex, String> {
        if !offsets.len().is_multiple_of(OFFSET_ENTRY_LEN)
            || !times.len().is_multiple_of(TIME_ENTRY_LEN)
        {
            return Err("index file holds a partial entry".into());
        }
        let count = offsets.len() / OFFSET_ENTRY_LEN;
        if count != times.len() / TIME_ENTRY_LEN {
            return Err("offset and time indexes differ in length".into());
        }
        let mut entries: Vec<IndexEntry> = Vec::with_capacity(count);
        let pairs = offsets
            .chunks_exact(OFFSET_ENTRY_LEN)
            .zip(times.chunks_exact(TIME_ENTRY_LEN));
        for (o, t) in pairs {
            let (rel, pos) = o.split_at(4);
            let (ts, time_rel) = t.split_at(8);
            let e = IndexEntry {
                rel_offset: le_u32(rel),
                position: le_u32(pos),
                max_timestamp_ms: le_u64(ts),
            };
            if le_u32(time_rel) != e.rel_offset {
                return Err("offset and time indexes disagree".into());
            }
            if u64::from(e.position) >= segment_len {
                return Err("index entry points past the segment".into());
            }
            match entries.last() {
                None if e.rel_offset != 0 || e.position != 0 => {
                    return Err("first index entry is not the first batch".into())
                }
                Some(p)
                    if e.rel_offset <= p.rel_offset
                        || e.position <= p.position
                        || e.max_timestamp_ms < p.max_timestamp_ms =>
                {
                    return Err("index entries out of order".into())
                }
                _ => {}
            }
            entries.push(e);
        }
        Ok(SparseIndex { entries })
    }
}

fn le_u32(b: &[u8]) -> u32 {
    let mut v = [0u8; 4];
    v.copy_from_slice(b);
    u32::from_le_bytes(v)
}

fn le_u64(b: &[u8]) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(b);
    u64::from_le_bytes(v)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    fn entry(rel: u32, pos: u32, ts: u64) -> IndexEntry {
        IndexEntry {
            rel_offset: rel,
            position: pos,
            max_timestamp_ms: ts,
        }
    }

    #[test]
    fn entries_follow_the_interval_and_round_trip() {
        let mut index = SparseIndex::default();
        for i in 0..10u32 {
            index.observe(entry(i * 3, i * 100, u64::from(i) * 10), 250);
        }
        let positions: Vec<u32> = index.entries.iter().map(|e| e.position).collect();
        assert_eq!(positions, [0, 300, 600, 900]);
        let (o, t) = index.encode();
        let back = SparseIndex::decode(&o, &t, 1000).unwrap();
        assert_eq!(back.entries, index.entries);
        assert_eq!(index.floor(10).unwrap().position, 300);
        assert_eq!(index.before_timestamp(31).unwrap().position, 300);
        assert_eq!(index.before_timestamp(0), None);
    }

    #[test]
    fn every_truncation_and_bad_entry_is_refused() {
        let mut index = SparseIndex::default();
        for i in 0..4u32 {
            index.observe(entry(i, i * 10, 5), 10);
        }
        let (o, t) = index.encode();
        for cut in 1..o.len() {
            if cut % OFFSET_ENTRY_LEN != 0 {
                assert!(SparseIndex::decode(&o[..cut], &t, 100).is_err());
            }
        }
        assert!(SparseIndex::decode(&o, &t[..t.len() - TIME_ENTRY_LEN], 100).is_err());
        assert!(
            SparseIndex::decode(&o, &t, 30).is_err(),
            "points past the end"
        );
        let mut swapped = o.clone();
        swapped.swap(8, 16);
        assert!(SparseIndex::decode(&swapped, &t, 100).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let junk: Vec<u8> = (0..=255u8).cycle().take(24 * 7).collect();
        for a in 0..junk.len() {
            let _ = SparseIndex::decode(&junk[..a], &junk[a..], u64::MAX);
        }
    }
}
