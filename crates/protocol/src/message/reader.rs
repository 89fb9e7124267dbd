//! Checked, cursor-style reading of untrusted payload bytes.

use crate::error::PayloadError;

/// Reads little-endian fields from a payload; every read is bounds-checked.
pub(crate) struct PayloadReader<'a> {
    rest: &'a [u8],
    total: usize,
}

impl<'a> PayloadReader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        PayloadReader {
            rest: bytes,
            total: bytes.len(),
        }
    }

    /// Bytes consumed so far: where the next field starts in the payload.
    pub(crate) fn position(&self) -> usize {
        self.total.saturating_sub(self.rest.len())
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, PayloadError> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }

    /// The next `N` bytes as an array.
    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], PayloadError> {
        <[u8; N]>::try_from(self.take(N, field)?).map_err(|_| PayloadError::Truncated { field })
    }

    /// Skips `n` bytes (a blob the caller slices out of the payload by position).
    pub(crate) fn skip(&mut self, n: usize, field: &'static str) -> Result<(), PayloadError> {
        self.take(n, field).map(drop)
    }

    /// The next `n` bytes.
    pub(crate) fn take_bytes(
        &mut self,
        n: usize,
        field: &'static str,
    ) -> Result<&'a [u8], PayloadError> {
        self.take(n, field)
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], PayloadError> {
        if self.rest.len() < n {
            return Err(PayloadError::Truncated { field });
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, PayloadError> {
        Ok(u8::from_le_bytes(self.array(field)?))
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, PayloadError> {
        Ok(u16::from_le_bytes(self.array(field)?))
    }

    pub(crate) fn u64(&mut self, field: &'static str) -> Result<u64, PayloadError> {
        Ok(u64::from_le_bytes(self.array(field)?))
    }

    /// A `u16` length followed by that many UTF-8 bytes, at most `max` of them.
    pub(crate) fn str16(
        &mut self,
        field: &'static str,
        max: usize,
    ) -> Result<&'a str, PayloadError> {
        let len = usize::from(self.u16(field)?);
        if len > max {
            return Err(PayloadError::TooLong { field, len, max });
        }
        let bytes = self.take(len, field)?;
        std::str::from_utf8(bytes).map_err(|_| PayloadError::InvalidUtf8 { field })
    }

    /// Fails unless every byte was consumed.
    pub(crate) fn finish(self) -> Result<(), PayloadError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(PayloadError::TrailingBytes {
                extra: self.rest.len(),
            })
        }
    }
}

/// Writes a `u16` length and the string. Never panics: a string over 65,535 bytes is cut at
/// a char boundary, and the peer then refuses the field as longer than its maximum (every
/// string field's maximum is far below that). Senders check requests before encoding them
/// (`Request::check`), so a cut string is never sent by this crate's clients.
pub(crate) fn put_str16(dst: &mut bytes::BytesMut, s: &str) {
    use bytes::BufMut;
    let s = truncate_utf8(s, usize::from(u16::MAX));
    let len = u16::try_from(s.len()).unwrap_or(u16::MAX);
    dst.put_u16_le(len);
    dst.put_slice(s.as_bytes());
}

/// The longest prefix of `s` that is at most `max` bytes and ends on a char boundary.
pub(crate) fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    // Some index at or below `max` is a boundary (0 always is).
    let end = (0..=max)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0);
    s.get(..end).unwrap_or_default()
}
