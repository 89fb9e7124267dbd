//! Why a batch was refused.

use crate::header::Compression;

/// Why a batch was refused. Every variant names what was wrong, so a front-end can map it to
/// its own error code and a message a user can act on.
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
        /// Whole length the header declares (batch length + 12).
        declared: u64,
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
    /// Not a magic-2 record batch.
    #[error("unsupported record batch magic {found} (only magic 2 is supported)")]
    UnsupportedMagic {
        /// The magic byte.
        found: i8,
    },
    /// Transactional or control batches, or an unknown codec.
    #[error("unsupported batch attributes {attributes:#06x}: {reason}")]
    UnsupportedAttributes {
        /// The attributes field.
        attributes: u16,
        /// What is not supported.
        reason: &'static str,
    },
    /// The header's counts are inconsistent or zero.
    #[error("record count {record_count} with last offset delta {last_offset_delta}")]
    BadCount {
        /// Declared record count.
        record_count: i32,
        /// Declared last offset delta.
        last_offset_delta: i32,
    },
    /// The header's base timestamp is negative.
    #[error("negative batch timestamp {timestamp_ms}")]
    NegativeTimestamp {
        /// The timestamp found.
        timestamp_ms: i64,
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
    /// The whole batch is larger than allowed.
    #[error("batch is {len} bytes, the limit is {max}")]
    BatchTooLarge {
        /// The batch's length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Compressed records do not decompress.
    #[error("{codec} records do not decompress: {reason}")]
    Decompress {
        /// The batch's codec.
        codec: Compression,
        /// What the decoder reported.
        reason: String,
    },
    /// Compressed records decompress to more than allowed.
    #[error("{codec} records decompress to more than {max} bytes")]
    DecompressedTooLarge {
        /// The batch's codec.
        codec: Compression,
        /// The limit.
        max: usize,
    },
}
