//! ListOffsets (key 2), v1-v6 (v6 flexible; v7, which adds the max-timestamp query -3, is
//! not implemented).
//!
//! Request: `replica_id`, `isolation_level` (v2+), `topics [name, partitions
//! [partition_index, current_leader_epoch (v4+), timestamp]]`. The timestamp is -1 for the
//! latest offset, -2 for the earliest, -3 for the record with the largest timestamp (v7),
//! else the first offset whose record has a timestamp at or after it.
//!
//! Response: `throttle_time_ms` (v2+), `topics [name, partitions [partition_index,
//! error_code, timestamp, offset, leader_epoch (v4+)]]`.

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// Latest offset (the high watermark).
pub const LATEST: i64 = -1;
/// Earliest offset kept.
pub const EARLIEST: i64 = -2;
/// The record with the largest timestamp (v7+).
pub const MAX_TIMESTAMP: i64 = -3;

/// A request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOffsetsRequest {
    /// -1 for consumers.
    pub replica_id: i32,
    /// 0 read_uncommitted, 1 read_committed (v2+).
    pub isolation_level: i8,
    /// Partitions asked for.
    pub topics: Vec<ListOffsetsTopic>,
}

/// One topic's partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListOffsetsTopic {
    /// Topic name.
    pub name: String,
    /// (partition index, timestamp) pairs.
    pub partitions: Vec<(i32, i64)>,
}

/// Decodes a request body of `version`.
pub fn decode(r: &mut Reader, version: i16) -> Result<ListOffsetsRequest> {
    let replica_id = r.i32("replica_id")?;
    let isolation_level = if version >= 2 {
        r.i8("isolation_level")?
    } else {
        0
    };
    let topics = r.array("topics", |r| {
        let name = r.string("topics.name")?;
        let partitions = r.array("partitions", |r| {
            let index = r.i32("partition_index")?;
            if version >= 4 {
                r.i32("current_leader_epoch")?;
            }
            let timestamp = r.i64("timestamp")?;
            r.tagged_fields()?;
            Ok((index, timestamp))
        })?;
        r.tagged_fields()?;
        Ok(ListOffsetsTopic { name, partitions })
    })?;
    r.tagged_fields()?;
    r.finish()?;
    Ok(ListOffsetsRequest {
        replica_id,
        isolation_level,
        topics,
    })
}

/// One partition's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionOffset {
    /// Partition index.
    pub index: i32,
    /// Error, or NONE.
    pub error: ErrorCode,
    /// The found record's timestamp (-1 when none or for -1/-2).
    pub timestamp: i64,
    /// The offset found (-1 when none).
    pub offset: i64,
}

/// One topic's answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicOffsets {
    /// Topic name.
    pub name: String,
    /// Partitions.
    pub partitions: Vec<PartitionOffset>,
}

/// Encodes the response in `version`.
pub fn encode(w: &mut Writer, version: i16, topics: &[TopicOffsets]) {
    if version >= 2 {
        w.i32(0);
    }
    w.array(topics, |w, t| {
        w.string(&t.name);
        w.array(&t.partitions, |w, p| {
            w.i32(p.index);
            w.error_code(p.error);
            w.i64(p.timestamp);
            w.i64(p.offset);
            if version >= 4 {
                w.i32(0);
            }
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
    use bytes::Bytes;

    #[test]
    fn v1_request_and_response() {
        let mut b = vec![];
        b.extend((-1i32).to_be_bytes()); // replica_id
        b.extend([0, 0, 0, 1, 0, 1, b't']); // topics 1, "t"
        b.extend([0, 0, 0, 1, 0, 0, 0, 2]); // partitions 1, index 2
        b.extend(EARLIEST.to_be_bytes());
        let req = decode(&mut Reader::new(Bytes::from(b), false), 1).unwrap();
        assert_eq!(req.topics[0].partitions, vec![(2, EARLIEST)]);
        let mut w = Writer::new(false);
        let topics = [TopicOffsets {
            name: "t".into(),
            partitions: vec![PartitionOffset {
                index: 2,
                error: ErrorCode::NONE,
                timestamp: -1,
                offset: 0,
            }],
        }];
        encode(&mut w, 1, &topics);
        let got: Vec<u8> = w.finish().concat();
        let mut want = vec![0, 0, 0, 1, 0, 1, b't', 0, 0, 0, 1, 0, 0, 0, 2, 0, 0];
        want.extend((-1i64).to_be_bytes());
        want.extend(0i64.to_be_bytes());
        assert_eq!(got, want);
    }

    #[test]
    fn v6_request_is_compact() {
        let mut b = vec![];
        b.extend((-1i32).to_be_bytes());
        b.push(1); // isolation_level
        b.extend([2, 2, b't', 2]); // topics 1, "t", partitions 1
        b.extend(0i32.to_be_bytes());
        b.extend((-1i32).to_be_bytes()); // current_leader_epoch
        b.extend(1_700_000_000_000i64.to_be_bytes());
        b.extend([0, 0, 0]);
        let req = decode(&mut Reader::new(Bytes::from(b.clone()), true), 6).unwrap();
        assert_eq!(req.isolation_level, 1);
        assert_eq!(req.topics[0].partitions, vec![(0, 1_700_000_000_000)]);
        b.truncate(b.len() - 4);
        assert!(decode(&mut Reader::new(Bytes::from(b), true), 6).is_err());
    }
}
