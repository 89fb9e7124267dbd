//! Record batches: the one layout records have on the wire, in memory, on disk and in fetch
//! and push responses.
//!
//! A producer builds a batch ([`BatchBuilder`]); the broker checks it once
//! ([`verify`]: length, checksum, format, every record's structure), stamps the base offset
//! ([`stamp_base_offset`], outside the checksum's range) and stores the bytes as they came;
//! consumers receive those same bytes and read records with [`RecordIter`]. No record is ever
//! re-encoded by the server.
//!
//! Layout (all integers little-endian; `docs/storage.md` has the byte table and a test vector):
//!
//! ```text
//! offset size field
//!  0     8    base_offset        stamped by the broker; producers send 0
//!  8     4    batch_len          whole batch in bytes, header included
//! 12     4    crc                CRC32C of bytes 16..batch_len
//! 16     1    format             1
//! 17     1    reserved           0
//! 18     2    attributes         bits 0-2 compression codec (0 = none); other bits 0
//! 20     4    last_offset_delta  record_count - 1
//! 24     4    record_count       at least 1
//! 28     8    first_timestamp_ms
//! 36     8    max_timestamp_ms
//! 44     8    producer_id        0 = not idempotent
//! 52     2    producer_epoch
//! 54     4    base_sequence      sequence number of the first record
//! 58     ...  records
//! ```
//!
//! Each record: `varint length` (of the rest of the record), `u8 attributes` (0),
//! `zigzag varint timestamp_delta` (from `first_timestamp_ms`), `varint offset_delta`,
//! `varint key_len_plus_one` (0 = no key) and the key, `varint value_len` and the value,
//! `varint header_count`, then per header `varint name_len`, name (UTF-8), `varint value_len`,
//! value. Varints are unsigned LEB128, at most 10 bytes.

mod builder;
mod header;
mod record;
mod varint;

pub use builder::BatchBuilder;
pub use header::{
    check_envelope, restamp_producer, stamp_base_offset, verify, BatchError, BatchHeader,
    BATCH_FORMAT, BATCH_HEADER_LEN,
};
pub use record::{Record, RecordHeader, RecordIter};
