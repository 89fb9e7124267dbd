//! The primitive types of Kafka's protocol, read with checks and written into a chain of
//! buffers.
//!
//! [`Reader`] never panics and never allocates more than the bytes it was given: every read
//! checks what is left, lengths are checked against what is left before anything is reserved
//! (an array of `n` entries needs at least `n` bytes, since no entry is empty), and byte fields
//! are zero-copy slices of the request. A reader is *flexible* for the versions of an API that
//! use compact strings and arrays (unsigned varint lengths, plus one) and tagged fields (KIP-482).
//!
//! [`Writer`] appends to a `BytesMut` and can splice in stored record batches as they are
//! ([`Writer::records`]), so a fetch response is a list of slices, never a copy of the data.

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// Why a request could not be decoded. Every variant names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The request ended inside a field.
    #[error("request truncated in `{field}`")]
    Truncated {
        /// The field being read.
        field: &'static str,
    },
    /// A length is negative (other than -1 for null where null is allowed) or too large.
    #[error("`{field}`: invalid length {len}")]
    InvalidLength {
        /// The field.
        field: &'static str,
        /// The length read.
        len: i64,
    },
    /// A field that may not be null is null.
    #[error("`{field}` may not be null")]
    Null {
        /// The field.
        field: &'static str,
    },
    /// A string is not UTF-8.
    #[error("`{field}` is not valid UTF-8")]
    Utf8 {
        /// The field.
        field: &'static str,
    },
    /// A varint runs past its longest form.
    #[error("`{field}`: varint too long")]
    Varint {
        /// The field.
        field: &'static str,
    },
    /// Bytes remain after the last field of the request.
    #[error("{left} bytes after the end of the request")]
    Trailing {
        /// Bytes left.
        left: usize,
    },
    /// This API key is not one the broker implements.
    #[error("unknown API key {0}")]
    UnknownApi(i16),
    /// This version of a known API is not implemented.
    #[error("{api} v{version} is not supported")]
    UnsupportedVersion {
        /// The API's name.
        api: &'static str,
        /// The version asked for.
        version: i16,
    },
}

/// Result of decoding.
pub type Result<T> = std::result::Result<T, DecodeError>;

/// Most bytes reserved up front for an array's entries (more grow as entries are actually
/// decoded), so what a length field claims never turns into memory before the entries are
/// there.
pub const PREALLOCATE_BYTES_MAX: usize = 4096;

/// Entries of `T` to reserve for an array that claims `n`.
fn preallocate<T>(n: usize) -> usize {
    let per_entry = std::mem::size_of::<T>().max(1);
    n.min(PREALLOCATE_BYTES_MAX.checked_div(per_entry).unwrap_or(0))
}

/// A checked reader over one request body.
#[derive(Debug)]
pub struct Reader {
    buf: Bytes,
    flexible: bool,
}

impl Reader {
    /// Reads `buf`; `flexible` for the API versions that use compact types and tagged fields.
    pub fn new(buf: Bytes, flexible: bool) -> Reader {
        Reader { buf, flexible }
    }

    /// Whether this reader uses compact types and tagged fields.
    pub fn flexible(&self) -> bool {
        self.flexible
    }

    /// Switches between the classic and the flexible encoding (the request header is classic
    /// up to the client id even in flexible versions).
    pub fn set_flexible(&mut self, flexible: bool) {
        self.flexible = flexible;
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.remaining()
    }

    /// The next `n` bytes, without consuming them (`None` when fewer remain).
    pub fn peek(&self, n: usize) -> Option<&[u8]> {
        self.buf.get(..n)
    }

    /// `Err` unless every byte was read.
    pub fn finish(&self) -> Result<()> {
        match self.buf.remaining() {
            0 => Ok(()),
            left => Err(DecodeError::Trailing { left }),
        }
    }

    fn need(&self, n: usize, field: &'static str) -> Result<()> {
        if self.buf.remaining() < n {
            return Err(DecodeError::Truncated { field });
        }
        Ok(())
    }

    /// INT8.
    pub fn i8(&mut self, field: &'static str) -> Result<i8> {
        self.need(1, field)?;
        Ok(self.buf.get_i8())
    }

    /// BOOLEAN (any non-zero byte is true).
    pub fn bool(&mut self, field: &'static str) -> Result<bool> {
        Ok(self.i8(field)? != 0)
    }

    /// INT16.
    pub fn i16(&mut self, field: &'static str) -> Result<i16> {
        self.need(2, field)?;
        Ok(self.buf.get_i16())
    }

    /// INT32.
    pub fn i32(&mut self, field: &'static str) -> Result<i32> {
        self.need(4, field)?;
        Ok(self.buf.get_i32())
    }

    /// INT64.
    pub fn i64(&mut self, field: &'static str) -> Result<i64> {
        self.need(8, field)?;
        Ok(self.buf.get_i64())
    }

    /// UUID (16 bytes).
    pub fn uuid(&mut self, field: &'static str) -> Result<[u8; 16]> {
        self.need(16, field)?;
        let mut id = [0u8; 16];
        self.buf.copy_to_slice(&mut id);
        Ok(id)
    }

    /// UNSIGNED_VARINT (at most 5 bytes, 32 bits).
    pub fn uvarint(&mut self, field: &'static str) -> Result<u32> {
        let mut value = 0u32;
        for shift in [0u32, 7, 14, 21, 28] {
            let byte = self.i8(field)? as u8;
            value |= u32::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::Varint { field })
    }

    /// A length prefix: INT16 (`short`) or INT32 in classic versions, UNSIGNED_VARINT + 1 in
    /// flexible ones. `None` is null. A length is never more than the bytes left.
    fn length(&mut self, field: &'static str, short: bool) -> Result<Option<usize>> {
        let len: i64 = if self.flexible {
            i64::from(self.uvarint(field)?).wrapping_sub(1)
        } else if short {
            i64::from(self.i16(field)?)
        } else {
            i64::from(self.i32(field)?)
        };
        if len == -1 {
            return Ok(None);
        }
        match usize::try_from(len) {
            Ok(n) if n <= self.buf.remaining() => Ok(Some(n)),
            Ok(_) => Err(DecodeError::Truncated { field }),
            Err(_) => Err(DecodeError::InvalidLength { field, len }),
        }
    }

    fn raw(&mut self, n: usize) -> Bytes {
        self.buf.split_to(n)
    }

    /// NULLABLE_STRING (or COMPACT_NULLABLE_STRING).
    pub fn nullable_string(&mut self, field: &'static str) -> Result<Option<String>> {
        match self.length(field, true)? {
            None => Ok(None),
            Some(n) => {
                let bytes = self.raw(n);
                String::from_utf8(bytes.to_vec())
                    .map(Some)
                    .map_err(|_| DecodeError::Utf8 { field })
            }
        }
    }

    /// STRING (or COMPACT_STRING).
    pub fn string(&mut self, field: &'static str) -> Result<String> {
        self.nullable_string(field)?
            .ok_or(DecodeError::Null { field })
    }

    /// NULLABLE_BYTES (or COMPACT_NULLABLE_BYTES), zero-copy.
    pub fn nullable_bytes(&mut self, field: &'static str) -> Result<Option<Bytes>> {
        Ok(self.length(field, false)?.map(|n| self.raw(n)))
    }

    /// BYTES (or COMPACT_BYTES), zero-copy.
    pub fn bytes(&mut self, field: &'static str) -> Result<Bytes> {
        self.nullable_bytes(field)?
            .ok_or(DecodeError::Null { field })
    }

    /// The length of a nullable array. An array of `n` entries needs at least `n` bytes, so
    /// `n` is checked against the bytes left before anything is reserved for it.
    pub fn nullable_array_len(&mut self, field: &'static str) -> Result<Option<usize>> {
        self.length(field, false)
    }

    /// The length of an array that may not be null.
    pub fn array_len(&mut self, field: &'static str) -> Result<usize> {
        self.nullable_array_len(field)?
            .ok_or(DecodeError::Null { field })
    }

    /// An array that may not be null, each entry read by `entry`.
    pub fn array<T>(
        &mut self,
        field: &'static str,
        mut entry: impl FnMut(&mut Reader) -> Result<T>,
    ) -> Result<Vec<T>> {
        let n = self.array_len(field)?;
        let mut out = Vec::with_capacity(preallocate::<T>(n));
        for _ in 0..n {
            out.push(entry(self)?);
        }
        Ok(out)
    }

    /// A nullable array (null reads as `None`).
    pub fn nullable_array<T>(
        &mut self,
        field: &'static str,
        mut entry: impl FnMut(&mut Reader) -> Result<T>,
    ) -> Result<Option<Vec<T>>> {
        let Some(n) = self.nullable_array_len(field)? else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(preallocate::<T>(n));
        for _ in 0..n {
            out.push(entry(self)?);
        }
        Ok(Some(out))
    }

    /// The tagged fields at the end of a structure in flexible versions, skipped (the broker
    /// knows none it must read); nothing in classic versions.
    pub fn tagged_fields(&mut self) -> Result<()> {
        if !self.flexible {
            return Ok(());
        }
        let count = self.uvarint("tagged fields")?;
        for _ in 0..count {
            self.uvarint("tag")?;
            let size = self.uvarint("tagged field size")? as usize;
            self.need(size, "tagged field")?;
            self.buf.advance(size);
        }
        Ok(())
    }
}

/// Writes a response body into a chain of buffers.
#[derive(Debug, Default)]
pub struct Writer {
    done: Vec<Bytes>,
    buf: BytesMut,
    flexible: bool,
    /// Error codes other than NONE written with [`Writer::error_code`].
    errors: u32,
}

impl Writer {
    /// A writer using compact types and tagged fields when `flexible`.
    pub fn new(flexible: bool) -> Writer {
        Writer {
            done: Vec::new(),
            buf: BytesMut::with_capacity(256),
            flexible,
            errors: 0,
        }
    }

    /// An error code field (INT16), counted when it is not NONE.
    pub fn error_code(&mut self, code: crate::ErrorCode) {
        if code != crate::ErrorCode::NONE {
            self.errors = self.errors.saturating_add(1);
        }
        self.i16(code.0);
    }

    /// How many error codes other than NONE were written: a response's entries (topics,
    /// partitions, groups) that failed.
    pub fn errors(&self) -> u32 {
        self.errors
    }

    /// Whether this writer uses compact types and tagged fields.
    pub fn flexible(&self) -> bool {
        self.flexible
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.done
            .iter()
            .map(Bytes::len)
            .fold(self.buf.len(), usize::saturating_add)
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// INT8.
    pub fn i8(&mut self, v: i8) {
        self.buf.put_i8(v);
    }

    /// BOOLEAN.
    pub fn bool(&mut self, v: bool) {
        self.buf.put_u8(u8::from(v));
    }

    /// INT16.
    pub fn i16(&mut self, v: i16) {
        self.buf.put_i16(v);
    }

    /// INT32.
    pub fn i32(&mut self, v: i32) {
        self.buf.put_i32(v);
    }

    /// INT64.
    pub fn i64(&mut self, v: i64) {
        self.buf.put_i64(v);
    }

    /// UUID.
    pub fn uuid(&mut self, v: [u8; 16]) {
        self.buf.put_slice(&v);
    }

    /// UNSIGNED_VARINT.
    pub fn uvarint(&mut self, mut v: u32) {
        while v >= 0x80 {
            self.buf.put_u8((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.put_u8(v as u8);
    }

    /// A length prefix in this writer's encoding; `None` is null. Lengths past the encoding's
    /// range are clamped, which the callers' bounds never reach.
    fn length(&mut self, len: Option<usize>, short: bool) {
        if self.flexible {
            let n = len.map_or(0, |n| {
                u32::try_from(n).map_or(u32::MAX, |n| n.saturating_add(1))
            });
            self.uvarint(n);
        } else if short {
            self.i16(len.map_or(-1, |n| i16::try_from(n).unwrap_or(i16::MAX)));
        } else {
            self.i32(len.map_or(-1, |n| i32::try_from(n).unwrap_or(i32::MAX)));
        }
    }

    /// STRING (or COMPACT_STRING).
    pub fn string(&mut self, s: &str) {
        self.length(Some(s.len()), true);
        self.buf.put_slice(s.as_bytes());
    }

    /// NULLABLE_STRING (or COMPACT_NULLABLE_STRING).
    pub fn nullable_string(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.string(s),
            None => self.length(None, true),
        }
    }

    /// BYTES (or COMPACT_BYTES).
    pub fn bytes(&mut self, b: &[u8]) {
        self.length(Some(b.len()), false);
        self.buf.put_slice(b);
    }

    /// NULLABLE_BYTES (or COMPACT_NULLABLE_BYTES).
    pub fn nullable_bytes(&mut self, b: Option<&[u8]>) {
        match b {
            Some(b) => self.bytes(b),
            None => self.length(None, false),
        }
    }

    /// RECORDS: stored batches spliced in as they are (no copy), after their total length.
    pub fn records(&mut self, batches: &[Bytes]) {
        let len = batches.iter().map(Bytes::len).sum::<usize>();
        self.length(Some(len), false);
        if batches.is_empty() {
            return;
        }
        let head = self.buf.split().freeze();
        self.done.push(head);
        self.done.extend(batches.iter().cloned());
    }

    /// The length of an array of `n` entries (the caller writes the entries).
    pub fn array_len(&mut self, n: usize) {
        self.length(Some(n), false);
    }

    /// A null array.
    pub fn null_array(&mut self) {
        self.length(None, false);
    }

    /// An array, each entry written by `entry`.
    pub fn array<T>(&mut self, items: &[T], mut entry: impl FnMut(&mut Writer, &T)) {
        self.array_len(items.len());
        for item in items {
            entry(self, item);
        }
    }

    /// No tagged fields (flexible versions); nothing in classic ones.
    pub fn tagged_fields(&mut self) {
        if self.flexible {
            self.uvarint(0);
        }
    }

    /// The chain of buffers written.
    pub fn finish(mut self) -> Vec<Bytes> {
        if !self.buf.is_empty() {
            self.done.push(self.buf.freeze());
        }
        self.done
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_array_length_is_refused_before_anything_is_reserved() {
        let mut r = Reader::new(Bytes::from_static(&[0x7f, 0xff, 0xff, 0xff, 0, 0]), false);
        assert_eq!(
            r.array("topics", |r| r.i8("x")),
            Err(DecodeError::Truncated { field: "topics" })
        );
        let mut r = Reader::new(Bytes::from_static(&[0xff, 0xff, 0xff, 0xff, 0x0f]), true);
        assert!(r.array("topics", |r| r.i8("x")).is_err());
    }

    #[test]
    fn classic_and_compact_strings_round_trip() {
        for flexible in [false, true] {
            let mut w = Writer::new(flexible);
            w.string("orders");
            w.nullable_string(None);
            w.bytes(b"abc");
            w.tagged_fields();
            let bytes: Vec<u8> = w.finish().concat();
            let mut r = Reader::new(Bytes::from(bytes), flexible);
            assert_eq!(r.string("a").unwrap(), "orders");
            assert_eq!(r.nullable_string("b").unwrap(), None);
            assert_eq!(&r.bytes("c").unwrap()[..], b"abc");
            r.tagged_fields().unwrap();
            r.finish().unwrap();
        }
    }

    #[test]
    fn tagged_fields_are_skipped_within_bounds() {
        // Two tagged fields: tag 0 with 2 bytes, tag 5 with 0 bytes.
        let mut r = Reader::new(Bytes::from_static(&[2, 0, 2, 9, 9, 5, 0]), true);
        r.tagged_fields().unwrap();
        r.finish().unwrap();
        let mut r = Reader::new(Bytes::from_static(&[1, 0, 9, 1]), true);
        assert!(r.tagged_fields().is_err());
    }

    #[test]
    fn records_are_spliced_without_a_copy() {
        let batch = Bytes::from_static(b"stored batch");
        let mut w = Writer::new(false);
        w.i32(7);
        w.records(std::slice::from_ref(&batch));
        w.i16(1);
        let chain = w.finish();
        assert_eq!(chain.len(), 3);
        assert_eq!(chain[1].as_ptr(), batch.as_ptr());
        assert_eq!(&chain[0][..], &[0, 0, 0, 7, 0, 0, 0, 12]);
    }
}
