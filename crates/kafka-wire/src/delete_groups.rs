//! DeleteGroups (key 42), v0-v2.
//!
//! Request: `groups_names [STRING]`. Response: `throttle_time_ms` (in every version),
//! `results [group_id, error_code]`. v1 is v0 (only the broker's throttling behaviour
//! changed); v2 is the first flexible version.

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// The request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteGroupsRequest {
    /// The groups to delete.
    pub groups_names: Vec<String>,
}

/// Decodes the body of `version`.
pub fn decode(r: &mut Reader, _version: i16) -> Result<DeleteGroupsRequest> {
    let groups_names = r.array("groups_names", |r| r.string("groups_names"))?;
    r.tagged_fields()?;
    r.finish()?;
    Ok(DeleteGroupsRequest { groups_names })
}

/// One group's outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeletedGroup {
    /// The group.
    pub group_id: String,
    /// The error (NON_EMPTY_GROUP, GROUP_ID_NOT_FOUND, ...), or [`ErrorCode::NONE`].
    pub error_code: ErrorCode,
}

/// The response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteGroupsResponse {
    /// Time throttled, in milliseconds.
    pub throttle_time_ms: i32,
    /// One outcome per group of the request.
    pub results: Vec<DeletedGroup>,
}

/// Encodes the response in `version` (the same fields in every version).
pub fn encode(w: &mut Writer, _version: i16, resp: &DeleteGroupsResponse) {
    w.i32(resp.throttle_time_ms);
    w.array(&resp.results, |w, g| {
        w.string(&g.group_id);
        w.error_code(g.error_code);
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
        api::spec(key::DELETE_GROUPS).unwrap().is_flexible(version)
    }

    fn decode_body(body: &[u8], version: i16) -> Result<DeleteGroupsRequest> {
        let mut r = Reader::new(Bytes::copy_from_slice(body), flexible(version));
        decode(&mut r, version)
    }

    fn encode_body(version: i16, resp: &DeleteGroupsResponse) -> Vec<u8> {
        let mut w = Writer::new(flexible(version));
        encode(&mut w, version, resp);
        w.finish().concat()
    }

    fn classic_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[0, 0, 0, 2], // groups_names: ARRAY of 2
            &[0, 2],
            b"g1", // STRING "g1"
            &[0, 2],
            b"g2", // STRING "g2"
        ];
        parts.concat()
    }

    fn v2_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[2], // groups_names: COMPACT_ARRAY of 1
            &[3],
            b"g1", // COMPACT_STRING "g1"
            &[0],  // tagged fields: none
        ];
        parts.concat()
    }

    fn outcomes() -> DeleteGroupsResponse {
        DeleteGroupsResponse {
            throttle_time_ms: 0,
            results: vec![
                DeletedGroup {
                    group_id: "g1".into(),
                    error_code: ErrorCode::NONE,
                },
                DeletedGroup {
                    group_id: "g2".into(),
                    error_code: ErrorCode::NON_EMPTY_GROUP,
                },
            ],
        }
    }

    #[test]
    fn v0_and_v1_request_and_response() {
        for version in [0, 1] {
            let req = decode_body(&classic_request(), version).unwrap();
            assert_eq!(req.groups_names, ["g1", "g2"]);
            let expected: &[&[u8]] = &[
                &[0, 0, 0, 0], // throttle_time_ms: INT32 0
                &[0, 0, 0, 2], // results: ARRAY of 2
                &[0, 2],
                b"g1",   // group_id: STRING "g1"
                &[0, 0], // error_code: INT16 0
                &[0, 2],
                b"g2",    // group_id: STRING "g2"
                &[0, 68], // error_code: INT16 68
            ];
            assert_eq!(encode_body(version, &outcomes()), expected.concat());
        }
    }

    #[test]
    fn v2_request_and_response() {
        let req = decode_body(&v2_request(), 2).unwrap();
        assert_eq!(req.groups_names, ["g1"]);
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 0], // throttle_time_ms: INT32 0
            &[3],          // results: COMPACT_ARRAY of 2
            &[3],
            b"g1",   // group_id: COMPACT_STRING "g1"
            &[0, 0], // error_code: INT16 0
            &[0],    // tagged fields: none
            &[3],
            b"g2",    // group_id: COMPACT_STRING "g2"
            &[0, 68], // error_code: INT16 68
            &[0],     // tagged fields: none
            &[0],     // tagged fields: none
        ];
        assert_eq!(encode_body(2, &outcomes()), expected.concat());
    }

    #[test]
    fn truncated_or_trailing_requests_are_errors() {
        for (version, body) in [
            (0, classic_request()),
            (1, classic_request()),
            (2, v2_request()),
        ] {
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
