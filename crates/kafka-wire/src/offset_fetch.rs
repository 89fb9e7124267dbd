//! OffsetFetch (key 9), v1-v8.
//!
//! Request, v1-v7: `group_id`, `topics [name, partition_indexes [INT32]]` (nullable from v2:
//! null asks for every topic the group has offsets for), `require_stable` (v7+). v8 asks for
//! many groups at once: `groups [group_id, topics (nullable)]`, `require_stable`. v6 is the
//! first flexible version. [`OffsetFetchRequest::groups`] holds the group(s) whatever the
//! version. (v0 read offsets from ZooKeeper and is not implemented.)
//!
//! Response, v1-v7: `throttle_time_ms` (v3+), `topics [name, partitions [partition_index,
//! committed_offset, committed_leader_epoch (v5+), metadata (nullable), error_code]]`,
//! `error_code` (v2+, the group's). v8: `throttle_time_ms`, `groups [group_id, topics,
//! error_code]`, the partitions as in v7 with the leader epoch.

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// The partitions asked for in one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetFetchTopic {
    /// The topic.
    pub name: String,
    /// Its partitions.
    pub partition_indexes: Vec<i32>,
}

/// One group's offsets asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetFetchGroup {
    /// The group.
    pub group_id: String,
    /// The topics, or `None` for every topic the group committed offsets for (v2+).
    pub topics: Option<Vec<OffsetFetchTopic>>,
}

/// The request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetFetchRequest {
    /// The groups: exactly one before v8.
    pub groups: Vec<OffsetFetchGroup>,
    /// v7+: answer UNSTABLE_OFFSET_COMMIT for partitions with a pending transactional commit
    /// instead of the last stable offset.
    pub require_stable: bool,
}

fn topic(r: &mut Reader) -> Result<OffsetFetchTopic> {
    let name = r.string("topics.name")?;
    let partition_indexes = r.array("partition_indexes", |r| r.i32("partition_indexes"))?;
    r.tagged_fields()?;
    Ok(OffsetFetchTopic {
        name,
        partition_indexes,
    })
}

/// Decodes the body of `version`.
pub fn decode(r: &mut Reader, version: i16) -> Result<OffsetFetchRequest> {
    let groups = if version <= 7 {
        let group_id = r.string("group_id")?;
        let topics = if version <= 1 {
            Some(r.array("topics", topic)?)
        } else {
            r.nullable_array("topics", topic)?
        };
        vec![OffsetFetchGroup { group_id, topics }]
    } else {
        r.array("groups", |r| {
            let group_id = r.string("groups.group_id")?;
            let topics = r.nullable_array("groups.topics", topic)?;
            r.tagged_fields()?;
            Ok(OffsetFetchGroup { group_id, topics })
        })?
    };
    let require_stable = if version >= 7 {
        r.bool("require_stable")?
    } else {
        false
    };
    r.tagged_fields()?;
    r.finish()?;
    Ok(OffsetFetchRequest {
        groups,
        require_stable,
    })
}

/// One partition's committed offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetFetchPartition {
    /// The partition.
    pub partition_index: i32,
    /// The offset committed, or -1 for none.
    pub committed_offset: i64,
    /// Its leader epoch, or -1 (written from v5).
    pub committed_leader_epoch: i32,
    /// The metadata committed with it.
    pub metadata: Option<String>,
    /// The error, or [`ErrorCode::NONE`].
    pub error_code: ErrorCode,
}

/// One topic's committed offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OffsetFetchTopicResult {
    /// The topic.
    pub name: String,
    /// Its partitions.
    pub partitions: Vec<OffsetFetchPartition>,
}

/// One group's committed offsets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetFetchGroupResult {
    /// The group (written from v8).
    pub group_id: String,
    /// Its topics.
    pub topics: Vec<OffsetFetchTopicResult>,
    /// The group's error, or [`ErrorCode::NONE`]. v1 has no field for it: there it is
    /// written into each partition whose own error is NONE, so a group error in v1 should
    /// come with the partitions asked for (as Kafka answers).
    pub error_code: ErrorCode,
}

/// The response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetFetchResponse {
    /// Time throttled, in milliseconds (v3+).
    pub throttle_time_ms: i32,
    /// One answer per group of the request. Versions before v8 answer for one group: the
    /// first (none writes an empty answer).
    pub groups: Vec<OffsetFetchGroupResult>,
}

fn topics(w: &mut Writer, version: i16, group: &OffsetFetchGroupResult) {
    w.array(&group.topics, |w, t| {
        w.string(&t.name);
        w.array(&t.partitions, |w, p| {
            w.i32(p.partition_index);
            w.i64(p.committed_offset);
            if version >= 5 {
                w.i32(p.committed_leader_epoch);
            }
            w.nullable_string(p.metadata.as_deref());
            let error = if version <= 1 && p.error_code == ErrorCode::NONE {
                group.error_code
            } else {
                p.error_code
            };
            w.error_code(error);
            w.tagged_fields();
        });
        w.tagged_fields();
    });
}

/// Encodes the response in `version`.
pub fn encode(w: &mut Writer, version: i16, resp: &OffsetFetchResponse) {
    if version >= 3 {
        w.i32(resp.throttle_time_ms);
    }
    if version >= 8 {
        w.array(&resp.groups, |w, g| {
            w.string(&g.group_id);
            topics(w, version, g);
            w.error_code(g.error_code);
            w.tagged_fields();
        });
    } else {
        let empty = OffsetFetchGroupResult::default();
        let group = resp.groups.first().unwrap_or(&empty);
        topics(w, version, group);
        if version >= 2 {
            w.error_code(group.error_code);
        }
    }
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
        api::spec(key::OFFSET_FETCH).unwrap().is_flexible(version)
    }

    fn decode_body(body: &[u8], version: i16) -> Result<OffsetFetchRequest> {
        let mut r = Reader::new(Bytes::copy_from_slice(body), flexible(version));
        decode(&mut r, version)
    }

    fn encode_body(version: i16, resp: &OffsetFetchResponse) -> Vec<u8> {
        let mut w = Writer::new(flexible(version));
        encode(&mut w, version, resp);
        w.finish().concat()
    }

    fn v1_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[0, 1],
            b"g",          // group_id: STRING "g"
            &[0, 0, 0, 1], // topics: ARRAY of 1
            &[0, 1],
            b"t",          // name: STRING "t"
            &[0, 0, 0, 2], // partition_indexes: ARRAY of 2
            &[0, 0, 0, 0], // INT32 0
            &[0, 0, 0, 1], // INT32 1
        ];
        parts.concat()
    }

    fn v5_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[0, 1],
            b"g",                      // group_id: STRING "g"
            &[0xff, 0xff, 0xff, 0xff], // topics: ARRAY null (all topics)
        ];
        parts.concat()
    }

    fn v7_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[2],
            b"g", // group_id: COMPACT_STRING "g"
            &[2], // topics: COMPACT_ARRAY of 1
            &[2],
            b"t",          // name: COMPACT_STRING "t"
            &[2],          // partition_indexes: COMPACT_ARRAY of 1
            &[0, 0, 0, 2], // INT32 2
            &[0],          // tagged fields: none
            &[1],          // require_stable: BOOLEAN true
            &[0],          // tagged fields: none
        ];
        parts.concat()
    }

    fn v8_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[3], // groups: COMPACT_ARRAY of 2
            &[3],
            b"g1", // group_id: COMPACT_STRING "g1"
            &[0],  // topics: COMPACT_ARRAY null (all topics)
            &[0],  // tagged fields: none
            &[3],
            b"g2", // group_id: COMPACT_STRING "g2"
            &[2],  // topics: COMPACT_ARRAY of 1
            &[2],
            b"t",          // name: COMPACT_STRING "t"
            &[2],          // partition_indexes: COMPACT_ARRAY of 1
            &[0, 0, 0, 0], // INT32 0
            &[0],          // tagged fields: none
            &[0],          // tagged fields: none
            &[0],          // require_stable: BOOLEAN false
            &[0],          // tagged fields: none
        ];
        parts.concat()
    }

    fn partition(index: i32, offset: i64, metadata: Option<&str>) -> OffsetFetchPartition {
        OffsetFetchPartition {
            partition_index: index,
            committed_offset: offset,
            committed_leader_epoch: 3,
            metadata: metadata.map(str::to_owned),
            error_code: ErrorCode::NONE,
        }
    }

    fn one_group(group_id: &str, partitions: Vec<OffsetFetchPartition>) -> OffsetFetchGroupResult {
        OffsetFetchGroupResult {
            group_id: group_id.into(),
            topics: vec![OffsetFetchTopicResult {
                name: "t".into(),
                partitions,
            }],
            error_code: ErrorCode::NONE,
        }
    }

    #[test]
    fn v1_request_and_response() {
        let req = decode_body(&v1_request(), 1).unwrap();
        assert!(!req.require_stable);
        assert_eq!(
            req.groups,
            [OffsetFetchGroup {
                group_id: "g".into(),
                topics: Some(vec![OffsetFetchTopic {
                    name: "t".into(),
                    partition_indexes: vec![0, 1],
                }]),
            }]
        );
        let unknown = OffsetFetchPartition {
            error_code: ErrorCode::UNKNOWN_TOPIC_OR_PARTITION,
            ..partition(1, -1, None)
        };
        let mut resp = OffsetFetchResponse {
            throttle_time_ms: 9,
            groups: vec![one_group("g", vec![partition(0, 42, Some("")), unknown])],
        };
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 1], // topics: ARRAY of 1
            &[0, 1],
            b"t",                       // name: STRING "t"
            &[0, 0, 0, 2],              // partitions: ARRAY of 2
            &[0, 0, 0, 0],              // partition_index: INT32 0
            &[0, 0, 0, 0, 0, 0, 0, 42], // committed_offset: INT64 42
            &[0, 0],                    // metadata: NULLABLE_STRING ""
            &[0, 0],                    // error_code: INT16 0
            &[0, 0, 0, 1],              // partition_index: INT32 1
            &[0xff; 8],                 // committed_offset: INT64 -1
            &[0xff, 0xff],              // metadata: NULLABLE_STRING null
            &[0, 3],                    // error_code: INT16 3
        ];
        let expected = expected.concat();
        assert_eq!(encode_body(1, &resp), expected);
        // No group-level field in v1: the group's error goes into the partitions without one.
        resp.groups[0].error_code = ErrorCode::NOT_COORDINATOR;
        let mut with_group_error = expected.clone();
        with_group_error[26] = 16; // the first partition's error_code, low byte
        assert_eq!(encode_body(1, &resp), with_group_error);
    }

    #[test]
    fn v1_topics_may_not_be_null() {
        assert_eq!(
            decode_body(&v5_request(), 1),
            Err(DecodeError::Null { field: "topics" })
        );
    }

    #[test]
    fn v5_request_and_response() {
        let req = decode_body(&v5_request(), 5).unwrap();
        assert_eq!(req.groups.len(), 1);
        assert_eq!(req.groups[0].group_id, "g");
        assert_eq!(req.groups[0].topics, None);
        let resp = OffsetFetchResponse {
            throttle_time_ms: 9,
            groups: vec![one_group("g", vec![partition(0, 42, Some("m"))])],
        };
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 9], // throttle_time_ms: INT32 9
            &[0, 0, 0, 1], // topics: ARRAY of 1
            &[0, 1],
            b"t",                       // name: STRING "t"
            &[0, 0, 0, 1],              // partitions: ARRAY of 1
            &[0, 0, 0, 0],              // partition_index: INT32 0
            &[0, 0, 0, 0, 0, 0, 0, 42], // committed_offset: INT64 42
            &[0, 0, 0, 3],              // committed_leader_epoch: INT32 3
            &[0, 1],
            b"m",    // metadata: NULLABLE_STRING "m"
            &[0, 0], // error_code: INT16 0
            &[0, 0], // error_code: INT16 0 (the group's)
        ];
        assert_eq!(encode_body(5, &resp), expected.concat());
        // v2 has the group's error but neither throttle time nor leader epoch.
        let v2 = encode_body(2, &resp);
        assert_eq!(v2.len(), expected.concat().len() - 8);
    }

    #[test]
    fn v7_request_and_response() {
        let req = decode_body(&v7_request(), 7).unwrap();
        assert!(req.require_stable);
        let topics = req.groups[0].topics.as_ref().unwrap();
        assert_eq!(topics[0].name, "t");
        assert_eq!(topics[0].partition_indexes, [2]);
        let resp = OffsetFetchResponse {
            throttle_time_ms: 0,
            groups: vec![OffsetFetchGroupResult {
                error_code: ErrorCode::COORDINATOR_NOT_AVAILABLE,
                ..OffsetFetchGroupResult::default()
            }],
        };
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 0], // throttle_time_ms: INT32 0
            &[1],          // topics: COMPACT_ARRAY of 0
            &[0, 15],      // error_code: INT16 15
            &[0],          // tagged fields: none
        ];
        assert_eq!(encode_body(7, &resp), expected.concat());
    }

    #[test]
    fn v8_request_and_response() {
        let req = decode_body(&v8_request(), 8).unwrap();
        assert!(!req.require_stable);
        assert_eq!(req.groups.len(), 2);
        assert_eq!(req.groups[0].group_id, "g1");
        assert_eq!(req.groups[0].topics, None);
        assert_eq!(req.groups[1].group_id, "g2");
        let topics = req.groups[1].topics.as_ref().unwrap();
        assert_eq!(
            topics,
            &[OffsetFetchTopic {
                name: "t".into(),
                partition_indexes: vec![0],
            }]
        );
        let resp = OffsetFetchResponse {
            throttle_time_ms: 0,
            groups: vec![
                OffsetFetchGroupResult {
                    group_id: "g1".into(),
                    topics: Vec::new(),
                    error_code: ErrorCode::GROUP_ID_NOT_FOUND,
                },
                one_group("g2", vec![partition(0, 7, None)]),
            ],
        };
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 0], // throttle_time_ms: INT32 0
            &[3],          // groups: COMPACT_ARRAY of 2
            &[3],
            b"g1",    // group_id: COMPACT_STRING "g1"
            &[1],     // topics: COMPACT_ARRAY of 0
            &[0, 69], // error_code: INT16 69
            &[0],     // tagged fields: none
            &[3],
            b"g2", // group_id: COMPACT_STRING "g2"
            &[2],  // topics: COMPACT_ARRAY of 1
            &[2],
            b"t",                      // name: COMPACT_STRING "t"
            &[2],                      // partitions: COMPACT_ARRAY of 1
            &[0, 0, 0, 0],             // partition_index: INT32 0
            &[0, 0, 0, 0, 0, 0, 0, 7], // committed_offset: INT64 7
            &[0, 0, 0, 3],             // committed_leader_epoch: INT32 3
            &[0],                      // metadata: COMPACT_NULLABLE_STRING null
            &[0, 0],                   // error_code: INT16 0
            &[0],                      // tagged fields: none
            &[0],                      // tagged fields: none
            &[0, 0],                   // error_code: INT16 0 (the group's)
            &[0],                      // tagged fields: none
            &[0],                      // tagged fields: none
        ];
        assert_eq!(encode_body(8, &resp), expected.concat());
    }

    #[test]
    fn truncated_or_trailing_requests_are_errors() {
        let cases = [
            (1, v1_request()),
            (5, v5_request()),
            (7, v7_request()),
            (8, v8_request()),
        ];
        for (version, body) in cases {
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
