//! Push subscriptions with credit-based flow control.
//!
//! A subscription lives on the frame's `stream_id`, chosen by the client (non-zero, unique
//! on the connection); many subscriptions share one connection.
//!
//! ```text
//! SUBSCRIBE   request:  str16 pattern, u32 partition (0xFFFFFFFF = all), u8 from,
//!                       u64 from_value, u32 credit_bytes,
//!                       u32 count, count x (str16 stream, u32 partition, u64 offset)
//!             response: u32 count, count x (str16 stream, u32 partition, u64 offset)
//! CREDIT      request:  u32 bytes to add          (no response unless it fails)
//! UNSUBSCRIBE request:  empty                      response: empty, END_OF_STREAM flag
//! PUSH        server:   str16 stream, u32 partition, u64 next_offset, u32 batches_len,
//!                       batches (stream_id = the subscription, correlation id 0)
//! PUSH+ERROR  server:   str16 stream, u32 partition, u64 next_offset, u32 0,
//!                       u16 code, str16 message: that partition stopped at next_offset
//! ```
//!
//! The request's positions say where listed partitions start (a client resuming after a
//! reconnect lists the offset after the last record it received); partitions not listed start
//! at `from`. The response lists every partition matched now with the offset its pushes start
//! at, so the client knows concrete positions even for `from = latest`.
//!
//! The server never sends more batch bytes than the credit granted (a single batch larger
//! than the whole credit waits until the credit covers it). Credit is granted in bytes and
//! consumed by the batch bytes of each PUSH.

use bytes::{BufMut, Bytes, BytesMut};

use super::fetch::OffsetSpec;
use super::group::PartitionOffset;
use super::reader::{put_str16, PayloadReader};
use super::stream::STREAM_NAME_BYTES_MAX;
use crate::error::PayloadError;

/// The `partition` value that subscribes to every partition.
pub const ALL_PARTITIONS: u32 = u32::MAX;

/// SUBSCRIBE request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscribe {
    /// A stream name or a pattern (`orders.*`, `orders.>`).
    pub pattern: String,
    /// One partition, or [`ALL_PARTITIONS`].
    pub partition: u32,
    /// Where each matched partition starts.
    pub from: OffsetSpec,
    /// Initial credit in bytes.
    pub credit_bytes: u32,
    /// Partitions that start at a given offset instead of at `from` (resuming).
    pub positions: Vec<PartitionOffset>,
}

impl Subscribe {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        put_str16(dst, &self.pattern);
        dst.put_u32_le(self.partition);
        self.from.encode(dst);
        dst.put_u32_le(self.credit_bytes);
        put_positions(dst, &self.positions);
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<Subscribe, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let pattern = r.str16("pattern", STREAM_NAME_BYTES_MAX)?.to_owned();
        let partition = r.u32("partition")?;
        let from = OffsetSpec::decode_from(&mut r)?;
        let credit_bytes = r.u32("credit_bytes")?;
        let positions = get_positions(&mut r)?;
        r.finish()?;
        Ok(Subscribe {
            pattern,
            partition,
            from,
            credit_bytes,
            positions,
        })
    }
}

/// SUBSCRIBE response: where each partition matched now starts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subscribed {
    /// One entry per matched partition: the offset of the first record it will push.
    pub positions: Vec<PartitionOffset>,
}

impl Subscribed {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        put_positions(dst, &self.positions);
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<Subscribed, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let positions = get_positions(&mut r)?;
        r.finish()?;
        Ok(Subscribed { positions })
    }
}

fn put_positions(dst: &mut BytesMut, positions: &[PartitionOffset]) {
    dst.put_u32_le(positions.len() as u32);
    for p in positions {
        p.encode(dst);
    }
}

fn get_positions(r: &mut PayloadReader<'_>) -> Result<Vec<PartitionOffset>, PayloadError> {
    let count = r.u32("position_count")?;
    // Nothing is reserved from the count: a hostile count fails at the end of the payload.
    (0..count)
        .map(|_| PartitionOffset::decode_from(r))
        .collect()
}

/// CREDIT request: more bytes the server may push on this subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Credit {
    /// Bytes added.
    pub bytes: u32,
}

impl Credit {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        dst.put_u32_le(self.bytes);
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<Credit, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let bytes = r.u32("bytes")?;
        r.finish()?;
        Ok(Credit { bytes })
    }
}

/// The fixed part of a PUSH frame; the batches follow it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushHeader {
    /// Stream the batches come from.
    pub stream: String,
    /// Partition.
    pub partition: u32,
    /// Offset after the last record pushed.
    pub next_offset: u64,
    /// Bytes of batches that follow.
    pub batches_len: u32,
}

impl PushHeader {
    /// Appends the encoded header.
    pub fn encode(&self, dst: &mut BytesMut) {
        put_str16(dst, &self.stream);
        dst.put_u32_le(self.partition);
        dst.put_u64_le(self.next_offset);
        dst.put_u32_le(self.batches_len);
    }

    /// Parses a PUSH payload into its header and batches (zero-copy).
    pub fn decode(payload: &Bytes) -> Result<(PushHeader, Bytes), PayloadError> {
        let mut r = PayloadReader::new(payload);
        let stream = r.str16("stream", STREAM_NAME_BYTES_MAX)?.to_owned();
        let partition = r.u32("partition")?;
        let next_offset = r.u64("next_offset")?;
        let batches_len = r.u32("batches_len")?;
        let start = r.position();
        r.skip(batches_len as usize, "batches")?;
        r.finish()?;
        Ok((
            PushHeader {
                stream,
                partition,
                next_offset,
                batches_len,
            },
            payload.slice(start..),
        ))
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let sub = Subscribe {
            pattern: "orders.>".into(),
            partition: ALL_PARTITIONS,
            from: OffsetSpec::Timestamp(5),
            credit_bytes: 1 << 20,
            positions: vec![PartitionOffset {
                stream: "orders.eu".into(),
                partition: 3,
                offset: 77,
            }],
        };
        let mut buf = BytesMut::new();
        sub.encode(&mut buf);
        assert_eq!(Subscribe::decode(&buf).unwrap(), sub);
        for cut in 0..buf.len() {
            assert!(Subscribe::decode(&buf[..cut]).is_err());
        }
        let subscribed = Subscribed {
            positions: sub.positions.clone(),
        };
        let mut buf = BytesMut::new();
        subscribed.encode(&mut buf);
        assert_eq!(Subscribed::decode(&buf).unwrap(), subscribed);
        for cut in 0..buf.len() {
            assert!(Subscribed::decode(&buf[..cut]).is_err());
        }
        let mut buf = BytesMut::new();
        let push = PushHeader {
            stream: "orders.eu".into(),
            partition: 2,
            next_offset: 10,
            batches_len: 3,
        };
        push.encode(&mut buf);
        buf.put_slice(b"abc");
        let (decoded, batches) = PushHeader::decode(&buf.freeze()).unwrap();
        assert_eq!((decoded, &batches[..]), (push, &b"abc"[..]));
    }
}

/// A PUSH flagged `ERROR`: one partition of the subscription stopped at `next_offset` and
/// pushes nothing more (a corrupt batch there, or one no frame of this connection can
/// carry). The other partitions go on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushError {
    /// Stream of the partition.
    pub stream: String,
    /// The partition that stopped.
    pub partition: u32,
    /// The offset it stopped at: the first record not pushed.
    pub next_offset: u64,
    /// Why.
    pub error: super::ErrorBody,
}

impl PushError {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        PushHeader {
            stream: self.stream.clone(),
            partition: self.partition,
            next_offset: self.next_offset,
            batches_len: 0,
        }
        .encode(dst);
        self.error.encode(dst);
    }

    /// Parses the payload of a PUSH flagged `ERROR`.
    pub fn decode(payload: &[u8]) -> Result<PushError, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let stream = r.str16("stream", STREAM_NAME_BYTES_MAX)?.to_owned();
        let partition = r.u32("partition")?;
        let next_offset = r.u64("next_offset")?;
        let batches_len = r.u32("batches_len")?;
        if batches_len != 0 {
            return Err(PayloadError::InvalidValue {
                field: "batches_len",
                value: u64::from(batches_len),
            });
        }
        let error = super::ErrorBody::decode(payload.get(r.position()..).unwrap_or_default())?;
        Ok(PushError {
            stream,
            partition,
            next_offset,
            error,
        })
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod push_error_tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn push_errors_round_trip_and_truncations_are_refused() {
        let e = PushError {
            stream: "orders".into(),
            partition: 3,
            next_offset: 42,
            error: crate::ErrorBody::new(ErrorCode::CorruptData, "checksum mismatch"),
        };
        let mut buf = BytesMut::new();
        e.encode(&mut buf);
        assert_eq!(PushError::decode(&buf), Ok(e));
        for cut in 0..buf.len() {
            assert!(PushError::decode(&buf[..cut]).is_err(), "cut at {cut}");
        }
    }
}
