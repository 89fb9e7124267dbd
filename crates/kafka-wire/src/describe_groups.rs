//! DescribeGroups (key 15), v0-v5.
//!
//! Request: `groups [STRING]`, `include_authorized_operations` (v3+). v5 is the first flexible
//! version.
//!
//! Response: `throttle_time_ms` (v1+), `groups [error_code, group_id, group_state,
//! protocol_type, protocol_data, members [member_id, group_instance_id (v4+, nullable),
//! client_id, client_host, member_metadata, member_assignment], authorized_operations (v3+)]`.
//!
//! Member metadata and assignments are opaque BYTES.

use bytes::Bytes;

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// `authorized_operations` when they were not asked for (Kafka's `INT32_MIN`).
pub const AUTHORIZED_OPERATIONS_OMITTED: i32 = i32::MIN;

/// The request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeGroupsRequest {
    /// The groups to describe.
    pub groups: Vec<String>,
    /// v3+: whether to answer each group's authorized operations.
    pub include_authorized_operations: bool,
}

/// Decodes the body of `version`.
pub fn decode(r: &mut Reader, version: i16) -> Result<DescribeGroupsRequest> {
    let groups = r.array("groups", |r| r.string("groups"))?;
    let include_authorized_operations = if version >= 3 {
        r.bool("include_authorized_operations")?
    } else {
        false
    };
    r.tagged_fields()?;
    r.finish()?;
    Ok(DescribeGroupsRequest {
        groups,
        include_authorized_operations,
    })
}

/// One member of a described group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribedMember {
    /// Its member id.
    pub member_id: String,
    /// Its instance id (written from v4).
    pub group_instance_id: Option<String>,
    /// The client id of its last JoinGroup.
    pub client_id: String,
    /// The client's host.
    pub client_host: String,
    /// Its metadata for the protocol in use (when the group is stable).
    pub member_metadata: Bytes,
    /// Its assignment (when the group is stable).
    pub member_assignment: Bytes,
}

/// One described group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribedGroup {
    /// The error, or [`ErrorCode::NONE`].
    pub error_code: ErrorCode,
    /// The group.
    pub group_id: String,
    /// Its state (`Stable`, `PreparingRebalance`, `CompletingRebalance`, `Empty`, `Dead`), or
    /// "".
    pub group_state: String,
    /// Its protocol type, or "".
    pub protocol_type: String,
    /// The protocol in use (when stable), or "".
    pub protocol_data: String,
    /// Its members.
    pub members: Vec<DescribedMember>,
    /// A bit field of the operations the client may do on the group (written from v3);
    /// [`AUTHORIZED_OPERATIONS_OMITTED`] when not asked for.
    pub authorized_operations: i32,
}

impl Default for DescribedGroup {
    fn default() -> DescribedGroup {
        DescribedGroup {
            error_code: ErrorCode::NONE,
            group_id: String::new(),
            group_state: String::new(),
            protocol_type: String::new(),
            protocol_data: String::new(),
            members: Vec::new(),
            authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
        }
    }
}

/// The response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeGroupsResponse {
    /// Time throttled, in milliseconds (v1+).
    pub throttle_time_ms: i32,
    /// One description per group of the request.
    pub groups: Vec<DescribedGroup>,
}

/// Encodes the response in `version`.
pub fn encode(w: &mut Writer, version: i16, resp: &DescribeGroupsResponse) {
    if version >= 1 {
        w.i32(resp.throttle_time_ms);
    }
    w.array(&resp.groups, |w, g| {
        w.error_code(g.error_code);
        w.string(&g.group_id);
        w.string(&g.group_state);
        w.string(&g.protocol_type);
        w.string(&g.protocol_data);
        w.array(&g.members, |w, m| {
            w.string(&m.member_id);
            if version >= 4 {
                w.nullable_string(m.group_instance_id.as_deref());
            }
            w.string(&m.client_id);
            w.string(&m.client_host);
            w.bytes(&m.member_metadata);
            w.bytes(&m.member_assignment);
            w.tagged_fields();
        });
        if version >= 3 {
            w.i32(g.authorized_operations);
        }
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
        api::spec(key::DESCRIBE_GROUPS)
            .unwrap()
            .is_flexible(version)
    }

    fn decode_body(body: &[u8], version: i16) -> Result<DescribeGroupsRequest> {
        let mut r = Reader::new(Bytes::copy_from_slice(body), flexible(version));
        decode(&mut r, version)
    }

    fn encode_body(version: i16, resp: &DescribeGroupsResponse) -> Vec<u8> {
        let mut w = Writer::new(flexible(version));
        encode(&mut w, version, resp);
        w.finish().concat()
    }

    fn v0_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[0, 0, 0, 2], // groups: ARRAY of 2
            &[0, 2],
            b"g1", // STRING "g1"
            &[0, 2],
            b"g2", // STRING "g2"
        ];
        parts.concat()
    }

    fn v3_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[0, 0, 0, 1], // groups: ARRAY of 1
            &[0, 2],
            b"g1", // STRING "g1"
            &[1],  // include_authorized_operations: BOOLEAN true
        ];
        parts.concat()
    }

    fn v5_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[2], // groups: COMPACT_ARRAY of 1
            &[3],
            b"g1", // COMPACT_STRING "g1"
            &[0],  // include_authorized_operations: BOOLEAN false
            &[0],  // tagged fields: none
        ];
        parts.concat()
    }

    fn stable() -> DescribeGroupsResponse {
        DescribeGroupsResponse {
            throttle_time_ms: 0,
            groups: vec![DescribedGroup {
                error_code: ErrorCode::NONE,
                group_id: "g1".into(),
                group_state: "Stable".into(),
                protocol_type: "consumer".into(),
                protocol_data: "range".into(),
                members: vec![DescribedMember {
                    member_id: "m1".into(),
                    group_instance_id: Some("i1".into()),
                    client_id: "c".into(),
                    client_host: "/h".into(),
                    member_metadata: Bytes::from_static(&[1]),
                    member_assignment: Bytes::from_static(&[2, 3]),
                }],
                authorized_operations: 0x0100,
            }],
        }
    }

    #[test]
    fn v0_request_and_response() {
        let req = decode_body(&v0_request(), 0).unwrap();
        assert_eq!(req.groups, ["g1", "g2"]);
        assert!(!req.include_authorized_operations);
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 1], // groups: ARRAY of 1
            &[0, 0],       // error_code: INT16 0
            &[0, 2],
            b"g1", // group_id: STRING "g1"
            &[0, 6],
            b"Stable", // group_state: STRING "Stable"
            &[0, 8],
            b"consumer", // protocol_type: STRING "consumer"
            &[0, 5],
            b"range",      // protocol_data: STRING "range"
            &[0, 0, 0, 1], // members: ARRAY of 1
            &[0, 2],
            b"m1", // member_id: STRING "m1"
            &[0, 1],
            b"c", // client_id: STRING "c"
            &[0, 2],
            b"/h",               // client_host: STRING "/h"
            &[0, 0, 0, 1, 1],    // member_metadata: BYTES [1]
            &[0, 0, 0, 2, 2, 3], // member_assignment: BYTES [2, 3]
        ];
        assert_eq!(encode_body(0, &stable()), expected.concat());
    }

    #[test]
    fn v3_request_and_response() {
        let req = decode_body(&v3_request(), 3).unwrap();
        assert_eq!(req.groups, ["g1"]);
        assert!(req.include_authorized_operations);
        let resp = DescribeGroupsResponse {
            throttle_time_ms: 2,
            groups: vec![DescribedGroup {
                error_code: ErrorCode::GROUP_AUTHORIZATION_FAILED,
                group_id: "g1".into(),
                ..DescribedGroup::default()
            }],
        };
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 2], // throttle_time_ms: INT32 2
            &[0, 0, 0, 1], // groups: ARRAY of 1
            &[0, 30],      // error_code: INT16 30
            &[0, 2],
            b"g1",            // group_id: STRING "g1"
            &[0, 0],          // group_state: STRING ""
            &[0, 0],          // protocol_type: STRING ""
            &[0, 0],          // protocol_data: STRING ""
            &[0, 0, 0, 0],    // members: ARRAY of 0
            &[0x80, 0, 0, 0], // authorized_operations: INT32 i32::MIN
        ];
        assert_eq!(encode_body(3, &resp), expected.concat());
    }

    #[test]
    fn v5_request_and_response() {
        let req = decode_body(&v5_request(), 5).unwrap();
        assert_eq!(req.groups, ["g1"]);
        assert!(!req.include_authorized_operations);
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 0], // throttle_time_ms: INT32 0
            &[2],          // groups: COMPACT_ARRAY of 1
            &[0, 0],       // error_code: INT16 0
            &[3],
            b"g1", // group_id: COMPACT_STRING "g1"
            &[7],
            b"Stable", // group_state: COMPACT_STRING "Stable"
            &[9],
            b"consumer", // protocol_type: COMPACT_STRING "consumer"
            &[6],
            b"range", // protocol_data: COMPACT_STRING "range"
            &[2],     // members: COMPACT_ARRAY of 1
            &[3],
            b"m1", // member_id: COMPACT_STRING "m1"
            &[3],
            b"i1", // group_instance_id: COMPACT_NULLABLE_STRING "i1"
            &[2],
            b"c", // client_id: COMPACT_STRING "c"
            &[3],
            b"/h",         // client_host: COMPACT_STRING "/h"
            &[2, 1],       // member_metadata: COMPACT_BYTES [1]
            &[3, 2, 3],    // member_assignment: COMPACT_BYTES [2, 3]
            &[0],          // tagged fields: none
            &[0, 0, 1, 0], // authorized_operations: INT32 256
            &[0],          // tagged fields: none
            &[0],          // tagged fields: none
        ];
        assert_eq!(encode_body(5, &stable()), expected.concat());
        // v4 is v5 classic: the instance id is there, the tagged fields are not.
        let v4 = encode_body(4, &stable());
        assert_eq!(
            v4.len(),
            4 + 4 + 2 + 4 + 8 + 10 + 7 + 4 + 4 + 4 + 3 + 4 + 5 + 6 + 4
        );
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
