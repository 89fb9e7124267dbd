//! Reading the records of a batch, without copying them.

use crate::error::BatchError;
use crate::header::BatchHeader;
use crate::varint::{get_varint, get_varlong};

/// One record, borrowed from its batch (or from its decompressed records).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// Position in the batch; the record's offset is `base_offset + offset_delta`.
    pub offset_delta: u32,
    /// Record timestamp, ms since the Unix epoch.
    pub timestamp_ms: u64,
    /// The key, if any.
    pub key: Option<&'a [u8]>,
    /// The value; `None` is Kafka's null value (a tombstone).
    pub value: Option<&'a [u8]>,
    header_count: u32,
    headers: &'a [u8],
}

/// One record header: a name and bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHeader<'a> {
    /// The header's name.
    pub name: &'a str,
    /// The header's value; `None` is a null value.
    pub value: Option<&'a [u8]>,
}

impl<'a> Record<'a> {
    /// The value's bytes, empty for a null value.
    pub fn value_bytes(&self) -> &'a [u8] {
        self.value.unwrap_or_default()
    }

    /// The record's headers, in order.
    pub fn headers(&self) -> impl Iterator<Item = RecordHeader<'a>> + 'a {
        let mut rest = self.headers;
        (0..self.header_count).map_while(move |_| {
            let (header, used) = parse_header(rest).ok()?;
            rest = rest.get(used..)?;
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
    /// Records in `records` (the bytes after the batch header, decompressed) of the batch
    /// `header`.
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
        let (len, used) = get_varint(self.rest).ok_or_else(|| malformed("bad length"))?;
        let len = usize::try_from(len).map_err(|_| malformed("negative length"))?;
        if len > max_record_bytes {
            return Err(BatchError::RecordTooLarge {
                index,
                len,
                max: max_record_bytes,
            });
        }
        let end = used
            .checked_add(len)
            .ok_or_else(|| malformed("bad length"))?;
        let body = self
            .rest
            .get(used..end)
            .ok_or_else(|| malformed("record runs past the batch"))?;
        let record = parse_body(body, self.first_timestamp_ms).map_err(malformed)?;
        self.rest = self.rest.get(end..).unwrap_or_default();
        self.remaining = self.remaining.saturating_sub(1);
        self.index = self.index.saturating_add(1);
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
    fn varint(&mut self, what: &'static str) -> Result<i32, &'static str> {
        let (v, used) = get_varint(self.0).ok_or(what)?;
        self.0 = self.0.get(used..).ok_or(what)?;
        Ok(v)
    }

    fn varlong(&mut self, what: &'static str) -> Result<i64, &'static str> {
        let (v, used) = get_varlong(self.0).ok_or(what)?;
        self.0 = self.0.get(used..).ok_or(what)?;
        Ok(v)
    }

    /// A length-prefixed byte string; a length of -1 is null.
    fn nullable_bytes(&mut self, what: &'static str) -> Result<Option<&'a [u8]>, &'static str> {
        match self.varint(what)? {
            -1 => Ok(None),
            len => {
                let len = usize::try_from(len).map_err(|_| what)?;
                let out = self.0.get(..len).ok_or(what)?;
                self.0 = self.0.get(len..).ok_or(what)?;
                Ok(Some(out))
            }
        }
    }
}

fn parse_body(body: &[u8], first_timestamp_ms: u64) -> Result<Record<'_>, &'static str> {
    // The record attributes byte is unused in magic 2; Kafka ignores it and so do we.
    let (_attributes, rest) = body.split_first().ok_or("empty record")?;
    let mut c = Cursor(rest);
    let delta = c.varlong("bad timestamp delta")?;
    let timestamp_ms = first_timestamp_ms
        .checked_add_signed(delta)
        .ok_or("timestamp out of range")?;
    let offset_delta =
        u32::try_from(c.varint("bad offset delta")?).map_err(|_| "negative offset delta")?;
    let key = c.nullable_bytes("key runs past the record")?;
    let value = c.nullable_bytes("value runs past the record")?;
    let header_count =
        u32::try_from(c.varint("bad header count")?).map_err(|_| "negative header count")?;
    let headers = c.0;
    let mut rest = headers;
    for _ in 0..header_count {
        let (_, used) = parse_header(rest)?;
        rest = rest.get(used..).ok_or("bad header")?;
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
    let name = c
        .nullable_bytes("header name runs past the record")?
        .ok_or("null header name")?;
    let name = std::str::from_utf8(name).map_err(|_| "header name is not UTF-8")?;
    let value = c.nullable_bytes("header value runs past the record")?;
    Ok((
        RecordHeader { name, value },
        src.len().saturating_sub(c.0.len()),
    ))
}
