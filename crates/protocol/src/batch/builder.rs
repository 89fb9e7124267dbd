//! Building a batch on the producer side.

use bytes::{BufMut, Bytes, BytesMut};

use super::header::{BATCH_FORMAT, BATCH_HEADER_LEN, CRC_START};
use super::varint::{put_uvarint, uvarint_len, zigzag};

/// Accumulates records and produces one encoded, checksummed batch.
#[derive(Debug)]
pub struct BatchBuilder {
    buf: BytesMut,
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
    /// An empty builder whose buffer starts with room for `bytes`.
    pub fn with_capacity(bytes: usize) -> BatchBuilder {
        let mut buf = BytesMut::with_capacity(bytes.max(BATCH_HEADER_LEN));
        buf.put_bytes(0, BATCH_HEADER_LEN);
        BatchBuilder {
            buf,
            count: 0,
            first_timestamp_ms: 0,
            max_timestamp_ms: 0,
        }
    }

    /// Records pushed so far.
    pub fn record_count(&self) -> u32 {
        self.count
    }

    /// Encoded size of the batch so far, header included.
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
        uvarint_len(body as u64) + body
    }

    /// Bytes the next [`push`](Self::push) of this record would add, exactly (the record's
    /// timestamp is stored as a delta from the batch's first).
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
        self.buf.reserve(uvarint_len(body as u64) + body);
        put_uvarint(&mut self.buf, body as u64);
        self.buf.put_u8(0);
        put_uvarint(&mut self.buf, zigzag(delta));
        put_uvarint(&mut self.buf, u64::from(offset_delta));
        match key {
            None => put_uvarint(&mut self.buf, 0),
            Some(k) => {
                put_uvarint(&mut self.buf, k.len() as u64 + 1);
                self.buf.put_slice(k);
            }
        }
        put_uvarint(&mut self.buf, value.len() as u64);
        self.buf.put_slice(value);
        put_uvarint(&mut self.buf, headers.len() as u64);
        for (name, v) in headers {
            put_uvarint(&mut self.buf, name.len() as u64);
            self.buf.put_slice(name.as_bytes());
            put_uvarint(&mut self.buf, v.len() as u64);
            self.buf.put_slice(v);
        }
        self.count += 1;
    }

    /// Fills in the header and checksum and returns the batch.
    ///
    /// # Panics
    /// If no record was pushed, or the batch exceeds 4 GiB.
    pub fn finish(self, producer_id: u64, producer_epoch: u16, base_sequence: u32) -> Bytes {
        assert!(self.count > 0, "a batch holds at least one record");
        let mut buf = self.buf;
        let batch_len = u32::try_from(buf.len()).expect("batch under 4 GiB");
        let h = &mut buf[..BATCH_HEADER_LEN];
        h[0..8].copy_from_slice(&0u64.to_le_bytes());
        h[8..12].copy_from_slice(&batch_len.to_le_bytes());
        h[16] = BATCH_FORMAT;
        h[17] = 0;
        h[18..20].copy_from_slice(&0u16.to_le_bytes());
        h[20..24].copy_from_slice(&(self.count - 1).to_le_bytes());
        h[24..28].copy_from_slice(&self.count.to_le_bytes());
        h[28..36].copy_from_slice(&self.first_timestamp_ms.to_le_bytes());
        h[36..44].copy_from_slice(&self.max_timestamp_ms.to_le_bytes());
        h[44..52].copy_from_slice(&producer_id.to_le_bytes());
        h[52..54].copy_from_slice(&producer_epoch.to_le_bytes());
        h[54..58].copy_from_slice(&base_sequence.to_le_bytes());
        let crc = crc32c::crc32c(&buf[CRC_START..]);
        buf[12..16].copy_from_slice(&crc.to_le_bytes());
        buf.freeze()
    }
}

fn body_len(
    timestamp_delta: i64,
    offset_delta: u32,
    key: Option<&[u8]>,
    value: &[u8],
    headers: &[(&str, &[u8])],
) -> usize {
    let key_len = key.map_or(1, |k| uvarint_len(k.len() as u64 + 1) + k.len());
    let headers_len: usize = headers
        .iter()
        .map(|(n, v)| uvarint_len(n.len() as u64) + n.len() + uvarint_len(v.len() as u64) + v.len())
        .sum();
    1 + uvarint_len(zigzag(timestamp_delta))
        + uvarint_len(u64::from(offset_delta))
        + key_len
        + uvarint_len(value.len() as u64)
        + value.len()
        + uvarint_len(headers.len() as u64)
        + headers_len
}

#[cfg(test)]
mod tests {
    use super::super::{stamp_base_offset, verify, BatchError, BatchHeader, RecordIter};
    use super::*;

    #[test]
    fn next_record_len_is_what_push_adds() {
        let mut b = BatchBuilder::default();
        for (ts, key, value) in [
            (1_000u64, None, &b"a"[..]),
            (1_300, Some(&b"key"[..]), &[7u8; 300][..]),
            (900, None, &b""[..]),
        ] {
            let before = b.encoded_len();
            let predicted = b.next_record_len(ts, key, value, &[("h", b"v")]);
            b.push(ts, key, value, &[("h", b"v")]);
            assert_eq!(b.encoded_len() - before, predicted);
        }
    }

    #[test]
    fn restamped_batches_verify_with_the_new_producer_fields() {
        let mut b = BatchBuilder::default();
        b.push(5, None, b"value", &[]);
        b.push(9, Some(b"k"), b"other", &[("h", b"v")]);
        let mut buf = b.finish(77, 1, 40).to_vec();
        crate::batch::restamp_producer(&mut buf, 2, 3);
        let h = crate::batch::verify(&buf, usize::MAX).expect("still a valid batch");
        assert_eq!(
            (h.producer_id, h.producer_epoch, h.base_sequence),
            (77, 2, 3)
        );
        assert_eq!(h.record_count, 2);
    }

    fn sample() -> Bytes {
        let mut b = BatchBuilder::default();
        b.push(1_000, Some(b"k1"), b"hello", &[("trace", b"abc")]);
        b.push(999, None, b"", &[]);
        b.push(1_005, Some(b""), b"world", &[("a", b""), ("b", b"1")]);
        b.finish(7, 1, 42)
    }

    #[test]
    fn build_verify_read_back() {
        let batch = sample();
        let h = verify(&batch, 1 << 20).unwrap();
        assert_eq!((h.record_count, h.last_offset_delta), (3, 2));
        assert_eq!((h.first_timestamp_ms, h.max_timestamp_ms), (1_000, 1_005));
        assert_eq!(
            (h.producer_id, h.producer_epoch, h.base_sequence),
            (7, 1, 42)
        );
        let records: Vec<_> = RecordIter::new(&batch[BATCH_HEADER_LEN..], &h)
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].key, Some(&b"k1"[..]));
        assert_eq!(records[0].value, b"hello");
        let hs: Vec<_> = records[0].headers().map(|h| (h.name, h.value)).collect();
        assert_eq!(hs, [("trace", &b"abc"[..])]);
        assert_eq!((records[1].key, records[1].timestamp_ms), (None, 999));
        assert_eq!(records[2].key, Some(&b""[..]));
        assert_eq!(records[2].headers().count(), 2);
    }

    #[test]
    fn stamping_the_offset_keeps_the_checksum_valid() {
        let mut batch = sample().to_vec();
        stamp_base_offset(&mut batch, 1 << 40);
        let h = verify(&batch, 1 << 20).unwrap();
        assert_eq!(h.base_offset, 1 << 40);
        assert_eq!(h.next_offset(), (1 << 40) + 3);
    }

    #[test]
    fn every_flipped_byte_after_the_offset_is_caught() {
        let good = sample();
        for i in 8..good.len() {
            let mut bad = good.to_vec();
            bad[i] ^= 0x20;
            assert!(verify(&bad, 1 << 20).is_err(), "flip at {i} went unnoticed");
        }
    }

    #[test]
    fn every_truncation_is_refused() {
        let good = sample();
        for cut in 0..good.len() {
            assert!(verify(&good[..cut], 1 << 20).is_err());
        }
        assert!(matches!(
            BatchHeader::parse(&good[..10]),
            Err(BatchError::Truncated { .. })
        ));
    }

    #[test]
    fn records_over_the_limit_are_refused() {
        let mut b = BatchBuilder::default();
        b.push(0, None, &[0; 100], &[]);
        let batch = b.finish(0, 0, 0);
        let err = verify(&batch, 50).unwrap_err();
        assert!(matches!(err, BatchError::RecordTooLarge { .. }));
        assert_eq!(err.code(), crate::ErrorCode::MessageTooLarge);
    }

    #[test]
    fn record_len_predicts_push() {
        let mut b = BatchBuilder::default();
        let before = b.encoded_len();
        b.push(5, Some(b"key"), &[1; 300], &[("h", b"v")]);
        assert_eq!(
            b.encoded_len() - before,
            BatchBuilder::record_len(0, 0, Some(b"key"), &[1; 300], &[("h", b"v")])
        );
    }
}
