//! Checking a whole batch once, and the two stamps the broker writes outside the checksum.

use std::borrow::Cow;

use crate::codec::decompress;
use crate::error::BatchError;
use crate::header::{
    BatchHeader, Compression, BASE_SEQUENCE_AT, BATCH_HEADER_LEN, CRC_AT, CRC_START,
    FIRST_TIMESTAMP_AT, LEADER_EPOCH_AT, MAX_TIMESTAMP_AT, PRODUCER_EPOCH_AT,
    TIMESTAMP_TYPE_LOG_APPEND,
};
use crate::record::RecordIter;

/// What a batch may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The whole batch, header included, as it came (compressed).
    pub batch_bytes_max: usize,
    /// One record's encoded length.
    pub record_bytes_max: usize,
    /// A compressed batch's records once decompressed.
    pub decompressed_bytes_max: usize,
}

impl Limits {
    /// No limits: for bytes this process wrote itself.
    pub const UNLIMITED: Limits = Limits {
        batch_bytes_max: usize::MAX,
        record_bytes_max: usize::MAX,
        decompressed_bytes_max: usize::MAX,
    };
}

/// Checks a whole batch, exactly `buf`: header, length, checksum, and the structure of every
/// record (decompressing them within the limit), each at most `limits.record_bytes_max`.
/// Copies nothing unless the batch is compressed.
pub fn verify(buf: &[u8], limits: Limits) -> Result<BatchHeader, BatchError> {
    if buf.len() > limits.batch_bytes_max {
        return Err(BatchError::BatchTooLarge {
            len: buf.len(),
            max: limits.batch_bytes_max,
        });
    }
    let header = check_envelope(buf)?;
    let bytes = records(buf, &header, limits.decompressed_bytes_max)?;
    let mut iter = RecordIter::new(&bytes, &header);
    let mut count = 0u32;
    while let Some(record) = iter.next_checked(limits.record_bytes_max)? {
        if record.offset_delta != count {
            return Err(BatchError::MalformedRecord {
                index: count,
                reason: "offset deltas must count up from 0",
            });
        }
        count = count.saturating_add(1);
    }
    if count != header.record_count {
        return Err(BatchError::MalformedRecord {
            index: count,
            reason: "fewer records than the header declares",
        });
    }
    Ok(header)
}

/// Checks a batch's header, length and checksum, not its records: for readers of bytes that
/// were verified when they were appended, and that walk the records anyway with the checking
/// [`RecordIter`].
pub fn check_envelope(buf: &[u8]) -> Result<BatchHeader, BatchError> {
    let header = BatchHeader::parse(buf)?;
    if header.total_len() != buf.len() {
        return Err(BatchError::LengthMismatch {
            declared: header.total_len() as u64,
            actual: buf.len(),
        });
    }
    let computed = crc32c::crc32c(buf.get(CRC_START..).unwrap_or_default());
    if computed != header.crc {
        return Err(BatchError::Checksum {
            stored: header.crc,
            computed,
        });
    }
    Ok(header)
}

/// The record bytes of the batch `buf` (whose header is `header`): borrowed when the batch is
/// not compressed, else decompressed, refusing more than `decompressed_bytes_max` bytes.
pub fn records<'a>(
    buf: &'a [u8],
    header: &BatchHeader,
    decompressed_bytes_max: usize,
) -> Result<Cow<'a, [u8]>, BatchError> {
    let body = buf.get(BATCH_HEADER_LEN..).unwrap_or_default();
    match header.compression() {
        Compression::None => Ok(Cow::Borrowed(body)),
        codec => decompress(codec, body, decompressed_bytes_max).map(Cow::Owned),
    }
}

/// Rewrites a finished batch's producer epoch and base sequence (for a producer that resends a
/// batch under a new epoch) and its checksum, which covers them. Does nothing to a buffer
/// shorter than a header; callers restamp only batches they built.
pub fn restamp_producer(buf: &mut [u8], producer_epoch: i16, base_sequence: i32) {
    if buf.len() < BATCH_HEADER_LEN {
        return;
    }
    put(buf, PRODUCER_EPOCH_AT, &producer_epoch.to_be_bytes());
    put(buf, BASE_SEQUENCE_AT, &base_sequence.to_be_bytes());
    let crc = crc32c::crc32c(buf.get(CRC_START..).unwrap_or_default());
    put(buf, CRC_AT, &crc.to_be_bytes());
}

/// Gives a batch whose producer left its timestamps unset ([`crate::NO_TIMESTAMP`]) the log's
/// append time, as Kafka's `message.timestamp.type=LogAppendTime` does: base and max timestamp
/// `now_ms`, the LogAppendTime attribute bit (consumers then read every record's timestamp as
/// the max timestamp), and the checksum, which covers them. Does nothing to a buffer shorter
/// than a header.
pub fn stamp_append_time(buf: &mut [u8], now_ms: u64) {
    if buf.len() < BATCH_HEADER_LEN {
        return;
    }
    let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
    let attributes = buf
        .get(CRC_START..CRC_START.saturating_add(2))
        .and_then(|a| <[u8; 2]>::try_from(a).ok())
        .map_or(0, u16::from_be_bytes);
    put(
        buf,
        CRC_START,
        &(attributes | TIMESTAMP_TYPE_LOG_APPEND).to_be_bytes(),
    );
    put(buf, FIRST_TIMESTAMP_AT, &now.to_be_bytes());
    put(buf, MAX_TIMESTAMP_AT, &now.to_be_bytes());
    let crc = crc32c::crc32c(buf.get(CRC_START..).unwrap_or_default());
    put(buf, CRC_AT, &crc.to_be_bytes());
}

/// Writes the base offset and partition leader epoch into the batch at the start of `buf`.
/// The checksum covers neither. Does nothing to a buffer shorter than a header; callers stamp
/// only verified batches.
pub fn stamp(buf: &mut [u8], base_offset: u64, leader_epoch: i32) {
    if buf.len() < BATCH_HEADER_LEN {
        return;
    }
    put(buf, 0, &base_offset.to_be_bytes());
    put(buf, LEADER_EPOCH_AT, &leader_epoch.to_be_bytes());
}

fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(dst) = buf.get_mut(at..at.saturating_add(bytes.len())) {
        dst.copy_from_slice(bytes);
    }
}
