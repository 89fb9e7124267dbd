//! Kafka's record batch v2 (magic 2): the one layout records have in the native protocol, in
//! memory, on disk, and in fetch and push responses (and, later, on the Kafka wire).
//!
//! A producer builds a batch ([`BatchBuilder`]); the broker checks it once ([`verify`]:
//! length, checksum, magic, attributes, every record's structure, decompressing within a
//! limit), stamps the base offset and leader epoch ([`stamp`], outside the checksum's range)
//! and stores the bytes as they came, compressed or not; consumers receive those same bytes
//! and read records with [`records`] and [`RecordIter`]. No record is ever re-encoded by the
//! server. This crate does no I/O, so the log can depend on it without the wire protocol.
//!
//! Layout (all integers big-endian; `docs/storage.md` has the byte table and test vectors):
//!
//! ```text
//! offset size field
//!  0     8    base_offset             stamped by the broker; producers send 0
//!  8     4    batch_length            bytes after this field (whole batch - 12)
//! 12     4    partition_leader_epoch  stamped by the broker; producers send -1
//! 16     1    magic                   2
//! 17     4    crc                     CRC32C of bytes 21..end
//! 21     2    attributes              bits 0-2 codec (0 none, 1 gzip, 2 snappy, 3 lz4,
//!                                     4 zstd), bit 3 timestamp type, bits 4-5 (transactional,
//!                                     control) refused
//! 23     4    last_offset_delta       record_count - 1
//! 27     8    base_timestamp          ms since the Unix epoch, of the first record
//! 35     8    max_timestamp
//! 43     8    producer_id             -1 = not idempotent
//! 51     2    producer_epoch
//! 53     4    base_sequence
//! 57     4    record_count            at least 1
//! 61     ...  records, compressed as one block when the codec is not none
//! ```
//!
//! Each record: `varint length` (of the rest of the record), `i8 attributes` (unused),
//! `varlong timestamp_delta` (from the base timestamp), `varint offset_delta`, `varint
//! key_length` (-1 = null) and the key, `varint value_length` (-1 = null) and the value,
//! `varint header_count`, then per header `varint name_length`, name (UTF-8), `varint
//! value_length` (-1 = null), value. Varints are zig-zag LEB128 (5 bytes at most, 10 for a
//! varlong).

#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod builder;
mod codec;
mod error;
mod header;
mod record;
mod varint;
mod verify;

pub use builder::BatchBuilder;
pub use codec::{compress, decompress};
pub use error::BatchError;
pub use header::{
    sequence_after, BatchHeader, Compression, BATCH_HEADER_LEN, LOG_OVERHEAD, MAGIC,
    NO_LEADER_EPOCH, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE, NO_TIMESTAMP,
    TIMESTAMP_TYPE_LOG_APPEND,
};
pub use record::{Record, RecordHeader, RecordIter};
pub use verify::{
    check_envelope, records, restamp_producer, stamp, stamp_append_time, verify, Limits,
};
