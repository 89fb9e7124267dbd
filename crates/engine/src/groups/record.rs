//! The records of the offset store's log, and their encoding.
//!
//! ```text
//! record: u32 body_len, u32 crc32c(body), body
//! body:   u8 kind, u64 at_ms, str16 group, then by kind:
//!         1 COMMIT    u16 count, count x (str16 stream, u64 stream_id, u32 partition,
//!                     u64 offset)
//!         2 DELETE    (nothing: the group and all its offsets are gone)
//!         3 SNAPSHOT  (nothing; group empty: every record before it in this file is the
//!                     complete state the file started from)
//!         4 FORGET    u64 stream_id (offsets of that stream, in every group, are gone;
//!                     group empty)
//!         5 COMMIT2   u16 count, count x (str16 stream, u64 stream_id, u32 partition,
//!                     u64 offset, u8 has_metadata, [str16 metadata])
//! ```
//!
//! COMMIT2 is what is written now (it keeps the metadata string a Kafka client commits with
//! an offset); COMMIT, written before it existed, is still read.
//!
//! Integers are little-endian, like the rest of our own files. Bytes read back from disk are
//! untrusted: decoding checks every length and never panics.

use bytes::{BufMut, BytesMut};

/// Bytes before a record's body: its length and checksum.
pub const RECORD_HEAD: usize = 8;
/// Largest body accepted when reading: far above any real record (a commit of many
/// partitions), small enough that a corrupt length cannot make us allocate much.
pub const BODY_BYTES_MAX: usize = 16 << 20;

/// One committed position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub stream: String,
    pub stream_id: u64,
    pub partition: u32,
    pub offset: u64,
    /// The client's metadata string (Kafka's OffsetCommit), if any.
    pub metadata: Option<String>,
}

/// What a record says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Commit { group: String, entries: Vec<Entry> },
    Delete { group: String },
    Snapshot,
    Forget { stream_id: u64 },
}

const COMMIT: u8 = 1;
const DELETE: u8 = 2;
const SNAPSHOT: u8 = 3;
const FORGET: u8 = 4;
const COMMIT2: u8 = 5;

fn put_str(dst: &mut BytesMut, s: &str) {
    // Group and stream names are at most 255 bytes (checked where they enter).
    let s = s.get(..s.len().min(usize::from(u16::MAX))).unwrap_or(s);
    dst.put_u16_le(s.len() as u16);
    dst.put_slice(s.as_bytes());
}

/// Appends `op`, stamped `at_ms`, as one record.
pub fn encode(dst: &mut BytesMut, op: &Op, at_ms: u64) {
    let mut body = BytesMut::new();
    let (kind, group) = match op {
        Op::Commit { group, .. } => (COMMIT2, group.as_str()),
        Op::Delete { group } => (DELETE, group.as_str()),
        Op::Snapshot => (SNAPSHOT, ""),
        Op::Forget { .. } => (FORGET, ""),
    };
    body.put_u8(kind);
    body.put_u64_le(at_ms);
    put_str(&mut body, group);
    match op {
        Op::Commit { entries, .. } => {
            body.put_u16_le(entries.len().min(usize::from(u16::MAX)) as u16);
            for e in entries.iter().take(usize::from(u16::MAX)) {
                put_str(&mut body, &e.stream);
                body.put_u64_le(e.stream_id);
                body.put_u32_le(e.partition);
                body.put_u64_le(e.offset);
                match &e.metadata {
                    Some(m) => {
                        body.put_u8(1);
                        put_str(&mut body, m);
                    }
                    None => body.put_u8(0),
                }
            }
        }
        Op::Forget { stream_id } => body.put_u64_le(*stream_id),
        Op::Delete { .. } | Op::Snapshot => {}
    }
    dst.put_u32_le(body.len() as u32);
    dst.put_u32_le(crc32c::crc32c(&body));
    dst.put_slice(&body);
}

/// Why reading stopped.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    /// The bytes ended on a record boundary.
    End,
    /// The last record is incomplete (a write cut short by a crash).
    Torn,
    /// A record fails its checksum or does not parse.
    Corrupt(String),
}

/// A cursor over a body.
struct Body<'a>(&'a [u8]);

impl<'a> Body<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let (head, rest) = self
            .0
            .split_at_checked(n)
            .ok_or_else(|| "record body too short".to_string())?;
        self.0 = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?.first().copied().unwrap_or_default())
    }
    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes(b.try_into().map_err(|_| "short u16")?))
    }
    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes(b.try_into().map_err(|_| "short u32")?))
    }
    fn u64(&mut self) -> Result<u64, String> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().map_err(|_| "short u64")?))
    }
    fn str(&mut self) -> Result<String, String> {
        let len = usize::from(self.u16()?);
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| "name is not UTF-8".to_string())
    }
}

fn decode_body(body: &[u8]) -> Result<(Op, u64), String> {
    let mut b = Body(body);
    let kind = b.u8()?;
    let at_ms = b.u64()?;
    let group = b.str()?;
    let op = match kind {
        COMMIT | COMMIT2 => {
            let count = b.u16()?;
            let mut entries = Vec::with_capacity(usize::from(count).min(1024));
            for _ in 0..count {
                let (stream, stream_id, partition, offset) =
                    (b.str()?, b.u64()?, b.u32()?, b.u64()?);
                let metadata = if kind == COMMIT2 && b.u8()? == 1 {
                    Some(b.str()?)
                } else {
                    None
                };
                entries.push(Entry {
                    stream,
                    stream_id,
                    partition,
                    offset,
                    metadata,
                });
            }
            Op::Commit { group, entries }
        }
        DELETE => Op::Delete { group },
        SNAPSHOT => Op::Snapshot,
        FORGET => Op::Forget {
            stream_id: b.u64()?,
        },
        other => return Err(format!("unknown record kind {other}")),
    };
    if !b.0.is_empty() {
        return Err("bytes after the record's fields".into());
    }
    Ok((op, at_ms))
}

/// Every whole, valid record at the start of `bytes`, with the length they take, and why
/// reading stopped there.
pub fn decode_all(bytes: &[u8]) -> (Vec<(Op, u64)>, usize, Stop) {
    let mut out = Vec::new();
    let mut at = 0usize;
    loop {
        let rest = bytes.get(at..).unwrap_or_default();
        if rest.is_empty() {
            return (out, at, Stop::End);
        }
        let Some(head) = rest.get(..RECORD_HEAD) else {
            return (out, at, Stop::Torn);
        };
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        if len > BODY_BYTES_MAX {
            return (
                out,
                at,
                Stop::Corrupt(format!("record length {len} is implausible")),
            );
        }
        let Some(body) = rest.get(RECORD_HEAD..RECORD_HEAD + len) else {
            return (out, at, Stop::Torn);
        };
        if crc32c::crc32c(body) != crc {
            return (out, at, Stop::Corrupt("record checksum mismatch".into()));
        }
        match decode_body(body) {
            Ok(record) => out.push(record),
            Err(reason) => return (out, at, Stop::Corrupt(reason)),
        }
        at += RECORD_HEAD + len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<(Op, u64)> {
        vec![
            (Op::Snapshot, 1),
            (
                Op::Commit {
                    group: "billing".into(),
                    entries: vec![
                        Entry {
                            stream: "orders".into(),
                            stream_id: 7,
                            partition: 0,
                            offset: 42,
                            metadata: Some("kafka-client-meta".into()),
                        },
                        Entry {
                            stream: "orders".into(),
                            stream_id: 7,
                            partition: 1,
                            offset: 9,
                            metadata: None,
                        },
                    ],
                },
                2,
            ),
            (Op::Forget { stream_id: 7 }, 3),
            (
                Op::Delete {
                    group: "billing".into(),
                },
                4,
            ),
        ]
    }

    #[test]
    fn commits_written_before_metadata_existed_are_still_read() {
        // A COMMIT (kind 1) record as the previous version wrote it.
        let mut body = BytesMut::new();
        body.put_u8(COMMIT);
        body.put_u64_le(5);
        put_str(&mut body, "g");
        body.put_u16_le(1);
        put_str(&mut body, "orders");
        body.put_u64_le(7);
        body.put_u32_le(2);
        body.put_u64_le(99);
        let mut buf = BytesMut::new();
        buf.put_u32_le(body.len() as u32);
        buf.put_u32_le(crc32c::crc32c(&body));
        buf.put_slice(&body);
        let (ops, used, stop) = decode_all(&buf);
        assert_eq!((used, stop), (buf.len(), Stop::End));
        let Op::Commit { entries, .. } = &ops[0].0 else {
            panic!("a commit: {ops:?}");
        };
        assert_eq!(
            (entries[0].offset, entries[0].metadata.as_deref()),
            (99, None)
        );
    }

    #[test]
    fn records_round_trip() {
        let mut buf = BytesMut::new();
        for (op, at) in sample() {
            encode(&mut buf, &op, at);
        }
        let (ops, used, stop) = decode_all(&buf);
        assert_eq!((ops, used, stop), (sample(), buf.len(), Stop::End));
    }

    #[test]
    fn a_cut_tail_is_torn_and_a_flipped_byte_corrupt() {
        let mut buf = BytesMut::new();
        for (op, at) in sample() {
            encode(&mut buf, &op, at);
        }
        for cut in 0..buf.len() {
            let (ops, used, stop) = decode_all(&buf[..cut]);
            assert!(used <= cut && ops.len() < 4);
            assert!(
                matches!(stop, Stop::Torn | Stop::End),
                "cut at {cut}: {stop:?}"
            );
        }
        for i in 0..buf.len() {
            let mut bad = buf.to_vec();
            bad[i] ^= 0x10;
            let (ops, _, stop) = decode_all(&bad);
            assert!(ops.len() < 4 || stop != Stop::End, "flip at {i} unnoticed");
        }
    }
}
