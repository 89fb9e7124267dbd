//! FindCoordinator (key 10), v0-v4.
//!
//! Request: `key` (v0-v3, one group or transactional id), `key_type` (v1+: 0 group,
//! 1 transaction), `coordinator_keys` (v4+, a batch of keys replacing `key`). v3 is the first
//! flexible version. [`FindCoordinatorRequest::keys`] holds the key(s) whatever the version.
//!
//! Response: `throttle_time_ms` (v1+), then in v0-v3 one answer `error_code`,
//! `error_message` (v1+, nullable), `node_id`, `host`, `port`; from v4 an array `coordinators`
//! of `key, node_id, host, port, error_code, error_message`, one per key asked for.

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// The values of `key_type`.
pub mod key_type {
    /// The key is a group id.
    pub const GROUP: i8 = 0;
    /// The key is a transactional id.
    pub const TRANSACTION: i8 = 1;
}

/// The request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindCoordinatorRequest {
    /// The keys to find coordinators for: exactly one before v4 (`key`), the batch
    /// `coordinator_keys` from v4.
    pub keys: Vec<String>,
    /// What the keys are ([`key_type`]); v0 is always [`key_type::GROUP`].
    pub key_type: i8,
}

/// Decodes the body of `version`.
pub fn decode(r: &mut Reader, version: i16) -> Result<FindCoordinatorRequest> {
    let mut req = FindCoordinatorRequest::default();
    if version <= 3 {
        req.keys.push(r.string("key")?);
    }
    if version >= 1 {
        req.key_type = r.i8("key_type")?;
    }
    if version >= 4 {
        req.keys = r.array("coordinator_keys", |r| r.string("coordinator_keys"))?;
    }
    r.tagged_fields()?;
    r.finish()?;
    Ok(req)
}

/// The coordinator of one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coordinator {
    /// The key asked for (written from v4 only).
    pub key: String,
    /// The coordinator's node id (-1 when not found).
    pub node_id: i32,
    /// Its host.
    pub host: String,
    /// Its port.
    pub port: i32,
    /// The error, or [`ErrorCode::NONE`].
    pub error_code: ErrorCode,
    /// A message for the error (written from v1), or none.
    pub error_message: Option<String>,
}

/// The response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindCoordinatorResponse {
    /// Time throttled, in milliseconds (v1+).
    pub throttle_time_ms: i32,
    /// One answer per key of the request, in its order. Versions before v4 answer for one key:
    /// the first (none answers COORDINATOR_NOT_AVAILABLE).
    pub coordinators: Vec<Coordinator>,
}

/// Encodes the response in `version`.
pub fn encode(w: &mut Writer, version: i16, resp: &FindCoordinatorResponse) {
    if version >= 1 {
        w.i32(resp.throttle_time_ms);
    }
    if version >= 4 {
        w.array(&resp.coordinators, |w, c| {
            w.string(&c.key);
            w.i32(c.node_id);
            w.string(&c.host);
            w.i32(c.port);
            w.error_code(c.error_code);
            w.nullable_string(c.error_message.as_deref());
            w.tagged_fields();
        });
    } else {
        let none = Coordinator {
            key: String::new(),
            node_id: -1,
            host: String::new(),
            port: -1,
            error_code: ErrorCode::COORDINATOR_NOT_AVAILABLE,
            error_message: None,
        };
        let c = resp.coordinators.first().unwrap_or(&none);
        w.error_code(c.error_code);
        if version >= 1 {
            w.nullable_string(c.error_message.as_deref());
        }
        w.i32(c.node_id);
        w.string(&c.host);
        w.i32(c.port);
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
        api::spec(key::FIND_COORDINATOR)
            .unwrap()
            .is_flexible(version)
    }

    fn decode_body(body: &[u8], version: i16) -> Result<FindCoordinatorRequest> {
        let mut r = Reader::new(Bytes::copy_from_slice(body), flexible(version));
        decode(&mut r, version)
    }

    fn encode_body(version: i16, resp: &FindCoordinatorResponse) -> Vec<u8> {
        let mut w = Writer::new(flexible(version));
        encode(&mut w, version, resp);
        w.finish().concat()
    }

    fn found(key: &str) -> Coordinator {
        Coordinator {
            key: key.into(),
            node_id: 1,
            host: "h".into(),
            port: 9092,
            error_code: ErrorCode::NONE,
            error_message: None,
        }
    }

    fn v0_request() -> Vec<u8> {
        // key: STRING "grp"
        [&[0, 3][..], b"grp"].concat()
    }

    fn v2_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[0, 3],
            b"txn", // key: STRING "txn"
            &[1],   // key_type: INT8 1 (transaction)
        ];
        parts.concat()
    }

    fn v4_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[0], // key_type: INT8 0
            &[3], // coordinator_keys: COMPACT_ARRAY of 2
            &[3],
            b"g1", // COMPACT_STRING "g1"
            &[4],
            b"g22", // COMPACT_STRING "g22"
            &[0],   // tagged fields: none
        ];
        parts.concat()
    }

    #[test]
    fn v0_request_and_response() {
        let req = decode_body(&v0_request(), 0).unwrap();
        assert_eq!(req.keys, ["grp"]);
        assert_eq!(req.key_type, key_type::GROUP);
        let resp = FindCoordinatorResponse {
            throttle_time_ms: 5,
            coordinators: vec![found("grp")],
        };
        let expected: &[&[u8]] = &[
            &[0, 0],       // error_code: INT16 0
            &[0, 0, 0, 1], // node_id: INT32 1
            &[0, 1],
            b"h",                // host: STRING "h"
            &[0, 0, 0x23, 0x84], // port: INT32 9092
        ];
        assert_eq!(encode_body(0, &resp), expected.concat());
    }

    #[test]
    fn v2_request_and_response() {
        let req = decode_body(&v2_request(), 2).unwrap();
        assert_eq!(req.keys, ["txn"]);
        assert_eq!(req.key_type, key_type::TRANSACTION);
        let resp = FindCoordinatorResponse {
            throttle_time_ms: 5,
            coordinators: vec![Coordinator {
                error_code: ErrorCode::NOT_COORDINATOR,
                error_message: Some("no".into()),
                ..found("txn")
            }],
        };
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 5], // throttle_time_ms: INT32 5
            &[0, 16],      // error_code: INT16 16
            &[0, 2],
            b"no",         // error_message: NULLABLE_STRING "no"
            &[0, 0, 0, 1], // node_id: INT32 1
            &[0, 1],
            b"h",                // host: STRING "h"
            &[0, 0, 0x23, 0x84], // port: INT32 9092
        ];
        assert_eq!(encode_body(2, &resp), expected.concat());
    }

    #[test]
    fn v3_is_flexible_with_one_key() {
        let body: &[&[u8]] = &[
            &[4],
            b"grp", // key: COMPACT_STRING "grp"
            &[0],   // key_type: INT8 0
            &[0],   // tagged fields: none
        ];
        let req = decode_body(&body.concat(), 3).unwrap();
        assert_eq!(req.keys, ["grp"]);
        let resp = FindCoordinatorResponse {
            throttle_time_ms: 0,
            coordinators: Vec::new(),
        };
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 0],             // throttle_time_ms: INT32 0
            &[0, 15],                  // error_code: INT16 15 (COORDINATOR_NOT_AVAILABLE)
            &[0],                      // error_message: COMPACT_NULLABLE_STRING null
            &[0xff, 0xff, 0xff, 0xff], // node_id: INT32 -1
            &[1],                      // host: COMPACT_STRING ""
            &[0xff, 0xff, 0xff, 0xff], // port: INT32 -1
            &[0],                      // tagged fields: none
        ];
        assert_eq!(encode_body(3, &resp), expected.concat());
    }

    #[test]
    fn v4_batches_keys_and_coordinators() {
        let req = decode_body(&v4_request(), 4).unwrap();
        assert_eq!(req.keys, ["g1", "g22"]);
        assert_eq!(req.key_type, key_type::GROUP);
        let resp = FindCoordinatorResponse {
            throttle_time_ms: 0,
            coordinators: vec![
                found("g1"),
                Coordinator {
                    error_code: ErrorCode::INVALID_GROUP_ID,
                    error_message: Some("x".into()),
                    ..found("g22")
                },
            ],
        };
        let expected: &[&[u8]] = &[
            &[0, 0, 0, 0], // throttle_time_ms: INT32 0
            &[3],          // coordinators: COMPACT_ARRAY of 2
            &[3],
            b"g1",         // key: COMPACT_STRING "g1"
            &[0, 0, 0, 1], // node_id: INT32 1
            &[2],
            b"h",                // host: COMPACT_STRING "h"
            &[0, 0, 0x23, 0x84], // port: INT32 9092
            &[0, 0],             // error_code: INT16 0
            &[0],                // error_message: null
            &[0],                // tagged fields: none
            &[4],
            b"g22",        // key: COMPACT_STRING "g22"
            &[0, 0, 0, 1], // node_id
            &[2],
            b"h",                // host
            &[0, 0, 0x23, 0x84], // port
            &[0, 24],            // error_code: INT16 24
            &[2],
            b"x", // error_message: COMPACT_NULLABLE_STRING "x"
            &[0], // tagged fields: none
            &[0], // tagged fields: none
        ];
        assert_eq!(encode_body(4, &resp), expected.concat());
    }

    #[test]
    fn truncated_or_trailing_requests_are_errors() {
        for (version, body) in [(0, v0_request()), (2, v2_request()), (4, v4_request())] {
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
