//! Building a batch on the producer side.
//!
//! This module encodes the caller's own records, never untrusted bytes: its lengths are
//! bounded by the memory holding those records, and `finish` works on a buffer it sized
//! itself, so the untrusted-input lints are lifted here.
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::compress;
use crate::header::{
    Compression, BATCH_HEADER_LEN, CRC_START, LOG_OVERHEAD, MAGIC, NO_LEADER_EPOCH,
};
use crate::varint::{len_len, put_varlong, varlong_len};

/// Accumulates records and produces one encoded, checksummed batch, compressed with the
/// builder's codec.
#[derive(Debug)]
pub struct BatchBuilder {
    buf: BytesMut,
    codec: Compression,
    count: u32,
    first_timestamp_ms: u64,
    max_timestamp_ms: u64,
}

impl Default for BatchBuilder {
    fn default() -> Self {
        BatchBuilder::with_capacity(1024)
    }
}

impl BatchBuilder {
    /// An empty, uncompressed builder whose buffer starts with room for `bytes`.
    pub fn with_capacity(bytes: usize) -> BatchBuilder {
        BatchBuilder::compressed(Compression::None, bytes)
    }

    /// An empty builder whose records `finish` compresses with `codec`.
    pub fn compressed(codec: Compression, bytes: usize) -> BatchBuilder {
        let mut buf = BytesMut::with_capacity(bytes.max(BATCH_HEADER_LEN));
        buf.put_bytes(0, BATCH_HEADER_LEN);
        BatchBuilder {
            buf,
            codec,
            count: 0,
            first_timestamp_ms: 0,
            max_timestamp_ms: 0,
        }
    }

    /// Records pushed so far.
    pub fn record_count(&self) -> u32 {
        self.count
    }

    /// Encoded size of the batch so far before compression, header included: an upper bound
    /// of the finished size for every codec but a pathological one.
    pub fn encoded_len(&self) -> usize {
        self.buf.len()
    }

    /// Bytes `push` would add for this record.
    pub fn record_len(
        timestamp_delta: i64,
        offset_delta: u32,
        key: Option<&[u8]>,
        value: &[u8],
        headers: &[(&str, &[u8])],
    ) -> usize {
        let body = body_len(timestamp_delta, offset_delta, key, value, headers);
        len_len(body) + body
    }

    /// Bytes the next [`push`](Self::push) of this record would add before compression,
    /// exactly (the record's timestamp is stored as a delta from the batch's first).
    pub fn next_record_len(
        &self,
        timestamp_ms: u64,
        key: Option<&[u8]>,
        value: &[u8],
        headers: &[(&str, &[u8])],
    ) -> usize {
        let first = if self.count == 0 {
            timestamp_ms
        } else {
            self.first_timestamp_ms
        };
        let delta = timestamp_ms.wrapping_sub(first) as i64;
        BatchBuilder::record_len(delta, self.count, key, value, headers)
    }

    /// Appends a record.
    pub fn push(
        &mut self,
        timestamp_ms: u64,
        key: Option<&[u8]>,
        value: &[u8],
        headers: &[(&str, &[u8])],
    ) {
        if self.count == 0 {
            self.first_timestamp_ms = timestamp_ms;
        }
        self.max_timestamp_ms = self.max_timestamp_ms.max(timestamp_ms);
        let delta = timestamp_ms.wrapping_sub(self.first_timestamp_ms) as i64;
        let offset_delta = self.count;
        let body = body_len(delta, offset_delta, key, value, headers);
        let b = &mut self.buf;
        b.reserve(len_len(body) + body);
        put_len(b, body);
        b.put_u8(0);
        put_varlong(b, delta);
        put_varlong(b, i64::from(offset_delta));
        match key {
            None => put_varlong(b, -1),
            Some(k) => {
                put_len(b, k.len());
                b.put_slice(k);
            }
        }
        put_len(b, value.len());
        b.put_slice(value);
        put_len(b, headers.len());
        for (name, v) in headers {
            put_len(b, name.len());
            b.put_slice(name.as_bytes());
            put_len(b, v.len());
            b.put_slice(v);
        }
        self.count += 1;
    }

    /// Compresses the records, fills in the header and checksum, and returns the batch. Use
    /// [`NO_PRODUCER_ID`](crate::NO_PRODUCER_ID) and -1, -1 for a producer that is not
    /// idempotent. The leader epoch is -1 until the broker stamps it.
    ///
    /// # Panics
    /// If no record was pushed, or the batch exceeds 2 GiB.
    pub fn finish(self, producer_id: i64, producer_epoch: i16, base_sequence: i32) -> Bytes {
        assert!(self.count > 0, "a batch holds at least one record");
        let mut buf = match self.codec {
            Compression::None => self.buf,
            codec => {
                let packed = compress(codec, &self.buf[BATCH_HEADER_LEN..]);
                let mut out = BytesMut::with_capacity(BATCH_HEADER_LEN + packed.len());
                out.put_bytes(0, BATCH_HEADER_LEN);
                out.put_slice(&packed);
                out
            }
        };
        let batch_length = i32::try_from(buf.len() - LOG_OVERHEAD).expect("a batch is under 2 GiB");
        let mut h = &mut buf[..BATCH_HEADER_LEN];
        h.put_u64(0);
        h.put_i32(batch_length);
        h.put_i32(NO_LEADER_EPOCH);
        h.put_i8(MAGIC);
        h.put_u32(0); // the checksum, below
        h.put_u16(self.codec.bits());
        h.put_u32(self.count - 1);
        h.put_u64(self.first_timestamp_ms);
        h.put_u64(self.max_timestamp_ms);
        h.put_i64(producer_id);
        h.put_i16(producer_epoch);
        h.put_i32(base_sequence);
        h.put_u32(self.count);
        let crc = crc32c::crc32c(&buf[CRC_START..]);
        buf[CRC_START - 4..CRC_START].copy_from_slice(&crc.to_be_bytes());
        buf.freeze()
    }
}

fn put_len(b: &mut BytesMut, len: usize) {
    put_varlong(b, i64::try_from(len).unwrap_or(i64::MAX));
}

fn body_len(
    timestamp_delta: i64,
    offset_delta: u32,
    key: Option<&[u8]>,
    value: &[u8],
    headers: &[(&str, &[u8])],
) -> usize {
    let key_len = key.map_or(1, |k| len_len(k.len()) + k.len());
    let headers_len: usize = headers
        .iter()
        .map(|(n, v)| len_len(n.len()) + n.len() + len_len(v.len()) + v.len())
        .sum();
    1 + varlong_len(timestamp_delta)
        + varlong_len(i64::from(offset_delta))
        + key_len
        + len_len(value.len())
        + value.len()
        + len_len(headers.len())
        + headers_len
}
