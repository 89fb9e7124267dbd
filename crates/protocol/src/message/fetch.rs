//! FETCH: read record batches from one partition.
//!
//! ```text
//! request:  str16 stream, u32 partition, u8 from, u64 from_value, u32 max_bytes,
//!           u32 max_wait_ms
//! response: u32 partition, u64 start_offset, u64 end_offset, u64 next_offset,
//!           u32 batches_len, batches (whole record batches, back to back, as stored)
//! ```
//!
//! `from`: 0 = the offset `from_value`, 1 = earliest, 2 = latest, 3 = the first record with a
//! timestamp at or after `from_value` (ms). With `max_wait_ms > 0` and nothing to return yet,
//! the server waits up to that long for new records (long poll). The first batch returned may
//! start before the asked offset (it contains it); consumers skip records below it.

use bytes::{BufMut, Bytes, BytesMut};

use super::reader::{put_str16, PayloadReader};
use super::stream::STREAM_NAME_BYTES_MAX;
use crate::batch::BatchHeader;
use crate::error::PayloadError;

/// Where reading starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OffsetSpec {
    /// This offset.
    Offset(u64),
    /// The first retained offset.
    Earliest,
    /// The next offset to be written (only new records).
    Latest,
    /// The first record at or after this time, ms since the Unix epoch.
    Timestamp(u64),
}

impl OffsetSpec {
    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        let (kind, value) = match *self {
            OffsetSpec::Offset(o) => (0u8, o),
            OffsetSpec::Earliest => (1, 0),
            OffsetSpec::Latest => (2, 0),
            OffsetSpec::Timestamp(t) => (3, t),
        };
        dst.put_u8(kind);
        dst.put_u64_le(value);
    }

    pub(crate) fn decode_from(r: &mut PayloadReader<'_>) -> Result<OffsetSpec, PayloadError> {
        let kind = r.u8("from")?;
        let value = r.u64("from_value")?;
        Ok(match kind {
            0 => OffsetSpec::Offset(value),
            1 => OffsetSpec::Earliest,
            2 => OffsetSpec::Latest,
            3 => OffsetSpec::Timestamp(value),
            v => {
                return Err(PayloadError::InvalidValue {
                    field: "from",
                    value: u64::from(v),
                })
            }
        })
    }
}

/// FETCH request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchRequest {
    /// Stream name.
    pub stream: String,
    /// Partition.
    pub partition: u32,
    /// Where to start.
    pub from: OffsetSpec,
    /// Most bytes of batches to return (at least one batch is returned when available).
    pub max_bytes: u32,
    /// How long to wait for data when there is none; 0 = answer at once.
    pub max_wait_ms: u32,
}

impl FetchRequest {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        put_str16(dst, &self.stream);
        dst.put_u32_le(self.partition);
        self.from.encode(dst);
        dst.put_u32_le(self.max_bytes);
        dst.put_u32_le(self.max_wait_ms);
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<FetchRequest, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let stream = r.str16("stream", STREAM_NAME_BYTES_MAX)?.to_owned();
        let partition = r.u32("partition")?;
        let from = OffsetSpec::decode_from(&mut r)?;
        let max_bytes = r.u32("max_bytes")?;
        let max_wait_ms = r.u32("max_wait_ms")?;
        r.finish()?;
        Ok(FetchRequest {
            stream,
            partition,
            from,
            max_bytes,
            max_wait_ms,
        })
    }
}

/// The fixed part of a FETCH response; the batches follow it in the payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FetchResponseHeader {
    /// Partition.
    pub partition: u32,
    /// First retained offset.
    pub start_offset: u64,
    /// Next offset to be written.
    pub end_offset: u64,
    /// Where the next fetch should start.
    pub next_offset: u64,
    /// Bytes of batches that follow.
    pub batches_len: u32,
}

/// Bytes of [`FetchResponseHeader`] on the wire.
pub const FETCH_RESPONSE_HEADER_LEN: usize = 32;

impl FetchResponseHeader {
    /// Appends the encoded header; the caller sends `batches_len` bytes of batches after it.
    pub fn encode(&self, dst: &mut BytesMut) {
        dst.put_u32_le(self.partition);
        dst.put_u64_le(self.start_offset);
        dst.put_u64_le(self.end_offset);
        dst.put_u64_le(self.next_offset);
        dst.put_u32_le(self.batches_len);
    }
}

/// A decoded FETCH response: the header and the batches, zero-copy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchResponse {
    /// The fixed fields.
    pub header: FetchResponseHeader,
    /// Whole batches, back to back.
    pub batches: Bytes,
}

impl FetchResponse {
    /// Parses a payload; each batch's length is checked, not its contents.
    pub fn decode(payload: &Bytes) -> Result<FetchResponse, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let header = FetchResponseHeader {
            partition: r.u32("partition")?,
            start_offset: r.u64("start_offset")?,
            end_offset: r.u64("end_offset")?,
            next_offset: r.u64("next_offset")?,
            batches_len: r.u32("batches_len")?,
        };
        let start = r.position();
        r.skip(header.batches_len as usize, "batches")?;
        r.finish()?;
        let batches = payload.slice(start..);
        let mut rest = &batches[..];
        while !rest.is_empty() {
            let len = BatchHeader::parse(rest)
                .map_err(|_| PayloadError::InvalidValue {
                    field: "batch",
                    value: rest.len() as u64,
                })?
                .total_len();
            rest = rest
                .get(len..)
                .ok_or(PayloadError::Truncated { field: "batch" })?;
        }
        Ok(FetchResponse { header, batches })
    }

    /// The batches, one `Bytes` each (zero-copy).
    pub fn batches(&self) -> impl Iterator<Item = Bytes> + '_ {
        let mut at = 0usize;
        std::iter::from_fn(move || {
            let rest = self.batches.get(at..)?;
            let len = BatchHeader::parse(rest).ok()?.total_len();
            let batch = self
                .batches
                .slice(at..at.checked_add(len)?.min(self.batches.len()));
            at = at.saturating_add(len);
            Some(batch)
        })
    }
}
