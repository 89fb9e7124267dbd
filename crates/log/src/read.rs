//! Reading a sealed on-disk segment: find the batch by index + header walk, `pread` whole
//! batches, and verify each batch's checksum before it is returned. A batch that fails is
//! never served: it is an error when it comes first, and ends the read otherwise.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use memstream_batch::{check_envelope, BatchHeader};

use crate::backend::BackendFile;
use crate::error::LogError;
use crate::index::IndexEntry;
use crate::segment::Segment;
use crate::walk::{walk_headers, WalkStop};

/// What a read of a sealed segment needs, taken under the partition lock so the file can be
/// read after it is released.
pub(crate) struct SealedView {
    /// Segment file name (for errors).
    pub name: String,
    /// The open file.
    pub file: Arc<dyn BackendFile>,
    /// The segment's base offset.
    pub base_offset: u64,
    /// The segment's length in bytes.
    pub size_bytes: u64,
    /// Where to start walking: an index entry at or before the batch sought.
    pub start: IndexEntry,
}

impl SealedView {
    /// The view of `segment` for finding `offset`, or `None` if it has no file.
    pub fn for_offset(segment: &Segment, offset: u64) -> Option<SealedView> {
        let rel = u32::try_from(offset.saturating_sub(segment.base_offset)).unwrap_or(u32::MAX);
        SealedView::new(segment, segment.index.floor(rel))
    }

    /// The view of `segment` for finding the first batch with a timestamp at or after
    /// `timestamp_ms`.
    pub fn for_timestamp(segment: &Segment, timestamp_ms: u64) -> Option<SealedView> {
        SealedView::new(segment, segment.index.before_timestamp(timestamp_ms))
    }

    fn new(segment: &Segment, start: Option<IndexEntry>) -> Option<SealedView> {
        Some(SealedView {
            name: segment.name(),
            file: Arc::clone(segment.file.as_ref()?),
            base_offset: segment.base_offset,
            size_bytes: segment.size_bytes,
            start: start.unwrap_or_default(),
        })
    }

    fn corrupt(&self, position: u64, reason: impl Into<String>) -> LogError {
        LogError::Corrupt {
            segment: self.name.clone(),
            position,
            reason: reason.into(),
        }
    }

    /// Whole verified batches from the one containing `offset`, up to `max_bytes` in total
    /// but at least one; returns them and the offset after the last.
    pub fn read(&self, offset: u64, max_bytes: usize) -> Result<(Vec<Bytes>, u64), LogError> {
        let io = |e| LogError::io("read", &self.name, e);
        let mut found = None;
        let walk = walk_headers(
            &*self.file,
            u64::from(self.start.position),
            self.size_bytes,
            self.base_offset
                .saturating_add(u64::from(self.start.rel_offset)),
            |position, header, after| {
                if after > offset {
                    found = Some((position, *header));
                }
                found.is_none()
            },
        )
        .map_err(io)?;
        let Some((mut position, first)) = found else {
            let reason = match walk.stop {
                WalkStop::Torn => "batch runs past the end of the segment".to_string(),
                WalkStop::Bad(reason) => reason,
                WalkStop::End | WalkStop::Stopped => format!("offset {offset} is not in it"),
            };
            return Err(self.corrupt(walk.position, reason));
        };
        // The walk checked that the first batch lies within the file.
        let want = (first.total_len() as u64)
            .max(max_bytes as u64)
            .min(self.size_bytes.saturating_sub(position));
        let mut chunk = BytesMut::zeroed(want as usize);
        self.file.read_at(position, &mut chunk).map_err(io)?;
        let mut batches = Vec::new();
        let mut used = 0usize;
        let mut next_offset = first.base_offset;
        while !chunk.is_empty() {
            let len = match BatchHeader::parse(&chunk) {
                Ok(h) => h.total_len(),
                Err(_) if !batches.is_empty() => break,
                Err(e) => return Err(self.corrupt(position, e.to_string())),
            };
            if len > chunk.len() || (!batches.is_empty() && used.saturating_add(len) > max_bytes) {
                break;
            }
            let checked = check_envelope(chunk.get(..len).unwrap_or_default())
                .map_err(|e| e.to_string())
                .and_then(|h| {
                    let after = next_offset
                        .checked_add(u64::from(h.record_count))
                        .ok_or_else(|| "offsets overflow u64".to_string())?;
                    crate::partition::check_leader_epoch(&h)?;
                    if h.base_offset == next_offset {
                        Ok(after)
                    } else {
                        Err(format!(
                            "base offset {} where {next_offset} was expected",
                            h.base_offset
                        ))
                    }
                });
            match checked {
                Ok(after) => next_offset = after,
                Err(_) if !batches.is_empty() => break,
                Err(reason) => return Err(self.corrupt(position, reason)),
            }
            batches.push(chunk.split_to(len).freeze());
            used = used.saturating_add(len);
            position = position.saturating_add(len as u64);
        }
        Ok((batches, next_offset))
    }

    /// Base offset of the first batch whose max timestamp is at least `timestamp_ms`, by
    /// header walk; `None` if none is found or the walk fails.
    pub fn offset_for_timestamp(&self, timestamp_ms: u64) -> Option<u64> {
        let mut found = None;
        walk_headers(
            &*self.file,
            u64::from(self.start.position),
            self.size_bytes,
            self.base_offset
                .saturating_add(u64::from(self.start.rel_offset)),
            |_, header, _| {
                if header.max_timestamp_ms >= timestamp_ms {
                    found = Some(header.base_offset);
                }
                found.is_none()
            },
        )
        .ok()?;
        found
    }

    /// The offset the search starts from (a safe lower bound for the answer).
    pub fn start_offset(&self) -> u64 {
        self.base_offset
            .saturating_add(u64::from(self.start.rel_offset))
    }
}
