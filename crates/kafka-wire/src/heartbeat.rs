//! Heartbeat (key 12), v0-v4.
//!
//! Request: `group_id`, `generation_id`, `member_id`, `group_instance_id` (v3+, nullable).
//! v4 is the first flexible version.
//!
//! Response: `throttle_time_ms` (v1+), `error_code`.

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// The request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeartbeatRequest {
    /// The group.
    pub group_id: String,
    /// The generation the member is in.
    pub generation_id: i32,
    /// The member's id.
    pub member_id: String,
    /// The static member's instance id (v3+).
    pub group_instance_id: Option<String>,
}

/// Decodes the body of `version`.
pub fn decode(r: &mut Reader, version: i16) -> Result<HeartbeatRequest> {
    let group_id = r.string("group_id")?;
    let generation_id = r.i32("generation_id")?;
    let member_id = r.string("member_id")?;
    let group_instance_id = if version >= 3 {
        r.nullable_string("group_instance_id")?
    } else {
        None
    };
    r.tagged_fields()?;
    r.finish()?;
    Ok(HeartbeatRequest {
        group_id,
        generation_id,
        member_id,
        group_instance_id,
    })
}

/// The response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeartbeatResponse {
    /// Time throttled, in milliseconds (v1+).
    pub throttle_time_ms: i32,
    /// The error (REBALANCE_IN_PROGRESS tells the member to rejoin), or [`ErrorCode::NONE`].
    pub error_code: ErrorCode,
}

/// Encodes the response in `version`.
pub fn encode(w: &mut Writer, version: i16, resp: &HeartbeatResponse) {
    if version >= 1 {
        w.i32(resp.throttle_time_ms);
    }
    w.error_code(resp.error_code);
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
        api::spec(key::HEARTBEAT).unwrap().is_flexible(version)
    }

    fn decode_body(body: &[u8], version: i16) -> Result<HeartbeatRequest> {
        let mut r = Reader::new(Bytes::copy_from_slice(body), flexible(version));
        decode(&mut r, version)
    }

    fn encode_body(version: i16, resp: &HeartbeatResponse) -> Vec<u8> {
        let mut w = Writer::new(flexible(version));
        encode(&mut w, version, resp);
        w.finish().concat()
    }

    fn v0_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[0, 1],
            b"g",          // group_id: STRING "g"
            &[0, 0, 0, 7], // generation_id: INT32 7
            &[0, 2],
            b"m1", // member_id: STRING "m1"
        ];
        parts.concat()
    }

    fn v3_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[0, 1],
            b"g",          // group_id: STRING "g"
            &[0, 0, 0, 7], // generation_id: INT32 7
            &[0, 2],
            b"m1", // member_id: STRING "m1"
            &[0, 2],
            b"i1", // group_instance_id: NULLABLE_STRING "i1"
        ];
        parts.concat()
    }

    fn v4_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[2],
            b"g",          // group_id: COMPACT_STRING "g"
            &[0, 0, 0, 7], // generation_id: INT32 7
            &[3],
            b"m1", // member_id: COMPACT_STRING "m1"
            &[0],  // group_instance_id: COMPACT_NULLABLE_STRING null
            &[0],  // tagged fields: none
        ];
        parts.concat()
    }

    fn rebalancing() -> HeartbeatResponse {
        HeartbeatResponse {
            throttle_time_ms: 2,
            error_code: ErrorCode::REBALANCE_IN_PROGRESS,
        }
    }

    #[test]
    fn v0_request_and_response() {
        let req = decode_body(&v0_request(), 0).unwrap();
        assert_eq!(
            req,
            HeartbeatRequest {
                group_id: "g".into(),
                generation_id: 7,
                member_id: "m1".into(),
                group_instance_id: None,
            }
        );
        // error_code: INT16 27
        assert_eq!(encode_body(0, &rebalancing()), [0, 27]);
    }

    #[test]
    fn v3_request_and_response() {
        let req = decode_body(&v3_request(), 3).unwrap();
        assert_eq!(req.member_id, "m1");
        assert_eq!(req.group_instance_id.as_deref(), Some("i1"));
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 2], // throttle_time_ms: INT32 2
            &[0, 27],      // error_code: INT16 27
        ];
        assert_eq!(encode_body(3, &rebalancing()), expected.concat());
    }

    #[test]
    fn v4_request_and_response() {
        let req = decode_body(&v4_request(), 4).unwrap();
        assert_eq!((req.group_id.as_str(), req.generation_id), ("g", 7));
        assert_eq!(req.member_id, "m1");
        assert_eq!(req.group_instance_id, None);
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 2], // throttle_time_ms: INT32 2
            &[0, 27],      // error_code: INT16 27
            &[0],          // tagged fields: none
        ];
        assert_eq!(encode_body(4, &rebalancing()), expected.concat());
    }

    #[test]
    fn truncated_or_trailing_requests_are_errors() {
        for (version, body) in [(0, v0_request()), (3, v3_request()), (4, v4_request())] {
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
