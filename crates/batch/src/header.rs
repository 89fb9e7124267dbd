//! The fixed 61-byte header of a record batch and its fields.

use std::fmt;
use std::str::FromStr;

use crate::error::BatchError;

/// Length of the fixed batch header.
pub const BATCH_HEADER_LEN: usize = 61;
/// Bytes before the batch length field's count starts: base offset (8) and the length (4).
pub const LOG_OVERHEAD: usize = 12;
/// The record batch format (Kafka's "magic") this crate reads and writes.
pub const MAGIC: i8 = 2;
/// Producer id of a batch from a producer that is not idempotent.
pub const NO_PRODUCER_ID: i64 = -1;
/// Producer epoch of a batch from a producer that is not idempotent.
pub const NO_PRODUCER_EPOCH: i16 = -1;
/// Base sequence of a batch from a producer that is not idempotent.
pub const NO_SEQUENCE: i32 = -1;
/// Leader epoch of a batch no leader has stamped yet.
pub const NO_LEADER_EPOCH: i32 = -1;
/// A batch timestamp a producer leaves unset (Kafka's `RecordBatch.NO_TIMESTAMP`); the log
/// stamps such a batch with its append time ([`crate::stamp_append_time`]).
pub const NO_TIMESTAMP: i64 = -1;

/// The checksum covers bytes from here (the attributes) to the end of the batch.
pub(crate) const CRC_START: usize = 21;
pub(crate) const LEADER_EPOCH_AT: usize = 12;
pub(crate) const MAGIC_AT: usize = 16;
pub(crate) const CRC_AT: usize = 17;
pub(crate) const PRODUCER_EPOCH_AT: usize = 51;
pub(crate) const BASE_SEQUENCE_AT: usize = 53;
pub(crate) const FIRST_TIMESTAMP_AT: usize = 27;
pub(crate) const MAX_TIMESTAMP_AT: usize = 35;

/// Attribute bits 0-2: the compression codec.
const CODEC_MASK: u16 = 0x07;
/// Attribute bit 3: timestamps are log-append times (else create times).
pub const TIMESTAMP_TYPE_LOG_APPEND: u16 = 0x08;
/// Attribute bit 4: the batch is part of a transaction.
const TRANSACTIONAL: u16 = 0x10;
/// Attribute bit 5: a control batch (transaction markers).
const CONTROL: u16 = 0x20;
/// Attribute bit 6: the batch has a delete horizon (compacted topics).
const DELETE_HORIZON: u16 = 0x40;

/// A batch's compression codec, attributes bits 0-2.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Compression {
    /// Records stored as they are.
    #[default]
    None,
    /// Gzip (RFC 1952).
    Gzip,
    /// Snappy, in the xerial framing Java clients write or raw as librdkafka writes.
    Snappy,
    /// An LZ4 frame.
    Lz4,
    /// A Zstandard frame.
    Zstd,
}

impl Compression {
    /// Every codec, in attribute order.
    pub const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    /// The codec for attribute bits 0-2, if it is one.
    pub fn from_bits(bits: u16) -> Option<Compression> {
        Compression::ALL
            .get(usize::from(bits & CODEC_MASK))
            .copied()
    }

    /// The attribute bits that name this codec.
    pub fn bits(self) -> u16 {
        self as u16
    }

    /// The name used in configuration and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Compression {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Compression::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| {
                format!("unknown compression {s:?}: expected none, gzip, snappy, lz4 or zstd")
            })
    }
}

/// The parsed fixed header of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchHeader {
    /// Offset of the first record; stamped by the broker.
    pub base_offset: u64,
    /// Kafka's `batchLength`: bytes after this field, so the whole batch is this plus 12.
    pub batch_length: u32,
    /// Stamped by the broker with its leader epoch; producers send -1.
    pub partition_leader_epoch: i32,
    /// CRC32C of bytes 21 (attributes) to the end.
    pub crc: u32,
    /// Attribute bits: codec in bits 0-2, timestamp type in bit 3.
    pub attributes: u16,
    /// `record_count - 1`.
    pub last_offset_delta: u32,
    /// Timestamp of the first record (Kafka's `baseTimestamp`), ms since the Unix epoch.
    pub first_timestamp_ms: u64,
    /// Largest record timestamp, ms since the Unix epoch.
    pub max_timestamp_ms: u64,
    /// Idempotent producer id; [`NO_PRODUCER_ID`] (-1) when the producer is not idempotent.
    pub producer_id: i64,
    /// Producer epoch.
    pub producer_epoch: i16,
    /// Sequence number of the first record.
    pub base_sequence: i32,
    /// Records in the batch, at least 1.
    pub record_count: u32,
    /// The producer left the base or the max timestamp unset ([`NO_TIMESTAMP`]); the
    /// timestamp fields read 0 then, until the log stamps the batch with its append time.
    pub timestamps_missing: bool,
}

fn be<const N: usize>(h: &[u8; BATCH_HEADER_LEN], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = h.get(at..at.saturating_add(N)) {
        out.copy_from_slice(src);
    }
    out
}

impl BatchHeader {
    /// Parses the fixed header at the start of `buf` and checks what the header alone can
    /// tell: magic, attributes, counts, timestamps, and that the length covers a header. It
    /// does not check the checksum or that `buf` holds the whole batch.
    pub fn parse(buf: &[u8]) -> Result<BatchHeader, BatchError> {
        let Some(h) = buf
            .get(..BATCH_HEADER_LEN)
            .and_then(|h| <&[u8; BATCH_HEADER_LEN]>::try_from(h).ok())
        else {
            return Err(BatchError::Truncated {
                len: buf.len(),
                needed: BATCH_HEADER_LEN,
            });
        };
        let magic = i8::from_be_bytes(be(h, MAGIC_AT));
        if magic != MAGIC {
            return Err(BatchError::UnsupportedMagic { found: magic });
        }
        let base_offset = i64::from_be_bytes(be(h, 0));
        let batch_length = i32::from_be_bytes(be(h, 8));
        let attributes = u16::from_be_bytes(be(h, CRC_START));
        let last_offset_delta = i32::from_be_bytes(be(h, 23));
        let first_timestamp = i64::from_be_bytes(be(h, FIRST_TIMESTAMP_AT));
        let max_timestamp = i64::from_be_bytes(be(h, MAX_TIMESTAMP_AT));
        let record_count = i32::from_be_bytes(be(h, 57));
        let declared = i64::from(batch_length).saturating_add(LOG_OVERHEAD as i64);
        if declared < BATCH_HEADER_LEN as i64 || base_offset < 0 {
            return Err(BatchError::LengthMismatch {
                declared: declared.max(0) as u64,
                actual: buf.len(),
            });
        }
        let unsupported = |reason| BatchError::UnsupportedAttributes { attributes, reason };
        if Compression::from_bits(attributes).is_none() {
            return Err(unsupported("unknown compression codec"));
        }
        if attributes & (TRANSACTIONAL | CONTROL) != 0 {
            return Err(unsupported(
                "transactional and control batches are not supported",
            ));
        }
        if attributes & !(CODEC_MASK | TIMESTAMP_TYPE_LOG_APPEND | DELETE_HORIZON) != 0 {
            return Err(unsupported("reserved attribute bits are set"));
        }
        if record_count < 1
            || i64::from(last_offset_delta) != i64::from(record_count).saturating_sub(1)
        {
            return Err(BatchError::BadCount {
                record_count,
                last_offset_delta,
            });
        }
        for timestamp_ms in [first_timestamp, max_timestamp] {
            if timestamp_ms < 0 && timestamp_ms != NO_TIMESTAMP {
                return Err(BatchError::NegativeTimestamp { timestamp_ms });
            }
        }
        Ok(BatchHeader {
            base_offset: base_offset as u64,
            batch_length: batch_length as u32,
            partition_leader_epoch: i32::from_be_bytes(be(h, LEADER_EPOCH_AT)),
            crc: u32::from_be_bytes(be(h, CRC_AT)),
            attributes,
            last_offset_delta: last_offset_delta as u32,
            first_timestamp_ms: first_timestamp.max(0) as u64,
            max_timestamp_ms: max_timestamp.max(0) as u64,
            producer_id: i64::from_be_bytes(be(h, 43)),
            producer_epoch: i16::from_be_bytes(be(h, PRODUCER_EPOCH_AT)),
            base_sequence: i32::from_be_bytes(be(h, BASE_SEQUENCE_AT)),
            record_count: record_count as u32,
            timestamps_missing: first_timestamp == NO_TIMESTAMP || max_timestamp == NO_TIMESTAMP,
        })
    }

    /// The whole batch's length in bytes, header included (`batch_length + 12`).
    pub fn total_len(&self) -> usize {
        (self.batch_length as usize).saturating_add(LOG_OVERHEAD)
    }

    /// The batch's codec.
    pub fn compression(&self) -> Compression {
        // `parse` refused unknown codecs.
        Compression::from_bits(self.attributes).unwrap_or_default()
    }

    /// Whether the batch comes from an idempotent producer (producer id at least 0).
    pub fn is_idempotent(&self) -> bool {
        self.producer_id >= 0
    }

    /// Sequence number of the last record, wrapping as Kafka's do.
    pub fn last_sequence(&self) -> i32 {
        sequence_after(self.base_sequence, self.last_offset_delta)
    }

    /// Offset of the last record.
    pub fn last_offset(&self) -> u64 {
        self.base_offset
            .saturating_add(u64::from(self.last_offset_delta))
    }

    /// The offset after this batch.
    pub fn next_offset(&self) -> u64 {
        self.last_offset().saturating_add(1)
    }
}

/// The sequence number `n` records after `sequence`: Kafka's sequences wrap from `i32::MAX`
/// to 0.
pub fn sequence_after(sequence: i32, n: u32) -> i32 {
    // Both terms are below 2^32, so the sum cannot overflow an i64, and the divisor is 2^31.
    let sum = i64::from(sequence.max(0)).saturating_add(i64::from(n));
    sum.rem_euclid(1 << 31) as i32
}
