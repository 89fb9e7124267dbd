//! The batch header, checking a whole batch, and stamping its base offset.

use super::record::RecordIter;
use crate::error::ErrorCode;

/// Length of the fixed batch header.
pub const BATCH_HEADER_LEN: usize = 58;
/// The batch format this crate reads and writes.
pub const BATCH_FORMAT: u8 = 1;
/// The checksum covers bytes from here to the end of the batch.
pub(crate) const CRC_START: usize = 16;

/// The parsed fixed header of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchHeader {
    /// Offset of the first record; stamped by the broker.
    pub base_offset: u64,
    /// Whole batch length in bytes, header included.
    pub batch_len: u32,
    /// CRC32C of bytes 16..batch_len.
    pub crc: u32,
    /// Attribute bits (compression codec in bits 0-2).
    pub attributes: u16,
    /// `record_count - 1`.
    pub last_offset_delta: u32,
    /// Records in the batch, at least 1.
    pub record_count: u32,
    /// Timestamp of the first record, ms since the Unix epoch.
    pub first_timestamp_ms: u64,
    /// Largest record timestamp, ms since the Unix epoch.
    pub max_timestamp_ms: u64,
    /// Idempotent producer id; 0 when the producer is not idempotent.
    pub producer_id: u64,
    /// Producer epoch.
    pub producer_epoch: u16,
    /// Sequence number of the first record.
    pub base_sequence: u32,
}

/// Why a batch was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// Fewer bytes than a header, or than the declared length.
    #[error("batch truncated: {len} bytes, {needed} needed")]
    Truncated {
        /// Bytes present.
        len: usize,
        /// Bytes the header says the batch has.
        needed: usize,
    },
    /// The declared length is smaller than a header or disagrees with the bytes given.
    #[error("batch length {declared} does not match the {actual} bytes given")]
    LengthMismatch {
        /// Declared in the header.
        declared: u32,
        /// Bytes given.
        actual: usize,
    },
    /// The checksum does not match.
    #[error("batch checksum mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Checksum {
        /// In the header.
        stored: u32,
        /// Of the bytes.
        computed: u32,
    },
    /// Unknown batch format version.
    #[error("unsupported batch format {found}")]
    UnsupportedFormat {
        /// The format byte.
        found: u8,
    },
    /// Reserved header bits or bytes are set, or the codec is unknown.
    #[error("unsupported batch attributes {attributes:#06x}")]
    UnsupportedAttributes {
        /// The attributes field.
        attributes: u16,
    },
    /// The header's counts are inconsistent or zero.
    #[error("record count {record_count} with last offset delta {last_offset_delta}")]
    BadCount {
        /// Declared record count.
        record_count: u32,
        /// Declared last offset delta.
        last_offset_delta: u32,
    },
    /// A record does not parse.
    #[error("record {index}: {reason}")]
    MalformedRecord {
        /// Position of the record in the batch.
        index: u32,
        /// What is wrong.
        reason: &'static str,
    },
    /// A record is larger than allowed.
    #[error("record {index} is {len} bytes, the limit is {max}")]
    RecordTooLarge {
        /// Position of the record in the batch.
        index: u32,
        /// Its encoded length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

impl BatchError {
    /// The wire code reported to the producer.
    pub fn code(&self) -> ErrorCode {
        match self {
            BatchError::Checksum { .. } => ErrorCode::BatchChecksum,
            BatchError::RecordTooLarge { .. } => ErrorCode::MessageTooLarge,
            _ => ErrorCode::InvalidBatch,
        }
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(v)
}

impl BatchHeader {
    /// Parses the fixed header at the start of `buf` and checks what the header alone can
    /// tell: format, reserved bits, counts, and that `batch_len` is at least a header. It does
    /// not check the checksum or that `buf` holds the whole batch.
    pub fn parse(buf: &[u8]) -> Result<BatchHeader, BatchError> {
        let Some(h) = buf.get(..BATCH_HEADER_LEN) else {
            return Err(BatchError::Truncated {
                len: buf.len(),
                needed: BATCH_HEADER_LEN,
            });
        };
        let header = BatchHeader {
            base_offset: u64_at(h, 0),
            batch_len: u32_at(h, 8),
            crc: u32_at(h, 12),
            attributes: u16_at(h, 18),
            last_offset_delta: u32_at(h, 20),
            record_count: u32_at(h, 24),
            first_timestamp_ms: u64_at(h, 28),
            max_timestamp_ms: u64_at(h, 36),
            producer_id: u64_at(h, 44),
            producer_epoch: u16_at(h, 52),
            base_sequence: u32_at(h, 54),
        };
        if h[16] != BATCH_FORMAT {
            return Err(BatchError::UnsupportedFormat { found: h[16] });
        }
        // Bits 0-2 name the compression codec and only 0 (none) exists so far; every other
        // attribute bit and the reserved byte must be zero.
        if h[17] != 0 || header.attributes != 0 {
            return Err(BatchError::UnsupportedAttributes {
                attributes: header.attributes,
            });
        }
        if (header.batch_len as usize) < BATCH_HEADER_LEN {
            return Err(BatchError::LengthMismatch {
                declared: header.batch_len,
                actual: buf.len(),
            });
        }
        if header.record_count == 0 || header.last_offset_delta != header.record_count - 1 {
            return Err(BatchError::BadCount {
                record_count: header.record_count,
                last_offset_delta: header.last_offset_delta,
            });
        }
        Ok(header)
    }

    /// Offset of the last record.
    pub fn last_offset(&self) -> u64 {
        self.base_offset + u64::from(self.last_offset_delta)
    }

    /// The offset after this batch.
    pub fn next_offset(&self) -> u64 {
        self.last_offset() + 1
    }
}

/// Checks a whole batch, exactly `buf`: header, length, checksum and the structure of every
/// record, each at most `max_record_bytes`. Reads every byte once; copies nothing.
pub fn verify(buf: &[u8], max_record_bytes: usize) -> Result<BatchHeader, BatchError> {
    let header = check_envelope(buf)?;
    let mut records = RecordIter::new(&buf[BATCH_HEADER_LEN..], &header);
    let mut count = 0u32;
    while let Some(record) = records.next_checked(max_record_bytes)? {
        if record.offset_delta != count {
            return Err(BatchError::MalformedRecord {
                index: count,
                reason: "offset deltas must count up from 0",
            });
        }
        count += 1;
    }
    if count != header.record_count {
        return Err(BatchError::MalformedRecord {
            index: count,
            reason: "fewer records than the header declares",
        });
    }
    Ok(header)
}

/// Checks a batch's header, length and checksum, not its records: for readers that walk the
/// records anyway with the (checking) [`RecordIter`], so the bytes are parsed once.
pub fn check_envelope(buf: &[u8]) -> Result<BatchHeader, BatchError> {
    let header = BatchHeader::parse(buf)?;
    if header.batch_len as usize != buf.len() {
        return Err(BatchError::LengthMismatch {
            declared: header.batch_len,
            actual: buf.len(),
        });
    }
    let computed = crc32c::crc32c(&buf[CRC_START..]);
    if computed != header.crc {
        return Err(BatchError::Checksum {
            stored: header.crc,
            computed,
        });
    }
    Ok(header)
}

/// Rewrites a finished batch's producer epoch and base sequence (for a producer that resends a
/// batch under a new epoch) and its checksum, which covers them.
///
/// # Panics
/// If `buf` is shorter than a batch header; callers restamp only batches they built.
pub fn restamp_producer(buf: &mut [u8], producer_epoch: u16, base_sequence: u32) {
    buf[52..54].copy_from_slice(&producer_epoch.to_le_bytes());
    buf[54..58].copy_from_slice(&base_sequence.to_le_bytes());
    let crc = crc32c::crc32c(&buf[CRC_START..]);
    buf[12..16].copy_from_slice(&crc.to_le_bytes());
}

/// Writes `base_offset` into the batch at the start of `buf`. The checksum does not cover it.
///
/// # Panics
/// If `buf` is shorter than 8 bytes; callers stamp only verified batches.
pub fn stamp_base_offset(buf: &mut [u8], base_offset: u64) {
    buf[..8].copy_from_slice(&base_offset.to_le_bytes());
}
