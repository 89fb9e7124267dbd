//! Opening a disk partition: find its segments, check how each ends, repair what a crash left,
//! and rebuild missing or bad indexes. The policy (also in `docs/storage.md`):
//!
//! - Segments are opened in offset order. A sealed segment is walked header by header from its
//!   last index entry (from its start if the index had to be rebuilt); it must end exactly at
//!   the end of its file and at the next segment's base offset.
//! - A sealed segment that ends in a torn batch or short of the next segment's base offset
//!   (lost to a crash before it was synced), or that overlaps the next one, breaks the log: the
//!   segments after it are deleted and it is recovered as the active segment.
//! - A sealed segment whose headers stop parsing is kept as it is (reads find the corruption
//!   and return `LogError::Corrupt`); the next segment's base offset is trusted as its end.
//! - The last (active) segment is read whole into RAM and every batch is verified (length,
//!   CRC, structure, consecutive base offsets). At the first batch that fails the file is
//!   truncated: an incomplete batch is a torn write (logged as a warning); anything else is
//!   corruption, reported in `RecoveryReport::corrupt` and logged as an error. Either way the
//!   bytes after it are dropped and counted in `truncated_bytes`.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use bytes::BytesMut;
use memstream_batch::{check_envelope, BatchError, BatchHeader, BATCH_HEADER_LEN};

use crate::backend::{Backend, BackendFile};
use crate::config::LogConfig;
use crate::error::{LogError, RecoveryReport};
use crate::index::{IndexEntry, SparseIndex, OFFSET_ENTRY_LEN, TIME_ENTRY_LEN};
use crate::segment::{
    file_name, parse_file_name, BatchMeta, FileKind, Segment, INDEX_SUFFIX, LOG_SUFFIX,
    TIME_INDEX_SUFFIX,
};
use crate::walk::{walk_headers, WalkStop};

/// Recovers the partition stored in `backend`: its segments, oldest first, the last one
/// active and in RAM; every segment file is synced before this returns.
pub(crate) fn recover(
    backend: &dyn Backend,
    config: &LogConfig,
) -> Result<(VecDeque<Segment>, RecoveryReport), LogError> {
    let names = backend.list().map_err(|e| LogError::io("list", ".", e))?;
    let mut logs = Vec::new();
    let mut indexed = HashSet::new();
    for name in &names {
        match parse_file_name(name) {
            Some((base, FileKind::Log)) => logs.push(base),
            Some((base, _)) => {
                indexed.insert(base);
            }
            None => tracing::warn!(file = %name, "ignoring unknown file in partition directory"),
        }
    }
    logs.sort_unstable();
    let present: HashSet<&str> = names.iter().map(String::as_str).collect();
    for &base in indexed.iter().filter(|b| logs.binary_search(b).is_err()) {
        remove_indexes(backend, base);
    }

    let mut report = RecoveryReport::default();
    let mut files = Vec::with_capacity(logs.len());
    for (i, &base) in logs.iter().enumerate() {
        let file = open(backend, base)?;
        let name = file_name(base, LOG_SUFFIX);
        let len = file.len().map_err(|e| LogError::io("stat", &name, e))?;
        // Only a non-empty active segment is ever sealed, so an empty file before the last
        // one is a leftover (its creation survived a crash, its data did not, or it outlived
        // a deletion); it holds nothing and would only break the chain of offsets.
        if len == 0 && i.saturating_add(1) < logs.len() {
            tracing::warn!(segment = %name, "deleting empty leftover segment");
            backend
                .remove(&name)
                .map_err(|e| LogError::io("remove", &name, e))?;
            remove_indexes(backend, base);
            continue;
        }
        files.push((base, file));
    }
    let logs: Vec<u64> = files.iter().map(|(base, _)| *base).collect();
    let mut segments = VecDeque::with_capacity(logs.len());
    for (i, (base, file)) in files.into_iter().enumerate() {
        if let Some(&next_base) = logs.get(i.saturating_add(1)) {
            let has_index = present.contains(file_name(base, INDEX_SUFFIX).as_str())
                && present.contains(file_name(base, TIME_INDEX_SUFFIX).as_str());
            let sealed = recover_sealed(backend, file.clone(), base, next_base, has_index, config)?;
            report.batches_scanned = report.batches_scanned.saturating_add(sealed.batches);
            report.rebuilt_indexes = report
                .rebuilt_indexes
                .saturating_add(usize::from(sealed.rebuilt_index));
            if let Some((position, reason)) = sealed.corrupt {
                note_corrupt(&mut report, file_name(base, LOG_SUFFIX), position, reason);
            }
            if let Some(segment) = sealed.segment {
                segments.push_back(segment);
                continue;
            }
            for &later in logs.get(i.saturating_add(1)..).unwrap_or_default() {
                report.truncated_bytes = report
                    .truncated_bytes
                    .saturating_add(drop_segment(backend, later)?);
            }
        }
        segments.push_back(recover_active(backend, file, base, config, &mut report)?);
        break;
    }
    for segment in &segments {
        if let Some(file) = &segment.file {
            file.sync()
                .map_err(|e| LogError::io("sync", &segment.name(), e))?;
        }
    }
    report.segments = segments.len();
    Ok((segments, report))
}

fn open(backend: &dyn Backend, base: u64) -> Result<Arc<dyn BackendFile>, LogError> {
    let name = file_name(base, LOG_SUFFIX);
    backend
        .open(&name)
        .map(Arc::from)
        .map_err(|e| LogError::io("open", &name, e))
}

fn note_corrupt(report: &mut RecoveryReport, segment: String, position: u64, reason: String) {
    tracing::error!(%segment, position, %reason, "corrupt batch found during recovery");
    report.corrupt.get_or_insert((segment, position, reason));
}

/// Deletes a segment that can no longer be reached; returns its length.
fn drop_segment(backend: &dyn Backend, base: u64) -> Result<u64, LogError> {
    let name = file_name(base, LOG_SUFFIX);
    let len = open(backend, base)?.len().unwrap_or(0);
    tracing::warn!(segment = %name, len, "deleting segment after a break in the log");
    backend
        .remove(&name)
        .map_err(|e| LogError::io("remove", &name, e))?;
    remove_indexes(backend, base);
    Ok(len)
}

/// Index files are caches: failing to delete one is logged, not fatal.
pub(crate) fn remove_indexes(backend: &dyn Backend, base: u64) {
    for suffix in [INDEX_SUFFIX, TIME_INDEX_SUFFIX] {
        let name = file_name(base, suffix);
        if let Err(e) = backend.remove(&name) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(file = %name, error = %e, "cannot remove index file");
            }
        }
    }
}

/// Writes a segment's two index files. Failure is logged: the next open rebuilds them.
pub(crate) fn write_indexes(backend: &dyn Backend, base: u64, index: &SparseIndex) {
    let (offsets, times) = index.encode();
    for (suffix, bytes) in [(INDEX_SUFFIX, offsets), (TIME_INDEX_SUFFIX, times)] {
        let name = file_name(base, suffix);
        let written = backend.open(&name).and_then(|f| {
            f.truncate(0)?;
            f.append(&[&bytes])
        });
        if let Err(e) = written {
            tracing::warn!(file = %name, error = %e, "cannot write index file");
        }
    }
}

/// Reads a sealed segment's index files and checks them against the segment; `None` if they
/// must be rebuilt.
fn load_indexes(
    backend: &dyn Backend,
    base: u64,
    file: &dyn BackendFile,
    len: u64,
) -> Option<SparseIndex> {
    // An honest index has at most one entry per batch, and a batch is at least a header:
    // anything longer is garbage and is not even read (no allocation driven by bad bytes).
    let entries_max = len
        .checked_div(BATCH_HEADER_LEN as u64)
        .unwrap_or(0)
        .saturating_add(1);
    let read = |suffix: &str, entry_len: usize| -> Option<Vec<u8>> {
        let f = backend.open(&file_name(base, suffix)).ok()?;
        let n = f.len().ok()?;
        if n > entries_max.saturating_mul(entry_len as u64) {
            return None;
        }
        let mut buf = vec![0u8; usize::try_from(n).ok()?];
        f.read_at(0, &mut buf).ok()?;
        Some(buf)
    };
    let offsets = read(INDEX_SUFFIX, OFFSET_ENTRY_LEN)?;
    let times = read(TIME_INDEX_SUFFIX, TIME_ENTRY_LEN)?;
    let index = SparseIndex::decode(&offsets, &times, len).ok()?;
    let Some(last) = index.last() else {
        return (len == 0).then_some(index);
    };
    let mut header = [0u8; BATCH_HEADER_LEN];
    file.read_at(u64::from(last.position), &mut header).ok()?;
    let h = BatchHeader::parse(&header).ok()?;
    // Names and entries come from disk: an offset past u64::MAX is a bad index, not a panic.
    (Some(h.base_offset) == base.checked_add(u64::from(last.rel_offset))).then_some(index)
}

/// What checking one sealed segment found.
struct Sealed {
    /// The segment, or `None` if the log breaks here.
    segment: Option<Segment>,
    batches: u64,
    rebuilt_index: bool,
    corrupt: Option<(u64, String)>,
}

fn recover_sealed(
    backend: &dyn Backend,
    file: Arc<dyn BackendFile>,
    base: u64,
    next_base: u64,
    has_index: bool,
    config: &LogConfig,
) -> Result<Sealed, LogError> {
    let name = file_name(base, LOG_SUFFIX);
    let len = file.len().map_err(|e| LogError::io("stat", &name, e))?;
    let loaded = if has_index {
        load_indexes(backend, base, &*file, len)
    } else {
        None
    };
    let rebuilt = loaded.is_none();
    let mut index = loaded.unwrap_or_default();
    let start = index.last();
    let start_position = start.map_or(0, |e| u64::from(e.position));
    let mut max_ts = start.map_or(0, |e| e.max_timestamp_ms);
    let mut added = false;
    let mut overflow = false;
    let walk = walk_headers(
        &*file,
        start_position,
        len,
        base.saturating_add(start.map_or(0, |e| u64::from(e.rel_offset))),
        |position, header, _| {
            max_ts = max_ts.max(header.max_timestamp_ms);
            if start.is_some() && position == start_position {
                return true;
            }
            let (Ok(rel_offset), Ok(position)) = (
                u32::try_from(header.base_offset.saturating_sub(base)),
                u32::try_from(position),
            ) else {
                overflow = true;
                return false;
            };
            let entry = IndexEntry {
                rel_offset,
                position,
                max_timestamp_ms: max_ts,
            };
            added |= index.observe(entry, config.index_interval_bytes);
            true
        },
    )
    .map_err(|e| LogError::io("read", &name, e))?;
    let mut sealed = Sealed {
        segment: None,
        batches: walk.batches,
        rebuilt_index: rebuilt || added,
        corrupt: None,
    };
    match walk.stop {
        WalkStop::End if walk.next_offset == next_base => {}
        WalkStop::End if walk.next_offset > next_base => {
            let reason = format!(
                "segment ends at offset {} but the next one starts at {next_base}",
                walk.next_offset
            );
            sealed.corrupt = Some((walk.position, reason));
            return Ok(sealed);
        }
        WalkStop::End | WalkStop::Torn => {
            tracing::warn!(segment = %name, position = walk.position,
                "sealed segment ends short (unsynced data lost); the log ends here");
            return Ok(sealed);
        }
        WalkStop::Bad(reason) => sealed.corrupt = Some((walk.position, reason)),
        WalkStop::Stopped if overflow => {
            let reason = "segment spans more than 2^32 offsets or 4 GiB".to_string();
            sealed.corrupt = Some((walk.position, reason));
        }
        WalkStop::Stopped => {}
    }
    if sealed.rebuilt_index {
        tracing::info!(segment = %name, "rebuilt index");
        write_indexes(backend, base, &index);
    }
    sealed.segment = Some(Segment {
        base_offset: base,
        next_offset: next_base,
        size_bytes: len,
        max_timestamp_ms: max_ts,
        index,
        ram: None,
        file: Some(file),
    });
    Ok(sealed)
}

/// Checks one batch at the start of `rest`, expected to have base offset `expected`.
/// `Err((torn, reason))`: `torn` when the batch is merely incomplete.
fn check_batch(rest: &[u8], expected: u64) -> Result<BatchHeader, (bool, String)> {
    let header = match BatchHeader::parse(rest) {
        Ok(h) => h,
        Err(e @ BatchError::Truncated { .. }) => return Err((true, e.to_string())),
        Err(e) => return Err((false, e.to_string())),
    };
    let Some(bytes) = rest.get(..header.total_len()) else {
        return Err((true, "batch runs past the end of the file".into()));
    };
    check_envelope(bytes).map_err(|e| (false, e.to_string()))?;
    crate::partition::check_leader_epoch(&header).map_err(|reason| (false, reason))?;
    if header.base_offset != expected {
        let reason = format!(
            "base offset {} where {expected} was expected",
            header.base_offset
        );
        return Err((false, reason));
    }
    Ok(header)
}

fn recover_active(
    backend: &dyn Backend,
    file: Arc<dyn BackendFile>,
    base: u64,
    config: &LogConfig,
    report: &mut RecoveryReport,
) -> Result<Segment, LogError> {
    let name = file_name(base, LOG_SUFFIX);
    let io = |op: &str, e| LogError::io(op, &name, e);
    let len = file.len().map_err(|e| io("stat", e))?;
    let too_big = || io("read", std::io::Error::other("segment larger than memory"));
    let mut rest = BytesMut::zeroed(usize::try_from(len).map_err(|_| too_big())?);
    file.read_at(0, &mut rest).map_err(|e| io("read", e))?;
    let mut segment = Segment::new(base, Some(Arc::clone(&file)));
    let limit = config.segment_limit().max(len);
    while !rest.is_empty() {
        let position = segment.size_bytes;
        let checked = check_batch(&rest, segment.next_offset).and_then(|h| {
            let meta = BatchMeta {
                base_offset: h.base_offset,
                record_count: h.record_count,
                max_timestamp_ms: h.max_timestamp_ms,
                len: h.total_len() as u64,
            };
            match segment.is_full_for(&meta, limit) {
                false => Ok(meta),
                true => Err((false, "segment spans more than 2^32 offsets".into())),
            }
        });
        match checked {
            Ok(meta) => {
                let bytes = rest.split_to(meta.len as usize).freeze();
                segment.push(&meta, bytes, config.index_interval_bytes);
                report.batches_scanned = report.batches_scanned.saturating_add(1);
            }
            Err((torn, reason)) => {
                if torn {
                    tracing::warn!(segment = %name, position, %reason, "truncating torn tail");
                } else {
                    note_corrupt(report, name.clone(), position, reason);
                }
                file.truncate(position).map_err(|e| io("truncate", e))?;
                report.truncated_bytes = report
                    .truncated_bytes
                    .saturating_add(len.saturating_sub(position));
                break;
            }
        }
    }
    // The active segment's index lives in RAM and is written when it is sealed; stale files
    // from an earlier life of this segment must not outlive it.
    remove_indexes(backend, base);
    Ok(segment)
}
