//! PRODUCE: append record batches to a stream's partitions.
//!
//! ```text
//! request:  str16 stream, u8 acks, u16 batch_count,
//!           batch_count x (u8 selector, u32 partition, u32 batch_len, batch bytes)
//! response: u16 count, count x (u32 partition, u16 error_code, u64 base_offset, u8 durability)
//! ```
//!
//! `selector`: 0 = the given partition, 1 = by key (the partitioner hash of the batch's first
//! record key; see [`partition_for_key`](crate::partition_for_key)), 2 = round-robin (the
//! `partition` field is ignored for 1 and 2). With `acks = none` the server sends no response.
//! `durability` is what the server actually reached: a producer asking `durable` on a memory
//! stream learns it got `written`.

use bytes::{BufMut, Bytes, BytesMut};

use super::reader::{put_str16, PayloadReader};
use super::stream::STREAM_NAME_BYTES_MAX;
use crate::error::PayloadError;

/// How far an append must get before the producer is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Acks {
    /// No response at all.
    None = 0,
    /// In the partition log (memory, page cache).
    Written = 1,
    /// Fsynced to disk.
    Durable = 2,
}

impl Acks {
    fn from_u8(v: u8) -> Option<Acks> {
        Some(match v {
            0 => Acks::None,
            1 => Acks::Written,
            2 => Acks::Durable,
            _ => return None,
        })
    }
}

/// Which partition a batch goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PartitionSelector {
    /// This partition.
    Explicit(u32),
    /// The partitioner hash of the first record's key (no key: round-robin).
    Key,
    /// The server rotates over the partitions.
    RoundRobin,
}

/// One batch of a PRODUCE request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProduceBatch {
    /// Target partition.
    pub selector: PartitionSelector,
    /// The record batch, as built by [`BatchBuilder`](crate::batch::BatchBuilder).
    pub batch: Bytes,
}

/// PRODUCE request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProduceRequest {
    /// Target stream.
    pub stream: String,
    /// Acknowledgement level asked for.
    pub acks: Acks,
    /// Batches, answered in the same order.
    pub batches: Vec<ProduceBatch>,
}

impl ProduceRequest {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        self.encode_head(dst);
        if let Some(last) = self.batches.last() {
            dst.put_slice(&last.batch);
        }
    }

    /// Appends the encoded payload except the last batch's bytes, which belong right after
    /// it: a client can send that batch from its own buffer (as a frame's payload tail)
    /// instead of copying it.
    pub fn encode_head(&self, dst: &mut BytesMut) {
        put_str16(dst, &self.stream);
        dst.put_u8(self.acks as u8);
        dst.put_u16_le(self.batches.len() as u16);
        for (i, b) in self.batches.iter().enumerate() {
            let (mode, partition) = match b.selector {
                PartitionSelector::Explicit(p) => (0u8, p),
                PartitionSelector::Key => (1, 0),
                PartitionSelector::RoundRobin => (2, 0),
            };
            dst.put_u8(mode);
            dst.put_u32_le(partition);
            dst.put_u32_le(b.batch.len() as u32);
            if i.saturating_add(1) < self.batches.len() {
                dst.put_slice(&b.batch);
            }
        }
    }

    /// Parses a payload; batches are zero-copy slices of `payload`. Their contents are not
    /// checked here (the broker verifies each batch once).
    pub fn decode(payload: &Bytes) -> Result<ProduceRequest, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let stream = r.str16("stream", STREAM_NAME_BYTES_MAX)?.to_owned();
        let acks_raw = r.u8("acks")?;
        let acks = Acks::from_u8(acks_raw).ok_or(PayloadError::InvalidValue {
            field: "acks",
            value: u64::from(acks_raw),
        })?;
        let count = r.u16("batch_count")?;
        let mut batches = Vec::with_capacity(usize::from(count).min(64));
        for _ in 0..count {
            let mode = r.u8("selector")?;
            let partition = r.u32("partition")?;
            let selector = match mode {
                0 => PartitionSelector::Explicit(partition),
                1 => PartitionSelector::Key,
                2 => PartitionSelector::RoundRobin,
                v => {
                    return Err(PayloadError::InvalidValue {
                        field: "selector",
                        value: u64::from(v),
                    })
                }
            };
            let len = r.u32("batch_len")? as usize;
            let start = r.position();
            r.skip(len, "batch")?;
            batches.push(ProduceBatch {
                selector,
                batch: payload.slice(start..start.saturating_add(len)),
            });
        }
        r.finish()?;
        Ok(ProduceRequest {
            stream,
            acks,
            batches,
        })
    }
}

/// Durability reached by an append.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Durability {
    /// Not appended (the result carries an error).
    None = 0,
    /// In the log: RAM, and the page cache for disk streams.
    Written = 1,
    /// Fsynced to disk.
    Durable = 2,
}

/// The outcome of one batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProduceResult {
    /// The partition the batch went to (or was meant for).
    pub partition: u32,
    /// 0 on success, else an [`ErrorCode`](crate::ErrorCode) number.
    pub error_code: u16,
    /// Offset of the batch's first record.
    pub base_offset: u64,
    /// What was reached.
    pub durability: Durability,
}

/// INIT_PRODUCER response: an idempotent producer id the server will never hand out again,
/// and the epoch to start at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InitProducer {
    /// At least 0.
    pub producer_id: i64,
    /// 0 for a new id.
    pub producer_epoch: i16,
}

impl InitProducer {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        dst.put_i64_le(self.producer_id);
        dst.put_i16_le(self.producer_epoch);
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<InitProducer, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let producer_id = r.u64("producer_id")? as i64;
        let producer_epoch = r.u16("producer_epoch")? as i16;
        r.finish()?;
        if producer_id < 0 || producer_epoch < 0 {
            return Err(PayloadError::InvalidValue {
                field: "producer_id",
                value: producer_id as u64,
            });
        }
        Ok(InitProducer {
            producer_id,
            producer_epoch,
        })
    }
}

/// PRODUCE response.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProduceResponse {
    /// One result per request batch, in order.
    pub results: Vec<ProduceResult>,
}

impl ProduceResponse {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        dst.put_u16_le(self.results.len() as u16);
        for r in &self.results {
            dst.put_u32_le(r.partition);
            dst.put_u16_le(r.error_code);
            dst.put_u64_le(r.base_offset);
            dst.put_u8(r.durability as u8);
        }
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<ProduceResponse, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let count = r.u16("result_count")?;
        let mut results = Vec::new();
        for _ in 0..count {
            let partition = r.u32("partition")?;
            let error_code = r.u16("error_code")?;
            let base_offset = r.u64("base_offset")?;
            let durability = match r.u8("durability")? {
                0 => Durability::None,
                1 => Durability::Written,
                2 => Durability::Durable,
                v => {
                    return Err(PayloadError::InvalidValue {
                        field: "durability",
                        value: u64::from(v),
                    })
                }
            };
            results.push(ProduceResult {
                partition,
                error_code,
                base_offset,
                durability,
            });
        }
        r.finish()?;
        Ok(ProduceResponse { results })
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_zero_copy_slices() {
        let req = ProduceRequest {
            stream: "orders".into(),
            acks: Acks::Durable,
            batches: vec![
                ProduceBatch {
                    selector: PartitionSelector::Explicit(3),
                    batch: Bytes::from_static(b"first batch"),
                },
                ProduceBatch {
                    selector: PartitionSelector::Key,
                    batch: Bytes::from_static(b"2nd"),
                },
            ],
        };
        let mut buf = BytesMut::new();
        req.encode(&mut buf);
        let payload = buf.freeze();
        let decoded = ProduceRequest::decode(&payload).unwrap();
        assert_eq!(decoded, req);
        // The batch is a view into the payload, not a copy.
        let start = decoded.batches[0].batch.as_ptr() as usize - payload.as_ptr() as usize;
        assert!(start < payload.len());
        for cut in 0..payload.len() {
            assert!(ProduceRequest::decode(&payload.slice(..cut)).is_err());
        }
        // The head and the last batch are the whole payload.
        let mut head = BytesMut::new();
        req.encode_head(&mut head);
        head.put_slice(b"2nd");
        assert_eq!(head.freeze(), payload);
        let resp = ProduceResponse {
            results: vec![ProduceResult {
                partition: 1,
                error_code: 0,
                base_offset: 77,
                durability: Durability::Written,
            }],
        };
        let mut buf = BytesMut::new();
        resp.encode(&mut buf);
        assert_eq!(ProduceResponse::decode(&buf).unwrap(), resp);
    }
}
