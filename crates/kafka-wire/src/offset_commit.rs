//! OffsetCommit (key 8), v2-v8.
//!
//! Request: `group_id`, `generation_id`, `member_id`, `group_instance_id` (v7+, nullable),
//! `retention_time_ms` (v2-v4 only), `topics [name, partitions [partition_index,
//! committed_offset, committed_leader_epoch (v6+), committed_metadata (nullable)]]`. v8 is the
//! first flexible version. (v0 and v1, deprecated, are not implemented: v0 has no group
//! membership and v1 a per-partition commit timestamp.)
//!
//! Response: `throttle_time_ms` (v3+), `topics [name, partitions [partition_index,
//! error_code]]`.

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// One partition's commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitPartition {
    /// The partition.
    pub partition_index: i32,
    /// The offset committed (the next to consume).
    pub committed_offset: i64,
    /// The leader epoch of the record before that offset (v6+; -1 when unknown).
    pub committed_leader_epoch: i32,
    /// The client's metadata for the commit; null is a valid value.
    pub committed_metadata: Option<String>,
}

/// One topic's commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitTopic {
    /// The topic.
    pub name: String,
    /// Its partitions.
    pub partitions: Vec<CommitPartition>,
}

/// The request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetCommitRequest {
    /// The group.
    pub group_id: String,
    /// The member's generation (-1 for a commit from outside the group).
    pub generation_id: i32,
    /// The member's id (empty for a commit from outside the group).
    pub member_id: String,
    /// The static member's instance id (v7+).
    pub group_instance_id: Option<String>,
    /// How long to keep the offsets, in milliseconds (v2-v4; -1 for the broker's setting,
    /// as in every later version).
    pub retention_time_ms: i64,
    /// The offsets to commit.
    pub topics: Vec<CommitTopic>,
}

/// Decodes the body of `version`.
pub fn decode(r: &mut Reader, version: i16) -> Result<OffsetCommitRequest> {
    let group_id = r.string("group_id")?;
    let generation_id = r.i32("generation_id")?;
    let member_id = r.string("member_id")?;
    let group_instance_id = if version >= 7 {
        r.nullable_string("group_instance_id")?
    } else {
        None
    };
    let retention_time_ms = if (2..=4).contains(&version) {
        r.i64("retention_time_ms")?
    } else {
        -1
    };
    let topics = r.array("topics", |r| {
        let name = r.string("topics.name")?;
        let partitions = r.array("partitions", |r| {
            let partition_index = r.i32("partition_index")?;
            let committed_offset = r.i64("committed_offset")?;
            let committed_leader_epoch = if version >= 6 {
                r.i32("committed_leader_epoch")?
            } else {
                -1
            };
            let committed_metadata = r.nullable_string("committed_metadata")?;
            r.tagged_fields()?;
            Ok(CommitPartition {
                partition_index,
                committed_offset,
                committed_leader_epoch,
                committed_metadata,
            })
        })?;
        r.tagged_fields()?;
        Ok(CommitTopic { name, partitions })
    })?;
    r.tagged_fields()?;
    r.finish()?;
    Ok(OffsetCommitRequest {
        group_id,
        generation_id,
        member_id,
        group_instance_id,
        retention_time_ms,
        topics,
    })
}

/// One partition's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitPartitionResult {
    /// The partition.
    pub partition_index: i32,
    /// The error, or [`ErrorCode::NONE`].
    pub error_code: ErrorCode,
}

/// One topic's outcomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitTopicResult {
    /// The topic.
    pub name: String,
    /// Its partitions.
    pub partitions: Vec<CommitPartitionResult>,
}

/// The response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetCommitResponse {
    /// Time throttled, in milliseconds (v3+).
    pub throttle_time_ms: i32,
    /// One outcome per partition of the request.
    pub topics: Vec<CommitTopicResult>,
}

/// Encodes the response in `version`.
pub fn encode(w: &mut Writer, version: i16, resp: &OffsetCommitResponse) {
    if version >= 3 {
        w.i32(resp.throttle_time_ms);
    }
    w.array(&resp.topics, |w, t| {
        w.string(&t.name);
        w.array(&t.partitions, |w, p| {
            w.i32(p.partition_index);
            w.error_code(p.error_code);
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
    use crate::api::{self, key};
    use crate::codec::DecodeError;
    use bytes::Bytes;

    fn flexible(version: i16) -> bool {
        api::spec(key::OFFSET_COMMIT).unwrap().is_flexible(version)
    }

    fn decode_body(body: &[u8], version: i16) -> Result<OffsetCommitRequest> {
        let mut r = Reader::new(Bytes::copy_from_slice(body), flexible(version));
        decode(&mut r, version)
    }

    fn encode_body(version: i16, resp: &OffsetCommitResponse) -> Vec<u8> {
        let mut w = Writer::new(flexible(version));
        encode(&mut w, version, resp);
        w.finish().concat()
    }

    fn v2_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[0, 1],
            b"g",          // group_id: STRING "g"
            &[0, 0, 0, 2], // generation_id: INT32 2
            &[0, 2],
            b"m1",                                             // member_id: STRING "m1"
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // retention_time_ms: INT64 -1
            &[0, 0, 0, 1],                                     // topics: ARRAY of 1
            &[0, 1],
            b"t",                       // name: STRING "t"
            &[0, 0, 0, 2],              // partitions: ARRAY of 2
            &[0, 0, 0, 0],              // partition_index: INT32 0
            &[0, 0, 0, 0, 0, 0, 0, 42], // committed_offset: INT64 42
            &[0, 2],
            b"md",                     // committed_metadata: NULLABLE_STRING "md"
            &[0, 0, 0, 1],             // partition_index: INT32 1
            &[0, 0, 0, 0, 0, 0, 1, 0], // committed_offset: INT64 256
            &[0xff, 0xff],             // committed_metadata: NULLABLE_STRING null
        ];
        parts.concat()
    }

    fn v6_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[0, 1],
            b"g",                      // group_id: STRING "g"
            &[0xff, 0xff, 0xff, 0xff], // generation_id: INT32 -1
            &[0, 0],                   // member_id: STRING ""
            &[0, 0, 0, 1],             // topics: ARRAY of 1
            &[0, 1],
            b"t",                      // name: STRING "t"
            &[0, 0, 0, 1],             // partitions: ARRAY of 1
            &[0, 0, 0, 3],             // partition_index: INT32 3
            &[0, 0, 0, 0, 0, 0, 0, 9], // committed_offset: INT64 9
            &[0, 0, 0, 5],             // committed_leader_epoch: INT32 5
            &[0, 0],                   // committed_metadata: NULLABLE_STRING ""
        ];
        parts.concat()
    }

    fn v8_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[2],
            b"g",          // group_id: COMPACT_STRING "g"
            &[0, 0, 0, 2], // generation_id: INT32 2
            &[3],
            b"m1", // member_id: COMPACT_STRING "m1"
            &[3],
            b"i1", // group_instance_id: COMPACT_NULLABLE_STRING "i1"
            &[2],  // topics: COMPACT_ARRAY of 1
            &[2],
            b"t",                      // name: COMPACT_STRING "t"
            &[2],                      // partitions: COMPACT_ARRAY of 1
            &[0, 0, 0, 0],             // partition_index: INT32 0
            &[0, 0, 0, 0, 0, 0, 0, 7], // committed_offset: INT64 7
            &[0xff, 0xff, 0xff, 0xff], // committed_leader_epoch: INT32 -1
            &[0],                      // committed_metadata: COMPACT_NULLABLE_STRING null
            &[0],                      // tagged fields: none
            &[0],                      // tagged fields: none
            &[0],                      // tagged fields: none
        ];
        parts.concat()
    }

    fn committed(partitions: &[(i32, ErrorCode)]) -> OffsetCommitResponse {
        OffsetCommitResponse {
            throttle_time_ms: 1,
            topics: vec![CommitTopicResult {
                name: "t".into(),
                partitions: partitions
                    .iter()
                    .map(|&(partition_index, error_code)| CommitPartitionResult {
                        partition_index,
                        error_code,
                    })
                    .collect(),
            }],
        }
    }

    #[test]
    fn v2_request_and_response() {
        let req = decode_body(&v2_request(), 2).unwrap();
        assert_eq!((req.group_id.as_str(), req.generation_id), ("g", 2));
        assert_eq!(req.member_id, "m1");
        assert_eq!(req.retention_time_ms, -1);
        assert_eq!(req.topics.len(), 1);
        assert_eq!(req.topics[0].name, "t");
        assert_eq!(
            req.topics[0].partitions,
            [
                CommitPartition {
                    partition_index: 0,
                    committed_offset: 42,
                    committed_leader_epoch: -1,
                    committed_metadata: Some("md".into()),
                },
                CommitPartition {
                    partition_index: 1,
                    committed_offset: 256,
                    committed_leader_epoch: -1,
                    committed_metadata: None,
                },
            ]
        );
        let resp = committed(&[
            (0, ErrorCode::NONE),
            (1, ErrorCode::OFFSET_METADATA_TOO_LARGE),
        ]);
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 1], // topics: ARRAY of 1
            &[0, 1],
            b"t",          // name: STRING "t"
            &[0, 0, 0, 2], // partitions: ARRAY of 2
            &[0, 0, 0, 0], // partition_index: INT32 0
            &[0, 0],       // error_code: INT16 0
            &[0, 0, 0, 1], // partition_index: INT32 1
            &[0, 12],      // error_code: INT16 12
        ];
        assert_eq!(encode_body(2, &resp), expected.concat());
    }

    #[test]
    fn v6_request_and_response() {
        let req = decode_body(&v6_request(), 6).unwrap();
        assert_eq!((req.generation_id, req.member_id.as_str()), (-1, ""));
        assert_eq!(req.retention_time_ms, -1);
        assert_eq!(req.group_instance_id, None);
        let p = &req.topics[0].partitions[0];
        assert_eq!((p.partition_index, p.committed_offset), (3, 9));
        assert_eq!(p.committed_leader_epoch, 5);
        assert_eq!(p.committed_metadata.as_deref(), Some(""));
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 1], // throttle_time_ms: INT32 1
            &[0, 0, 0, 1], // topics: ARRAY of 1
            &[0, 1],
            b"t",          // name: STRING "t"
            &[0, 0, 0, 1], // partitions: ARRAY of 1
            &[0, 0, 0, 3], // partition_index: INT32 3
            &[0, 0],       // error_code: INT16 0
        ];
        assert_eq!(
            encode_body(6, &committed(&[(3, ErrorCode::NONE)])),
            expected.concat()
        );
    }

    #[test]
    fn v8_request_and_response() {
        let req = decode_body(&v8_request(), 8).unwrap();
        assert_eq!(req.member_id, "m1");
        assert_eq!(req.group_instance_id.as_deref(), Some("i1"));
        let p = &req.topics[0].partitions[0];
        assert_eq!((p.committed_offset, p.committed_leader_epoch), (7, -1));
        assert_eq!(p.committed_metadata, None);
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 1], // throttle_time_ms: INT32 1
            &[2],          // topics: COMPACT_ARRAY of 1
            &[2],
            b"t",          // name: COMPACT_STRING "t"
            &[2],          // partitions: COMPACT_ARRAY of 1
            &[0, 0, 0, 0], // partition_index: INT32 0
            &[0, 25],      // error_code: INT16 25
            &[0],          // tagged fields: none
            &[0],          // tagged fields: none
            &[0],          // tagged fields: none
        ];
        assert_eq!(
            encode_body(8, &committed(&[(0, ErrorCode::UNKNOWN_MEMBER_ID)])),
            expected.concat()
        );
    }

    #[test]
    fn truncated_or_trailing_requests_are_errors() {
        for (version, body) in [(2, v2_request()), (6, v6_request()), (8, v8_request())] {
            for len in 0..body.len() {
                assert!(
                    decode_body(&body[..len], version).is_err(),
                    "v{version} {len}"
                );
            }
            let mut long = body.clone();
            long.push(0);
            assert_eq!(
                decode_body(&long, version),
                Err(DecodeError::Trailing { left: 1 })
            );
        }
    }
}
