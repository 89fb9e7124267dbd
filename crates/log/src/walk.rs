//! Walking a segment file batch header by batch header, without checksums: finds batch
//! boundaries for index rebuilds, recovery of sealed segments and positioned reads.

use std::io;

use memstream_batch::{BatchHeader, BATCH_HEADER_LEN};

use crate::backend::BackendFile;

/// Bytes read from the file at a time while walking headers: large enough that walking a
/// segment of small batches takes few reads, small enough to be a trivial allocation.
pub(crate) const WALK_CHUNK_BYTES: usize = 64 * 1024;

/// Why a walk stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum WalkStop {
    /// At exactly the end of the file.
    End,
    /// At a batch that runs past the end of the file (a torn write).
    Torn,
    /// At a header that does not parse or does not continue the offsets.
    Bad(String),
    /// The visitor asked to stop at this batch.
    Stopped,
}

/// Where a walk stopped: position and expected base offset of the batch it stopped at.
#[derive(Clone, Debug)]
pub(crate) struct Walk {
    /// Byte position where it stopped.
    pub position: u64,
    /// Base offset the batch at `position` has or should have.
    pub next_offset: u64,
    /// Batches visited and passed.
    pub batches: u64,
    /// Why it stopped.
    pub stop: WalkStop,
}

/// Walks headers from `position` (where a batch with base offset `next_offset` starts) up to
/// `len`. For every whole batch, `visit(position, header, offset_after)` is called; returning
/// `false` stops the walk at that batch.
pub(crate) fn walk_headers(
    file: &dyn BackendFile,
    mut position: u64,
    len: u64,
    mut next_offset: u64,
    mut visit: impl FnMut(u64, &BatchHeader, u64) -> bool,
) -> io::Result<Walk> {
    let mut buf: Vec<u8> = Vec::new();
    let mut buf_start = 0u64;
    let mut batches = 0u64;
    let stop = loop {
        let Some(left) = len.checked_sub(position) else {
            break WalkStop::Torn;
        };
        if left == 0 {
            break WalkStop::End;
        }
        if left < BATCH_HEADER_LEN as u64 {
            break WalkStop::Torn;
        }
        let buffered = position >= buf_start
            && position.saturating_add(BATCH_HEADER_LEN as u64)
                <= buf_start.saturating_add(buf.len() as u64);
        if !buffered {
            let n = left.min(WALK_CHUNK_BYTES as u64) as usize;
            buf.resize(n, 0);
            file.read_at(position, &mut buf)?;
            buf_start = position;
        }
        let at = position.saturating_sub(buf_start) as usize;
        let header = match BatchHeader::parse(buf.get(at..).unwrap_or_default()) {
            Ok(h) => h,
            Err(e) => break WalkStop::Bad(e.to_string()),
        };
        if header.base_offset != next_offset {
            break WalkStop::Bad(format!(
                "base offset {} where {next_offset} was expected",
                header.base_offset
            ));
        }
        if header.total_len() as u64 > left {
            break WalkStop::Torn;
        }
        let Some(after) = next_offset.checked_add(u64::from(header.record_count)) else {
            break WalkStop::Bad("offsets overflow u64".into());
        };
        if !visit(position, &header, after) {
            break WalkStop::Stopped;
        }
        batches = batches.saturating_add(1);
        position = position.saturating_add(header.total_len() as u64);
        next_offset = after;
    };
    Ok(Walk {
        position,
        next_offset,
        batches,
        stop,
    })
}
