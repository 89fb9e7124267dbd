//! Retention: which whole sealed segments to delete, by total size and by age. The active
//! segment is never deleted, so the log always keeps its newest data and its end offset.

use std::collections::VecDeque;

use crate::config::LiveLimits;
use crate::error::RetentionReport;
use crate::segment::Segment;

/// How many of the oldest segments retention deletes: a prefix of the sealed segments, each
/// either pushing the log over `retention_bytes` or holding only records older than
/// `now_ms - retention_ms`.
pub(crate) fn expired_prefix(
    segments: &VecDeque<Segment>,
    total_bytes: u64,
    config: &LiveLimits,
    now_ms: u64,
) -> usize {
    let sealed = segments.len().saturating_sub(1);
    let cutoff_ms = match config.retention_ms {
        0 => None,
        ms => now_ms.checked_sub(ms),
    };
    let mut total = total_bytes;
    let mut n = 0usize;
    for segment in segments.iter().take(sealed) {
        let too_big = config.retention_bytes > 0 && total > config.retention_bytes;
        let too_old = cutoff_ms.is_some_and(|cutoff| segment.max_timestamp_ms < cutoff);
        if !(too_big || too_old) {
            break;
        }
        total = total.saturating_sub(segment.size_bytes);
        n = n.saturating_add(1);
    }
    n
}

/// Removes the expired prefix from `segments`; returns the removed segments and the report.
pub(crate) fn apply(
    segments: &mut VecDeque<Segment>,
    size_bytes: &mut u64,
    start_offset: &mut u64,
    config: &LiveLimits,
    now_ms: u64,
) -> (Vec<Segment>, RetentionReport) {
    let n = expired_prefix(segments, *size_bytes, config, now_ms);
    let removed: Vec<Segment> = segments.drain(..n).collect();
    let bytes_deleted: u64 = removed.iter().map(|s| s.size_bytes).sum();
    *size_bytes = size_bytes.saturating_sub(bytes_deleted);
    if let Some(first) = segments.front() {
        *start_offset = first.base_offset;
    }
    let report = RetentionReport {
        segments_deleted: removed.len(),
        bytes_deleted,
        new_start_offset: *start_offset,
    };
    (removed, report)
}
