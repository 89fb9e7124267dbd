//! Reading the records of a batch, without copying them.

use super::header::{BatchError, BatchHeader};
use super::varint::{get_uvarint, unzigzag};

/// One record, borrowed from its batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// Position in the batch; the record's offset is `base_offset + offset_delta`.
    pub offset_delta: u32,
    /// Record timestamp, ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// The key, if any.
    pub key: Option<&'a [u8]>,
    /// The value.
    pub value: &'a [u8],
    header_count: u32,
    headers: &'a [u8],
}

/// One record header: a name and bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHeader<'a> {
    /// The header's name.
    pub name: &'a str,
    /// The header's value.
    pub value: &'a [u8],
}

impl<'a> Record<'a> {
    /// The record's headers, in order.
    pub fn headers(&self) -> impl Iterator<Item = RecordHeader<'a>> + 'a {
        let mut rest = self.headers;
        (0..self.header_count).map_while(move |_| {
            let (header, used) = parse_header(rest).ok()?;
            rest = &rest[used..];
            Some(header)
        })
    }
}

/// Iterates over the records of one batch. Each step checks the record's structure, so this is
/// safe on untrusted bytes: a malformed record ends iteration with an error.
pub struct RecordIter<'a> {
    rest: &'a [u8],
    first_timestamp_ms: u64,
    remaining: u32,
    index: u32,
}

impl<'a> RecordIter<'a> {
    /// Records in `records` (the bytes after the batch header) of the batch `header`.
    pub fn new(records: &'a [u8], header: &BatchHeader) -> RecordIter<'a> {
        RecordIter {
            rest: records,
            first_timestamp_ms: header.first_timestamp_ms,
            remaining: header.record_count,
            index: 0,
        }
    }

    /// The next record, refusing records longer than `max_record_bytes`; `Ok(None)` after the
    /// last one, which must end exactly at the end of the bytes.
    pub fn next_checked(
        &mut self,
        max_record_bytes: usize,
    ) -> Result<Option<Record<'a>>, BatchError> {
        let index = self.index;
        let malformed = |reason| BatchError::MalformedRecord { index, reason };
        if self.remaining == 0 {
            return if self.rest.is_empty() {
                Ok(None)
            } else {
                Err(malformed("bytes after the last record"))
            };
        }
        let (len, used) = get_uvarint(self.rest).ok_or_else(|| malformed("bad length"))?;
        let len = usize::try_from(len).map_err(|_| malformed("bad length"))?;
        if len > max_record_bytes {
            return Err(BatchError::RecordTooLarge {
                index,
                len,
                max: max_record_bytes,
            });
        }
        let body = self
            .rest
            .get(
                used..used
                    .checked_add(len)
                    .ok_or_else(|| malformed("bad length"))?,
            )
            .ok_or_else(|| malformed("record runs past the batch"))?;
        let record = parse_body(body, self.first_timestamp_ms).map_err(malformed)?;
        self.rest = &self.rest[used + len..];
        self.remaining -= 1;
        self.index += 1;
        Ok(Some(record))
    }
}

impl<'a> Iterator for RecordIter<'a> {
    type Item = Result<Record<'a>, BatchError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_checked(usize::MAX).transpose()
    }
}

/// A cursor over one record's body.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn varint(&mut self, what: &'static str) -> Result<u64, &'static str> {
        let (v, used) = get_uvarint(self.0).ok_or(what)?;
        self.0 = &self.0[used..];
        Ok(v)
    }

    fn bytes(&mut self, len: u64, what: &'static str) -> Result<&'a [u8], &'static str> {
        let len = usize::try_from(len).map_err(|_| what)?;
        let out = self.0.get(..len).ok_or(what)?;
        self.0 = &self.0[len..];
        Ok(out)
    }
}

fn parse_body(body: &[u8], first_timestamp_ms: u64) -> Result<Record<'_>, &'static str> {
    let (&attributes, rest) = body.split_first().ok_or("empty record")?;
    if attributes != 0 {
        return Err("reserved record attributes set");
    }
    let mut c = Cursor(rest);
    let delta = unzigzag(c.varint("bad timestamp delta")?);
    let timestamp_ms = first_timestamp_ms
        .checked_add_signed(delta)
        .ok_or("timestamp out of range")?;
    let offset_delta =
        u32::try_from(c.varint("bad offset delta")?).map_err(|_| "offset delta too large")?;
    let key = match c.varint("bad key length")? {
        0 => None,
        n => Some(c.bytes(n - 1, "key runs past the record")?),
    };
    let value_len = c.varint("bad value length")?;
    let value = c.bytes(value_len, "value runs past the record")?;
    let header_count =
        u32::try_from(c.varint("bad header count")?).map_err(|_| "too many headers")?;
    let headers = c.0;
    let mut rest = headers;
    for _ in 0..header_count {
        let (_, used) = parse_header(rest)?;
        rest = &rest[used..];
    }
    if !rest.is_empty() {
        return Err("bytes after the record's headers");
    }
    Ok(Record {
        offset_delta,
        timestamp_ms,
        key,
        value,
        header_count,
        headers,
    })
}

fn parse_header(src: &[u8]) -> Result<(RecordHeader<'_>, usize), &'static str> {
    let mut c = Cursor(src);
    let name_len = c.varint("bad header name length")?;
    let name = std::str::from_utf8(c.bytes(name_len, "header name runs past the record")?)
        .map_err(|_| "header name is not UTF-8")?;
    let value_len = c.varint("bad header value length")?;
    let value = c.bytes(value_len, "header value runs past the record")?;
    Ok((RecordHeader { name, value }, src.len() - c.0.len()))
}
