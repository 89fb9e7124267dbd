//! Fetch (key 1), v4-v12 (v12 flexible).
//!
//! Request: `replica_id`, `max_wait_ms`, `min_bytes`, `max_bytes`, `isolation_level`,
//! `session_id` and `session_epoch` (v7+), `topics [topic, partitions [partition,
//! current_leader_epoch (v9+), fetch_offset, last_fetched_epoch (v12+), log_start_offset
//! (v5+), partition_max_bytes]]`, `forgotten_topics_data` (v7+), `rack_id` (v11+).
//!
//! Response: `throttle_time_ms`, `error_code` and `session_id` (v7+), `responses [topic,
//! partitions [partition_index, error_code, high_watermark, last_stable_offset,
//! log_start_offset (v5+), aborted_transactions, preferred_read_replica (v11+), records]]`.
//! The records are the stored batches, spliced in without a copy. This broker creates no
//! fetch sessions (it answers `session_id` 0, which KIP-227 clients read as "send full
//! requests").

use bytes::Bytes;

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// A fetch request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRequest {
    /// -1 for consumers.
    pub replica_id: i32,
    /// Longest wait for `min_bytes`.
    pub max_wait_ms: i32,
    /// Bytes to wait for.
    pub min_bytes: i32,
    /// Most bytes in the response (the first batch is sent even when larger).
    pub max_bytes: i32,
    /// 0 read_uncommitted, 1 read_committed.
    pub isolation_level: i8,
    /// Fetch session (v7+; 0 = none).
    pub session_id: i32,
    /// Fetch session epoch (v7+; -1 = no session wanted).
    pub session_epoch: i32,
    /// Partitions asked for.
    pub topics: Vec<FetchTopic>,
}

/// One topic's partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchTopic {
    /// Topic name.
    pub topic: String,
    /// Partitions.
    pub partitions: Vec<FetchPartition>,
}

/// One partition's position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPartition {
    /// Partition index.
    pub partition: i32,
    /// The consumer's leader epoch (v9+; -1 = unknown).
    pub current_leader_epoch: i32,
    /// Next offset wanted.
    pub fetch_offset: i64,
    /// Most bytes for this partition (the first batch is sent even when larger).
    pub partition_max_bytes: i32,
}

/// Decodes a request body of `version`.
pub fn decode(r: &mut Reader, version: i16) -> Result<FetchRequest> {
    let replica_id = r.i32("replica_id")?;
    let max_wait_ms = r.i32("max_wait_ms")?;
    let min_bytes = r.i32("min_bytes")?;
    let max_bytes = r.i32("max_bytes")?;
    let isolation_level = r.i8("isolation_level")?;
    let (mut session_id, mut session_epoch) = (0, -1);
    if version >= 7 {
        session_id = r.i32("session_id")?;
        session_epoch = r.i32("session_epoch")?;
    }
    let topics = r.array("topics", |r| {
        let topic = r.string("topics.topic")?;
        let partitions = r.array("partitions", |r| {
            let partition = r.i32("partition")?;
            let current_leader_epoch = if version >= 9 {
                r.i32("current_leader_epoch")?
            } else {
                -1
            };
            let fetch_offset = r.i64("fetch_offset")?;
            if version >= 12 {
                r.i32("last_fetched_epoch")?;
            }
            if version >= 5 {
                r.i64("log_start_offset")?;
            }
            let partition_max_bytes = r.i32("partition_max_bytes")?;
            r.tagged_fields()?;
            Ok(FetchPartition {
                partition,
                current_leader_epoch,
                fetch_offset,
                partition_max_bytes,
            })
        })?;
        r.tagged_fields()?;
        Ok(FetchTopic { topic, partitions })
    })?;
    if version >= 7 {
        r.array("forgotten_topics_data", |r| {
            r.string("forgotten_topics_data.topic")?;
            r.array("forgotten_topics_data.partitions", |r| r.i32("partition"))?;
            r.tagged_fields()
        })?;
    }
    if version >= 11 {
        r.string("rack_id")?;
    }
    r.tagged_fields()?;
    r.finish()?;
    Ok(FetchRequest {
        replica_id,
        max_wait_ms,
        min_bytes,
        max_bytes,
        isolation_level,
        session_id,
        session_epoch,
        topics,
    })
}

/// What one partition returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionData {
    /// Partition index.
    pub partition_index: i32,
    /// Error, or NONE.
    pub error: ErrorCode,
    /// The offset after the last record readable.
    pub high_watermark: i64,
    /// The same as the high watermark (no transactions).
    pub last_stable_offset: i64,
    /// The first offset kept.
    pub log_start_offset: i64,
    /// Whole stored batches, as stored.
    pub records: Vec<Bytes>,
}

/// One topic's partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicData {
    /// Topic name.
    pub topic: String,
    /// Partitions.
    pub partitions: Vec<PartitionData>,
}

/// Encodes the response in `version`.
pub fn encode(w: &mut Writer, version: i16, error: ErrorCode, topics: &[TopicData]) {
    w.i32(0);
    if version >= 7 {
        w.error_code(error);
        w.i32(0);
    }
    w.array(topics, |w, topic| {
        w.string(&topic.topic);
        w.array(&topic.partitions, |w, p| {
            w.i32(p.partition_index);
            w.error_code(p.error);
            w.i64(p.high_watermark);
            w.i64(p.last_stable_offset);
            if version >= 5 {
                w.i64(p.log_start_offset);
            }
            w.null_array();
            if version >= 11 {
                w.i32(-1);
            }
            w.records(&p.records);
            w.tagged_fields();
        });
        w.tagged_fields();
    });
    w.tagged_fields();
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn v4_body() -> Vec<u8> {
        let mut b = vec![];
        b.extend((-1i32).to_be_bytes()); // replica_id
        b.extend(500i32.to_be_bytes()); // max_wait_ms
        b.extend(1i32.to_be_bytes()); // min_bytes
        b.extend(52_428_800i32.to_be_bytes()); // max_bytes
        b.push(0); // isolation_level
        b.extend(1i32.to_be_bytes()); // topics: 1
        b.extend([0, 1, b't']);
        b.extend(1i32.to_be_bytes()); // partitions: 1
        b.extend(3i32.to_be_bytes()); // partition
        b.extend(42i64.to_be_bytes()); // fetch_offset
        b.extend(1_048_576i32.to_be_bytes()); // partition_max_bytes
        b
    }

    #[test]
    fn v4_request() {
        let req = decode(&mut Reader::new(Bytes::from(v4_body()), false), 4).unwrap();
        assert_eq!(
            (req.max_wait_ms, req.min_bytes, req.session_epoch),
            (500, 1, -1)
        );
        let p = &req.topics[0].partitions[0];
        assert_eq!(
            (p.partition, p.fetch_offset, p.partition_max_bytes),
            (3, 42, 1 << 20)
        );
        let mut short = v4_body();
        short.truncate(30);
        assert!(decode(&mut Reader::new(Bytes::from(short), false), 4).is_err());
    }

    #[test]
    fn v12_request_is_compact_with_sessions_and_rack() {
        let mut b = vec![];
        b.extend((-1i32).to_be_bytes());
        b.extend(100i32.to_be_bytes());
        b.extend(1i32.to_be_bytes());
        b.extend(1000i32.to_be_bytes());
        b.push(0);
        b.extend(0i32.to_be_bytes()); // session_id
        b.extend((-1i32).to_be_bytes()); // session_epoch
        b.extend([2, 2, b't', 2]); // topics 1, "t", partitions 1
        b.extend(0i32.to_be_bytes()); // partition
        b.extend(5i32.to_be_bytes()); // current_leader_epoch
        b.extend(7i64.to_be_bytes()); // fetch_offset
        b.extend((-1i32).to_be_bytes()); // last_fetched_epoch
        b.extend((-1i64).to_be_bytes()); // log_start_offset
        b.extend(100i32.to_be_bytes()); // partition_max_bytes
        b.extend([0, 0]); // tags: partition, topic
        b.push(1); // forgotten_topics_data: 0
        b.push(1); // rack_id ""
        b.push(0); // tags
        let req = decode(&mut Reader::new(Bytes::from(b), true), 12).unwrap();
        let p = &req.topics[0].partitions[0];
        assert_eq!((p.current_leader_epoch, p.fetch_offset), (5, 7));
    }

    #[test]
    fn response_splices_the_batches() {
        let batch = Bytes::from_static(b"BATCH");
        let topics = [TopicData {
            topic: "t".into(),
            partitions: vec![PartitionData {
                partition_index: 0,
                error: ErrorCode::NONE,
                high_watermark: 10,
                last_stable_offset: 10,
                log_start_offset: 0,
                records: vec![batch.clone()],
            }],
        }];
        let mut w = Writer::new(false);
        encode(&mut w, 4, ErrorCode::NONE, &topics);
        let chain = w.finish();
        assert!(chain.iter().any(|c| c.as_ptr() == batch.as_ptr()));
        let bytes: Vec<u8> = chain.concat();
        let mut want = vec![
            0, 0, 0, 0, 0, 0, 0, 1, 0, 1, b't', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
        ];
        want.extend(10i64.to_be_bytes());
        want.extend(10i64.to_be_bytes());
        want.extend((-1i32).to_be_bytes()); // aborted_transactions: null
        want.extend(5i32.to_be_bytes());
        want.extend(b"BATCH");
        assert_eq!(bytes, want);
    }
}
