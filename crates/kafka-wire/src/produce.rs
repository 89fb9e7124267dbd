//! Produce (key 0), v3-v9 (v9 flexible).
//!
//! Request: `transactional_id` (nullable), `acks`, `timeout_ms`, `topic_data [name,
//! partition_data [index, records]]`. The records stay an opaque slice of the request: the
//! front-end validates each batch once and appends it as it came.
//!
//! Response: `responses [name, partition_responses [index, error_code, base_offset,
//! log_append_time_ms, log_start_offset (v5+), record_errors (v8+), error_message (v8+)]]`,
//! `throttle_time_ms`.

use bytes::Bytes;

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// A produce request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProduceRequest {
    /// Set by transactional producers (not supported by this broker).
    pub transactional_id: Option<String>,
    /// 0 (no answer), 1 (the leader wrote it) or -1 (every in-sync replica has it).
    pub acks: i16,
    /// How long the broker may wait for the acks.
    pub timeout_ms: i32,
    /// Batches by topic.
    pub topics: Vec<TopicData>,
}

/// One topic's batches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicData {
    /// Topic name.
    pub name: String,
    /// Batches by partition.
    pub partitions: Vec<PartitionData>,
}

/// One partition's batches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionData {
    /// Partition index.
    pub index: i32,
    /// The record batches as sent (null when absent).
    pub records: Option<Bytes>,
}

/// Decodes a request body of `version`.
pub fn decode(r: &mut Reader, _version: i16) -> Result<ProduceRequest> {
    let transactional_id = r.nullable_string("transactional_id")?;
    let acks = r.i16("acks")?;
    let timeout_ms = r.i32("timeout_ms")?;
    let topics = r.array("topic_data", |r| {
        let name = r.string("topic_data.name")?;
        let partitions = r.array("partition_data", |r| {
            let index = r.i32("partition_data.index")?;
            let records = r.nullable_bytes("partition_data.records")?;
            r.tagged_fields()?;
            Ok(PartitionData { index, records })
        })?;
        r.tagged_fields()?;
        Ok(TopicData { name, partitions })
    })?;
    r.tagged_fields()?;
    r.finish()?;
    Ok(ProduceRequest {
        transactional_id,
        acks,
        timeout_ms,
        topics,
    })
}

/// The outcome for one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionResponse {
    /// Partition index.
    pub index: i32,
    /// Error, or NONE.
    pub error: ErrorCode,
    /// Offset of the first record appended (-1 on error).
    pub base_offset: i64,
    /// -1: the broker keeps the producer's timestamps (CreateTime).
    pub log_append_time_ms: i64,
    /// The partition's first offset (v5+).
    pub log_start_offset: i64,
    /// Why, for humans (v8+).
    pub error_message: Option<String>,
}

/// One topic's outcomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicResponse {
    /// Topic name.
    pub name: String,
    /// Outcomes by partition.
    pub partitions: Vec<PartitionResponse>,
}

/// Encodes the response in `version`.
pub fn encode(w: &mut Writer, version: i16, topics: &[TopicResponse]) {
    w.array(topics, |w, topic| {
        w.string(&topic.name);
        w.array(&topic.partitions, |w, p| {
            w.i32(p.index);
            w.error_code(p.error);
            w.i64(p.base_offset);
            w.i64(p.log_append_time_ms);
            if version >= 5 {
                w.i64(p.log_start_offset);
            }
            if version >= 8 {
                w.array_len(0);
                w.nullable_string(p.error_message.as_deref());
            }
            w.tagged_fields();
        });
        w.tagged_fields();
    });
    w.i32(0);
    w.tagged_fields();
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn v3_request_keeps_the_records_as_sent() {
        let mut b = vec![0xff, 0xff]; // transactional_id: null
        b.extend([0xff, 0xff]); // acks: -1
        b.extend(1500i32.to_be_bytes()); // timeout_ms
        b.extend(1i32.to_be_bytes()); // topic_data: 1
        b.extend([0, 6]);
        b.extend(b"orders"); // name
        b.extend(1i32.to_be_bytes()); // partition_data: 1
        b.extend(2i32.to_be_bytes()); // index
        b.extend(3i32.to_be_bytes());
        b.extend(b"abc"); // records
        let req = decode(&mut Reader::new(Bytes::from(b), false), 3).unwrap();
        assert_eq!((req.acks, req.timeout_ms), (-1, 1500));
        assert_eq!(req.topics[0].name, "orders");
        assert_eq!(req.topics[0].partitions[0].index, 2);
        assert_eq!(
            req.topics[0].partitions[0].records.as_deref(),
            Some(&b"abc"[..])
        );
    }

    #[test]
    fn v9_request_is_compact() {
        let mut b = vec![0]; // transactional_id: null (compact)
        b.extend([0, 1]); // acks 1
        b.extend(30_000i32.to_be_bytes());
        b.push(2); // topic_data: 1
        b.push(2);
        b.push(b't'); // name "t"
        b.push(2); // partition_data: 1
        b.extend(0i32.to_be_bytes());
        b.push(3);
        b.extend(b"xy"); // records
        b.extend([0, 0, 0]); // tagged fields: partition, topic, request
        let req = decode(&mut Reader::new(Bytes::from(b.clone()), true), 9).unwrap();
        assert_eq!(
            req.topics[0].partitions[0].records.as_deref(),
            Some(&b"xy"[..])
        );
        b.pop();
        assert!(decode(&mut Reader::new(Bytes::from(b), true), 9).is_err());
    }

    #[test]
    fn responses_by_version() {
        let topics = [TopicResponse {
            name: "t".into(),
            partitions: vec![PartitionResponse {
                index: 0,
                error: ErrorCode::NONE,
                base_offset: 5,
                log_append_time_ms: -1,
                log_start_offset: 0,
                error_message: None,
            }],
        }];
        let mut w = Writer::new(false);
        encode(&mut w, 3, &topics);
        let v3: Vec<u8> = w.finish().concat();
        let mut want = vec![0, 0, 0, 1, 0, 1, b't', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        want.extend(5i64.to_be_bytes());
        want.extend((-1i64).to_be_bytes());
        want.extend(0i32.to_be_bytes()); // throttle
        assert_eq!(v3, want);
        let mut w = Writer::new(true);
        encode(&mut w, 9, &topics);
        let v9: Vec<u8> = w.finish().concat();
        let mut want = vec![2, 2, b't', 2, 0, 0, 0, 0, 0, 0];
        want.extend(5i64.to_be_bytes());
        want.extend((-1i64).to_be_bytes());
        want.extend(0i64.to_be_bytes()); // log_start_offset
        want.extend([1, 0, 0, 0, 0, 0, 0, 0, 0]); // record_errors, message, tags x2, throttle, tags
        assert_eq!(v9, want);
    }
}
