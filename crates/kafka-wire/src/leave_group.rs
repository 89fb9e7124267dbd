//! LeaveGroup (key 13), v0-v5.
//!
//! Request: `group_id`, then in v0-v2 a single `member_id`; from v3 a batch
//! `members [member_id, group_instance_id (nullable), reason (v5+, nullable)]`. v4 is the first
//! flexible version. [`LeaveGroupRequest::members`] holds the leaving member(s) whatever the
//! version.
//!
//! Response: `throttle_time_ms` (v1+), `error_code`, `members [member_id, group_instance_id
//! (nullable), error_code]` (v3+). Before v3 there is only the top-level error: a member's
//! error is written there when the top level has none (as Kafka does).

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// One member leaving.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeavingMember {
    /// Its member id (v3+: may be empty when `group_instance_id` names it).
    pub member_id: String,
    /// Its instance id (v3+).
    pub group_instance_id: Option<String>,
    /// Why it leaves (v5+).
    pub reason: Option<String>,
}

/// The request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaveGroupRequest {
    /// The group.
    pub group_id: String,
    /// The members leaving: exactly one before v3.
    pub members: Vec<LeavingMember>,
}

/// Decodes the body of `version`.
pub fn decode(r: &mut Reader, version: i16) -> Result<LeaveGroupRequest> {
    let group_id = r.string("group_id")?;
    let members = if version <= 2 {
        vec![LeavingMember {
            member_id: r.string("member_id")?,
            ..LeavingMember::default()
        }]
    } else {
        r.array("members", |r| {
            let member_id = r.string("members.member_id")?;
            let group_instance_id = r.nullable_string("members.group_instance_id")?;
            let reason = if version >= 5 {
                r.nullable_string("members.reason")?
            } else {
                None
            };
            r.tagged_fields()?;
            Ok(LeavingMember {
                member_id,
                group_instance_id,
                reason,
            })
        })?
    };
    r.tagged_fields()?;
    r.finish()?;
    Ok(LeaveGroupRequest { group_id, members })
}

/// The outcome for one member leaving.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeftMember {
    /// Its member id.
    pub member_id: String,
    /// Its instance id.
    pub group_instance_id: Option<String>,
    /// The error, or [`ErrorCode::NONE`].
    pub error_code: ErrorCode,
}

/// The response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaveGroupResponse {
    /// Time throttled, in milliseconds (v1+).
    pub throttle_time_ms: i32,
    /// The group-level error, or [`ErrorCode::NONE`].
    pub error_code: ErrorCode,
    /// One outcome per member of the request (written from v3).
    pub members: Vec<LeftMember>,
}

/// Encodes the response in `version`.
pub fn encode(w: &mut Writer, version: i16, resp: &LeaveGroupResponse) {
    if version >= 1 {
        w.i32(resp.throttle_time_ms);
    }
    if version <= 2 {
        let member_error = resp
            .members
            .iter()
            .map(|m| m.error_code)
            .find(|e| *e != ErrorCode::NONE);
        let error = match member_error {
            Some(e) if resp.error_code == ErrorCode::NONE => e,
            _ => resp.error_code,
        };
        w.error_code(error);
    } else {
        w.error_code(resp.error_code);
        w.array(&resp.members, |w, m| {
            w.string(&m.member_id);
            w.nullable_string(m.group_instance_id.as_deref());
            w.error_code(m.error_code);
            w.tagged_fields();
        });
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
        api::spec(key::LEAVE_GROUP).unwrap().is_flexible(version)
    }

    fn decode_body(body: &[u8], version: i16) -> Result<LeaveGroupRequest> {
        let mut r = Reader::new(Bytes::copy_from_slice(body), flexible(version));
        decode(&mut r, version)
    }

    fn encode_body(version: i16, resp: &LeaveGroupResponse) -> Vec<u8> {
        let mut w = Writer::new(flexible(version));
        encode(&mut w, version, resp);
        w.finish().concat()
    }

    fn v0_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[0, 1],
            b"g", // group_id: STRING "g"
            &[0, 2],
            b"m1", // member_id: STRING "m1"
        ];
        parts.concat()
    }

    fn v3_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[0, 1],
            b"g",          // group_id: STRING "g"
            &[0, 0, 0, 2], // members: ARRAY of 2
            &[0, 2],
            b"m1",         // member_id: STRING "m1"
            &[0xff, 0xff], // group_instance_id: NULLABLE_STRING null
            &[0, 0],       // member_id: STRING ""
            &[0, 2],
            b"i2", // group_instance_id: NULLABLE_STRING "i2"
        ];
        parts.concat()
    }

    fn v5_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[2],
            b"g", // group_id: COMPACT_STRING "g"
            &[2], // members: COMPACT_ARRAY of 1
            &[3],
            b"m1", // member_id: COMPACT_STRING "m1"
            &[3],
            b"i1", // group_instance_id: COMPACT_NULLABLE_STRING "i1"
            &[4],
            b"bye", // reason: COMPACT_NULLABLE_STRING "bye"
            &[0],   // tagged fields: none
            &[0],   // tagged fields: none
        ];
        parts.concat()
    }

    fn two_left() -> LeaveGroupResponse {
        LeaveGroupResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::NONE,
            members: vec![
                LeftMember {
                    member_id: "m1".into(),
                    group_instance_id: None,
                    error_code: ErrorCode::NONE,
                },
                LeftMember {
                    member_id: String::new(),
                    group_instance_id: Some("i2".into()),
                    error_code: ErrorCode::UNKNOWN_MEMBER_ID,
                },
            ],
        }
    }

    #[test]
    fn v0_request_and_response() {
        let req = decode_body(&v0_request(), 0).unwrap();
        assert_eq!(req.group_id, "g");
        assert_eq!(
            req.members,
            [LeavingMember {
                member_id: "m1".into(),
                ..LeavingMember::default()
            }]
        );
        let resp = LeaveGroupResponse {
            error_code: ErrorCode::NONE,
            ..LeaveGroupResponse::default()
        };
        // error_code: INT16 0
        assert_eq!(encode_body(0, &resp), [0, 0]);
    }

    #[test]
    fn before_v3_a_member_error_is_the_top_level_error() {
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 0], // throttle_time_ms: INT32 0
            &[0, 25],      // error_code: INT16 25 (the second member's)
        ];
        assert_eq!(encode_body(1, &two_left()), expected.concat());
        let resp = LeaveGroupResponse {
            error_code: ErrorCode::NOT_COORDINATOR,
            ..two_left()
        };
        assert_eq!(encode_body(2, &resp), [0, 0, 0, 0, 0, 16]);
    }

    #[test]
    fn v3_request_and_response() {
        let req = decode_body(&v3_request(), 3).unwrap();
        assert_eq!(req.group_id, "g");
        assert_eq!(req.members.len(), 2);
        assert_eq!(req.members[0].member_id, "m1");
        assert_eq!(req.members[0].group_instance_id, None);
        assert_eq!(req.members[1].member_id, "");
        assert_eq!(req.members[1].group_instance_id.as_deref(), Some("i2"));
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 0], // throttle_time_ms: INT32 0
            &[0, 0],       // error_code: INT16 0
            &[0, 0, 0, 2], // members: ARRAY of 2
            &[0, 2],
            b"m1",         // member_id: STRING "m1"
            &[0xff, 0xff], // group_instance_id: NULLABLE_STRING null
            &[0, 0],       // error_code: INT16 0
            &[0, 0],       // member_id: STRING ""
            &[0, 2],
            b"i2",    // group_instance_id: NULLABLE_STRING "i2"
            &[0, 25], // error_code: INT16 25
        ];
        assert_eq!(encode_body(3, &two_left()), expected.concat());
    }

    #[test]
    fn v5_request_and_response() {
        let req = decode_body(&v5_request(), 5).unwrap();
        assert_eq!(
            req.members,
            [LeavingMember {
                member_id: "m1".into(),
                group_instance_id: Some("i1".into()),
                reason: Some("bye".into()),
            }]
        );
        let resp = LeaveGroupResponse {
            throttle_time_ms: 1,
            error_code: ErrorCode::NONE,
            members: vec![LeftMember {
                member_id: "m1".into(),
                group_instance_id: Some("i1".into()),
                error_code: ErrorCode::NONE,
            }],
        };
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 1], // throttle_time_ms: INT32 1
            &[0, 0],       // error_code: INT16 0
            &[2],          // members: COMPACT_ARRAY of 1
            &[3],
            b"m1", // member_id: COMPACT_STRING "m1"
            &[3],
            b"i1",   // group_instance_id: COMPACT_NULLABLE_STRING "i1"
            &[0, 0], // error_code: INT16 0
            &[0],    // tagged fields: none
            &[0],    // tagged fields: none
        ];
        assert_eq!(encode_body(5, &resp), expected.concat());
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
