//! JoinGroup (key 11), v0-v9.
//!
//! Request: `group_id`, `session_timeout_ms`, `rebalance_timeout_ms` (v1+), `member_id`,
//! `group_instance_id` (v5+, nullable), `protocol_type`, `protocols [name, metadata]`,
//! `reason` (v8+, nullable). v6 is the first flexible version. v4 changes no field: from v4 a
//! client with an empty member id expects MEMBER_ID_REQUIRED and joins again with the id given.
//!
//! Response: `throttle_time_ms` (v2+), `error_code`, `generation_id`, `protocol_type` (v7+,
//! nullable), `protocol_name` (nullable from v7), `leader`, `skip_assignment` (v9+),
//! `member_id`, `members [member_id, group_instance_id (v5+, nullable), metadata]`.
//!
//! Protocol metadata is opaque BYTES, a zero-copy slice of the request.

use bytes::Bytes;

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// One protocol a joining member supports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinGroupProtocol {
    /// The protocol's name (for consumers, an assignor such as `range`).
    pub name: String,
    /// The member's metadata for it, opaque to the broker.
    pub metadata: Bytes,
}

/// The request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JoinGroupRequest {
    /// The group.
    pub group_id: String,
    /// The member is dead when no heartbeat comes for this long.
    pub session_timeout_ms: i32,
    /// The longest the coordinator waits for members to rejoin in a rebalance. v0 has no such
    /// field: it is `session_timeout_ms` there, as Kafka reads it.
    pub rebalance_timeout_ms: i32,
    /// The member id given by the coordinator, empty on the first join.
    pub member_id: String,
    /// The static member's instance id (v5+).
    pub group_instance_id: Option<String>,
    /// The class of protocols (`consumer`, `connect`, ...).
    pub protocol_type: String,
    /// The protocols the member supports, in its order of preference.
    pub protocols: Vec<JoinGroupProtocol>,
    /// Why the member joins (v8+).
    pub reason: Option<String>,
}

/// Decodes the body of `version`.
pub fn decode(r: &mut Reader, version: i16) -> Result<JoinGroupRequest> {
    let group_id = r.string("group_id")?;
    let session_timeout_ms = r.i32("session_timeout_ms")?;
    let rebalance_timeout_ms = if version >= 1 {
        r.i32("rebalance_timeout_ms")?
    } else {
        session_timeout_ms
    };
    let member_id = r.string("member_id")?;
    let group_instance_id = if version >= 5 {
        r.nullable_string("group_instance_id")?
    } else {
        None
    };
    let protocol_type = r.string("protocol_type")?;
    let protocols = r.array("protocols", |r| {
        let name = r.string("protocols.name")?;
        let metadata = r.bytes("protocols.metadata")?;
        r.tagged_fields()?;
        Ok(JoinGroupProtocol { name, metadata })
    })?;
    let reason = if version >= 8 {
        r.nullable_string("reason")?
    } else {
        None
    };
    r.tagged_fields()?;
    r.finish()?;
    Ok(JoinGroupRequest {
        group_id,
        session_timeout_ms,
        rebalance_timeout_ms,
        member_id,
        group_instance_id,
        protocol_type,
        protocols,
        reason,
    })
}

/// One member of the group, as the leader is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinGroupMember {
    /// Its member id.
    pub member_id: String,
    /// Its instance id (written from v5).
    pub group_instance_id: Option<String>,
    /// Its metadata for the protocol chosen.
    pub metadata: Bytes,
}

/// The response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JoinGroupResponse {
    /// Time throttled, in milliseconds (v2+).
    pub throttle_time_ms: i32,
    /// The error, or [`ErrorCode::NONE`].
    pub error_code: ErrorCode,
    /// The generation joined (-1 on error).
    pub generation_id: i32,
    /// The group's protocol type (written from v7).
    pub protocol_type: Option<String>,
    /// The protocol chosen. Null only from v7; earlier versions write none as "".
    pub protocol_name: Option<String>,
    /// The leader's member id.
    pub leader: String,
    /// v9+: the leader must not compute an assignment (the broker assigns).
    pub skip_assignment: bool,
    /// The member id of the one who joined.
    pub member_id: String,
    /// The members with their metadata: for the leader only, empty for the others.
    pub members: Vec<JoinGroupMember>,
}

/// Encodes the response in `version`.
pub fn encode(w: &mut Writer, version: i16, resp: &JoinGroupResponse) {
    if version >= 2 {
        w.i32(resp.throttle_time_ms);
    }
    w.error_code(resp.error_code);
    w.i32(resp.generation_id);
    if version >= 7 {
        w.nullable_string(resp.protocol_type.as_deref());
        w.nullable_string(resp.protocol_name.as_deref());
    } else {
        w.string(resp.protocol_name.as_deref().unwrap_or(""));
    }
    w.string(&resp.leader);
    if version >= 9 {
        w.bool(resp.skip_assignment);
    }
    w.string(&resp.member_id);
    w.array(&resp.members, |w, m| {
        w.string(&m.member_id);
        if version >= 5 {
            w.nullable_string(m.group_instance_id.as_deref());
        }
        w.bytes(&m.metadata);
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

    fn flexible(version: i16) -> bool {
        api::spec(key::JOIN_GROUP).unwrap().is_flexible(version)
    }

    fn decode_body(body: &[u8], version: i16) -> Result<JoinGroupRequest> {
        let mut r = Reader::new(Bytes::copy_from_slice(body), flexible(version));
        decode(&mut r, version)
    }

    fn encode_body(version: i16, resp: &JoinGroupResponse) -> Vec<u8> {
        let mut w = Writer::new(flexible(version));
        encode(&mut w, version, resp);
        w.finish().concat()
    }

    fn v0_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[0, 1],
            b"g",                // group_id: STRING "g"
            &[0, 0, 0x75, 0x30], // session_timeout_ms: INT32 30000
            &[0, 0],             // member_id: STRING ""
            &[0, 8],
            b"consumer",   // protocol_type: STRING "consumer"
            &[0, 0, 0, 1], // protocols: ARRAY of 1
            &[0, 5],
            b"range",               // name: STRING "range"
            &[0, 0, 0, 3, 1, 2, 3], // metadata: BYTES [1, 2, 3]
        ];
        parts.concat()
    }

    fn v5_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[0, 1],
            b"g",                // group_id: STRING "g"
            &[0, 0, 0x27, 0x10], // session_timeout_ms: INT32 10000
            &[0, 4, 0x93, 0xe0], // rebalance_timeout_ms: INT32 300000
            &[0, 2],
            b"m1", // member_id: STRING "m1"
            &[0, 2],
            b"i1", // group_instance_id: NULLABLE_STRING "i1"
            &[0, 8],
            b"consumer",   // protocol_type: STRING "consumer"
            &[0, 0, 0, 2], // protocols: ARRAY of 2
            &[0, 5],
            b"range",      // name: STRING "range"
            &[0, 0, 0, 0], // metadata: BYTES []
            &[0, 10],
            b"roundrobin",    // name: STRING "roundrobin"
            &[0, 0, 0, 1, 7], // metadata: BYTES [7]
        ];
        parts.concat()
    }

    fn v9_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[2],
            b"g",                // group_id: COMPACT_STRING "g"
            &[0, 0, 0x27, 0x10], // session_timeout_ms: INT32 10000
            &[0, 4, 0x93, 0xe0], // rebalance_timeout_ms: INT32 300000
            &[1],                // member_id: COMPACT_STRING ""
            &[0],                // group_instance_id: COMPACT_NULLABLE_STRING null
            &[9],
            b"consumer", // protocol_type: COMPACT_STRING "consumer"
            &[2],        // protocols: COMPACT_ARRAY of 1
            &[6],
            b"range",   // name: COMPACT_STRING "range"
            &[3, 1, 2], // metadata: COMPACT_BYTES [1, 2]
            &[0],       // tagged fields: none
            &[5],
            b"poll", // reason: COMPACT_NULLABLE_STRING "poll"
            &[0],    // tagged fields: none
        ];
        parts.concat()
    }

    fn leader_answer() -> JoinGroupResponse {
        JoinGroupResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::NONE,
            generation_id: 1,
            protocol_type: Some("consumer".into()),
            protocol_name: Some("range".into()),
            leader: "m1".into(),
            skip_assignment: true,
            member_id: "m1".into(),
            members: vec![JoinGroupMember {
                member_id: "m1".into(),
                group_instance_id: Some("i1".into()),
                metadata: Bytes::from_static(&[9]),
            }],
        }
    }

    #[test]
    fn v0_request_and_response() {
        let req = decode_body(&v0_request(), 0).unwrap();
        assert_eq!(req.group_id, "g");
        assert_eq!(
            (req.session_timeout_ms, req.rebalance_timeout_ms),
            (30000, 30000)
        );
        assert_eq!(
            (req.member_id.as_str(), req.protocol_type.as_str()),
            ("", "consumer")
        );
        assert_eq!(req.group_instance_id, None);
        assert_eq!(req.protocols.len(), 1);
        assert_eq!(req.protocols[0].name, "range");
        assert_eq!(&req.protocols[0].metadata[..], [1, 2, 3]);
        let expected: &[&[u8]] = &[
            &[0, 0],       // error_code: INT16 0
            &[0, 0, 0, 1], // generation_id: INT32 1
            &[0, 5],
            b"range", // protocol_name: STRING "range"
            &[0, 2],
            b"m1", // leader: STRING "m1"
            &[0, 2],
            b"m1",         // member_id: STRING "m1"
            &[0, 0, 0, 1], // members: ARRAY of 1
            &[0, 2],
            b"m1",            // member_id: STRING "m1"
            &[0, 0, 0, 1, 9], // metadata: BYTES [9]
        ];
        assert_eq!(encode_body(0, &leader_answer()), expected.concat());
    }

    #[test]
    fn v4_member_id_required_writes_no_protocol_as_empty() {
        let resp = JoinGroupResponse {
            error_code: ErrorCode::MEMBER_ID_REQUIRED,
            generation_id: -1,
            member_id: "m-1".into(),
            ..JoinGroupResponse::default()
        };
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 0],             // throttle_time_ms: INT32 0
            &[0, 79],                  // error_code: INT16 79
            &[0xff, 0xff, 0xff, 0xff], // generation_id: INT32 -1
            &[0, 0],                   // protocol_name: STRING ""
            &[0, 0],                   // leader: STRING ""
            &[0, 3],
            b"m-1",        // member_id: STRING "m-1"
            &[0, 0, 0, 0], // members: ARRAY of 0
        ];
        assert_eq!(encode_body(4, &resp), expected.concat());
    }

    #[test]
    fn v5_request_and_response() {
        let req = decode_body(&v5_request(), 5).unwrap();
        assert_eq!(
            (req.session_timeout_ms, req.rebalance_timeout_ms),
            (10000, 300000)
        );
        assert_eq!(req.member_id, "m1");
        assert_eq!(req.group_instance_id.as_deref(), Some("i1"));
        let names: Vec<&str> = req.protocols.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["range", "roundrobin"]);
        assert!(req.protocols[0].metadata.is_empty());
        assert_eq!(&req.protocols[1].metadata[..], [7]);
        assert_eq!(req.reason, None);
        let resp = JoinGroupResponse {
            throttle_time_ms: 3,
            ..leader_answer()
        };
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 3], // throttle_time_ms: INT32 3
            &[0, 0],       // error_code: INT16 0
            &[0, 0, 0, 1], // generation_id: INT32 1
            &[0, 5],
            b"range", // protocol_name: STRING "range"
            &[0, 2],
            b"m1", // leader: STRING "m1"
            &[0, 2],
            b"m1",         // member_id: STRING "m1"
            &[0, 0, 0, 1], // members: ARRAY of 1
            &[0, 2],
            b"m1", // member_id: STRING "m1"
            &[0, 2],
            b"i1",            // group_instance_id: NULLABLE_STRING "i1"
            &[0, 0, 0, 1, 9], // metadata: BYTES [9]
        ];
        assert_eq!(encode_body(5, &resp), expected.concat());
    }

    #[test]
    fn v9_request_and_response() {
        let req = decode_body(&v9_request(), 9).unwrap();
        assert_eq!(req.group_id, "g");
        assert_eq!(req.member_id, "");
        assert_eq!(req.group_instance_id, None);
        assert_eq!(req.protocol_type, "consumer");
        assert_eq!(req.protocols[0].name, "range");
        assert_eq!(&req.protocols[0].metadata[..], [1, 2]);
        assert_eq!(req.reason.as_deref(), Some("poll"));
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 0], // throttle_time_ms: INT32 0
            &[0, 0],       // error_code: INT16 0
            &[0, 0, 0, 1], // generation_id: INT32 1
            &[9],
            b"consumer", // protocol_type: COMPACT_NULLABLE_STRING "consumer"
            &[6],
            b"range", // protocol_name: COMPACT_NULLABLE_STRING "range"
            &[3],
            b"m1", // leader: COMPACT_STRING "m1"
            &[1],  // skip_assignment: BOOLEAN true
            &[3],
            b"m1", // member_id: COMPACT_STRING "m1"
            &[2],  // members: COMPACT_ARRAY of 1
            &[3],
            b"m1", // member_id: COMPACT_STRING "m1"
            &[3],
            b"i1",   // group_instance_id: COMPACT_NULLABLE_STRING "i1"
            &[2, 9], // metadata: COMPACT_BYTES [9]
            &[0],    // tagged fields: none
            &[0],    // tagged fields: none
        ];
        assert_eq!(encode_body(9, &leader_answer()), expected.concat());
        // v7 and v8 have no skip_assignment; v6 no protocol_type and a non-null name.
        assert_eq!(
            encode_body(8, &leader_answer()).len(),
            expected.concat().len() - 1
        );
        let v6 = encode_body(6, &JoinGroupResponse::default());
        assert_eq!(v6, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0]);
    }

    #[test]
    fn truncated_or_trailing_requests_are_errors() {
        for (version, body) in [(0, v0_request()), (5, v5_request()), (9, v9_request())] {
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
