//! SyncGroup (key 14), v0-v5.
//!
//! Request: `group_id`, `generation_id`, `member_id`, `group_instance_id` (v3+, nullable),
//! `protocol_type` and `protocol_name` (v5+, nullable), `assignments [member_id, assignment]`
//! (the leader's; empty from the others). v4 is the first flexible version.
//!
//! Response: `throttle_time_ms` (v1+), `error_code`, `protocol_type` and `protocol_name` (v5+,
//! nullable), `assignment`.
//!
//! Assignments are opaque BYTES, zero-copy slices of the request.

use bytes::Bytes;

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// The leader's assignment for one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncGroupAssignment {
    /// The member.
    pub member_id: String,
    /// Its assignment, opaque to the broker.
    pub assignment: Bytes,
}

/// The request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncGroupRequest {
    /// The group.
    pub group_id: String,
    /// The generation the member joined.
    pub generation_id: i32,
    /// The member's id.
    pub member_id: String,
    /// The static member's instance id (v3+).
    pub group_instance_id: Option<String>,
    /// The protocol type the member knows (v5+), for the broker to check.
    pub protocol_type: Option<String>,
    /// The protocol name the member knows (v5+), for the broker to check.
    pub protocol_name: Option<String>,
    /// Every member's assignment when sent by the leader; empty otherwise.
    pub assignments: Vec<SyncGroupAssignment>,
}

/// Decodes the body of `version`.
pub fn decode(r: &mut Reader, version: i16) -> Result<SyncGroupRequest> {
    let group_id = r.string("group_id")?;
    let generation_id = r.i32("generation_id")?;
    let member_id = r.string("member_id")?;
    let group_instance_id = if version >= 3 {
        r.nullable_string("group_instance_id")?
    } else {
        None
    };
    let (protocol_type, protocol_name) = if version >= 5 {
        (
            r.nullable_string("protocol_type")?,
            r.nullable_string("protocol_name")?,
        )
    } else {
        (None, None)
    };
    let assignments = r.array("assignments", |r| {
        let member_id = r.string("assignments.member_id")?;
        let assignment = r.bytes("assignments.assignment")?;
        r.tagged_fields()?;
        Ok(SyncGroupAssignment {
            member_id,
            assignment,
        })
    })?;
    r.tagged_fields()?;
    r.finish()?;
    Ok(SyncGroupRequest {
        group_id,
        generation_id,
        member_id,
        group_instance_id,
        protocol_type,
        protocol_name,
        assignments,
    })
}

/// The response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncGroupResponse {
    /// Time throttled, in milliseconds (v1+).
    pub throttle_time_ms: i32,
    /// The error, or [`ErrorCode::NONE`].
    pub error_code: ErrorCode,
    /// The group's protocol type (written from v5).
    pub protocol_type: Option<String>,
    /// The group's protocol name (written from v5).
    pub protocol_name: Option<String>,
    /// This member's assignment (empty on error).
    pub assignment: Bytes,
}

/// Encodes the response in `version`.
pub fn encode(w: &mut Writer, version: i16, resp: &SyncGroupResponse) {
    if version >= 1 {
        w.i32(resp.throttle_time_ms);
    }
    w.error_code(resp.error_code);
    if version >= 5 {
        w.nullable_string(resp.protocol_type.as_deref());
        w.nullable_string(resp.protocol_name.as_deref());
    }
    w.bytes(&resp.assignment);
    w.tagged_fields();
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::api::{self, key};
    use crate::codec::DecodeError;

    fn flexible(version: i16) -> bool {
        api::spec(key::SYNC_GROUP).unwrap().is_flexible(version)
    }

    fn decode_body(body: &[u8], version: i16) -> Result<SyncGroupRequest> {
        let mut r = Reader::new(Bytes::copy_from_slice(body), flexible(version));
        decode(&mut r, version)
    }

    fn encode_body(version: i16, resp: &SyncGroupResponse) -> Vec<u8> {
        let mut w = Writer::new(flexible(version));
        encode(&mut w, version, resp);
        w.finish().concat()
    }

    fn v0_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[0, 1],
            b"g",          // group_id: STRING "g"
            &[0, 0, 0, 3], // generation_id: INT32 3
            &[0, 2],
            b"m1",         // member_id: STRING "m1"
            &[0, 0, 0, 2], // assignments: ARRAY of 2
            &[0, 2],
            b"m1",               // member_id: STRING "m1"
            &[0, 0, 0, 2, 1, 2], // assignment: BYTES [1, 2]
            &[0, 2],
            b"m2",         // member_id: STRING "m2"
            &[0, 0, 0, 0], // assignment: BYTES []
        ];
        parts.concat()
    }

    fn v3_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[0, 1],
            b"g",          // group_id: STRING "g"
            &[0, 0, 0, 3], // generation_id: INT32 3
            &[0, 2],
            b"m2", // member_id: STRING "m2"
            &[0, 2],
            b"i2",         // group_instance_id: NULLABLE_STRING "i2"
            &[0, 0, 0, 0], // assignments: ARRAY of 0 (not the leader)
        ];
        parts.concat()
    }

    fn v5_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[2],
            b"g",          // group_id: COMPACT_STRING "g"
            &[0, 0, 0, 3], // generation_id: INT32 3
            &[3],
            b"m1", // member_id: COMPACT_STRING "m1"
            &[0],  // group_instance_id: COMPACT_NULLABLE_STRING null
            &[9],
            b"consumer", // protocol_type: COMPACT_NULLABLE_STRING "consumer"
            &[6],
            b"range", // protocol_name: COMPACT_NULLABLE_STRING "range"
            &[2],     // assignments: COMPACT_ARRAY of 1
            &[3],
            b"m1",      // member_id: COMPACT_STRING "m1"
            &[3, 1, 2], // assignment: COMPACT_BYTES [1, 2]
            &[0],       // tagged fields: none
            &[0],       // tagged fields: none
        ];
        parts.concat()
    }

    fn assigned() -> SyncGroupResponse {
        SyncGroupResponse {
            throttle_time_ms: 4,
            error_code: ErrorCode::NONE,
            protocol_type: Some("consumer".into()),
            protocol_name: Some("range".into()),
            assignment: Bytes::from_static(&[1, 2]),
        }
    }

    #[test]
    fn v0_request_and_response() {
        let req = decode_body(&v0_request(), 0).unwrap();
        assert_eq!((req.group_id.as_str(), req.generation_id), ("g", 3));
        assert_eq!(req.member_id, "m1");
        assert_eq!(req.group_instance_id, None);
        assert_eq!(req.assignments.len(), 2);
        assert_eq!(req.assignments[0].member_id, "m1");
        assert_eq!(&req.assignments[0].assignment[..], [1, 2]);
        assert_eq!(req.assignments[1].member_id, "m2");
        assert!(req.assignments[1].assignment.is_empty());
        let expected: &[&[u8]] = &[
            &[0, 0],             // error_code: INT16 0
            &[0, 0, 0, 2, 1, 2], // assignment: BYTES [1, 2]
        ];
        assert_eq!(encode_body(0, &assigned()), expected.concat());
    }

    #[test]
    fn v3_request_and_response() {
        let req = decode_body(&v3_request(), 3).unwrap();
        assert_eq!(req.member_id, "m2");
        assert_eq!(req.group_instance_id.as_deref(), Some("i2"));
        assert!(req.assignments.is_empty());
        let resp = SyncGroupResponse {
            error_code: ErrorCode::REBALANCE_IN_PROGRESS,
            ..SyncGroupResponse::default()
        };
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 0], // throttle_time_ms: INT32 0
            &[0, 27],      // error_code: INT16 27
            &[0, 0, 0, 0], // assignment: BYTES []
        ];
        assert_eq!(encode_body(3, &resp), expected.concat());
    }

    #[test]
    fn v5_request_and_response() {
        let req = decode_body(&v5_request(), 5).unwrap();
        assert_eq!(req.group_instance_id, None);
        assert_eq!(req.protocol_type.as_deref(), Some("consumer"));
        assert_eq!(req.protocol_name.as_deref(), Some("range"));
        assert_eq!(req.assignments[0].member_id, "m1");
        assert_eq!(&req.assignments[0].assignment[..], [1, 2]);
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 4], // throttle_time_ms: INT32 4
            &[0, 0],       // error_code: INT16 0
            &[9],
            b"consumer", // protocol_type: COMPACT_NULLABLE_STRING "consumer"
            &[6],
            b"range",   // protocol_name: COMPACT_NULLABLE_STRING "range"
            &[3, 1, 2], // assignment: COMPACT_BYTES [1, 2]
            &[0],       // tagged fields: none
        ];
        assert_eq!(encode_body(5, &assigned()), expected.concat());
        // v4 is flexible without the protocol fields.
        assert_eq!(encode_body(4, &assigned()), [0, 0, 0, 4, 0, 0, 3, 1, 2, 0]);
    }

    #[test]
    fn truncated_or_trailing_requests_are_errors() {
        for (version, body) in [(0, v0_request()), (3, v3_request()), (5, v5_request())] {
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
