//! ListGroups (key 16), v0-v4.
//!
//! Request: nothing before v4 (v3, the first flexible version, has only tagged fields); v4
//! adds `states_filter [STRING]`.
//!
//! Response: `throttle_time_ms` (v1+), `error_code`, `groups [group_id, protocol_type,
//! group_state (v4+)]`.

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// The request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListGroupsRequest {
    /// v4+: list only groups in these states (`Stable`, `Empty`, ...); empty lists all.
    pub states_filter: Vec<String>,
}

/// Decodes the body of `version`.
pub fn decode(r: &mut Reader, version: i16) -> Result<ListGroupsRequest> {
    let mut req = ListGroupsRequest::default();
    if version >= 4 {
        req.states_filter = r.array("states_filter", |r| r.string("states_filter"))?;
    }
    r.tagged_fields()?;
    r.finish()?;
    Ok(req)
}

/// One group listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListedGroup {
    /// The group.
    pub group_id: String,
    /// Its protocol type (`consumer`, or "" for a group used only to commit offsets).
    pub protocol_type: String,
    /// Its state (written from v4).
    pub group_state: String,
}

/// The response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListGroupsResponse {
    /// Time throttled, in milliseconds (v1+).
    pub throttle_time_ms: i32,
    /// The error, or [`ErrorCode::NONE`].
    pub error_code: ErrorCode,
    /// The groups.
    pub groups: Vec<ListedGroup>,
}

/// Encodes the response in `version`.
pub fn encode(w: &mut Writer, version: i16, resp: &ListGroupsResponse) {
    if version >= 1 {
        w.i32(resp.throttle_time_ms);
    }
    w.error_code(resp.error_code);
    w.array(&resp.groups, |w, g| {
        w.string(&g.group_id);
        w.string(&g.protocol_type);
        if version >= 4 {
            w.string(&g.group_state);
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
    use bytes::Bytes;

    fn flexible(version: i16) -> bool {
        api::spec(key::LIST_GROUPS).unwrap().is_flexible(version)
    }

    fn decode_body(body: &[u8], version: i16) -> Result<ListGroupsRequest> {
        let mut r = Reader::new(Bytes::copy_from_slice(body), flexible(version));
        decode(&mut r, version)
    }

    fn encode_body(version: i16, resp: &ListGroupsResponse) -> Vec<u8> {
        let mut w = Writer::new(flexible(version));
        encode(&mut w, version, resp);
        w.finish().concat()
    }

    fn v4_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[3], // states_filter: COMPACT_ARRAY of 2
            &[7],
            b"Stable", // COMPACT_STRING "Stable"
            &[6],
            b"Empty", // COMPACT_STRING "Empty"
            &[0],     // tagged fields: none
        ];
        parts.concat()
    }

    fn two_groups() -> ListGroupsResponse {
        ListGroupsResponse {
            throttle_time_ms: 3,
            error_code: ErrorCode::NONE,
            groups: vec![
                ListedGroup {
                    group_id: "g1".into(),
                    protocol_type: "consumer".into(),
                    group_state: "Stable".into(),
                },
                ListedGroup {
                    group_id: "g2".into(),
                    protocol_type: String::new(),
                    group_state: "Empty".into(),
                },
            ],
        }
    }

    #[test]
    fn v0_request_and_response() {
        assert_eq!(decode_body(&[], 0).unwrap(), ListGroupsRequest::default());
        let expected: &[&[u8]] = &[
            &[0, 0],       // error_code: INT16 0
            &[0, 0, 0, 2], // groups: ARRAY of 2
            &[0, 2],
            b"g1", // group_id: STRING "g1"
            &[0, 8],
            b"consumer", // protocol_type: STRING "consumer"
            &[0, 2],
            b"g2",   // group_id: STRING "g2"
            &[0, 0], // protocol_type: STRING ""
        ];
        assert_eq!(encode_body(0, &two_groups()), expected.concat());
    }

    #[test]
    fn v2_request_and_response() {
        assert_eq!(decode_body(&[], 2).unwrap(), ListGroupsRequest::default());
        let resp = ListGroupsResponse {
            throttle_time_ms: 3,
            error_code: ErrorCode::COORDINATOR_NOT_AVAILABLE,
            groups: Vec::new(),
        };
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 3], // throttle_time_ms: INT32 3
            &[0, 15],      // error_code: INT16 15
            &[0, 0, 0, 0], // groups: ARRAY of 0
        ];
        assert_eq!(encode_body(2, &resp), expected.concat());
    }

    #[test]
    fn v3_has_only_tagged_fields() {
        // tagged fields: none
        assert_eq!(decode_body(&[0], 3).unwrap(), ListGroupsRequest::default());
        assert!(decode_body(&[], 3).is_err());
    }

    #[test]
    fn v4_request_and_response() {
        let req = decode_body(&v4_request(), 4).unwrap();
        assert_eq!(req.states_filter, ["Stable", "Empty"]);
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 3], // throttle_time_ms: INT32 3
            &[0, 0],       // error_code: INT16 0
            &[3],          // groups: COMPACT_ARRAY of 2
            &[3],
            b"g1", // group_id: COMPACT_STRING "g1"
            &[9],
            b"consumer", // protocol_type: COMPACT_STRING "consumer"
            &[7],
            b"Stable", // group_state: COMPACT_STRING "Stable"
            &[0],      // tagged fields: none
            &[3],
            b"g2", // group_id: COMPACT_STRING "g2"
            &[1],  // protocol_type: COMPACT_STRING ""
            &[6],
            b"Empty", // group_state: COMPACT_STRING "Empty"
            &[0],     // tagged fields: none
            &[0],     // tagged fields: none
        ];
        assert_eq!(encode_body(4, &two_groups()), expected.concat());
    }

    #[test]
    fn truncated_or_trailing_requests_are_errors() {
        let body = v4_request();
        for len in 0..body.len() {
            assert!(decode_body(&body[..len], 4).is_err(), "{len}");
        }
        for (version, body) in [(0, Vec::new()), (2, Vec::new()), (3, vec![0]), (4, body)] {
            let mut long = body.clone();
            long.push(0);
            assert_eq!(
                decode_body(&long, version),
                Err(DecodeError::Trailing { left: 1 })
            );
        }
    }
}
