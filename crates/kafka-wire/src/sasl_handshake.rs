//! SaslHandshake (key 17), v0-v1. No version is flexible.
//!
//! Request: `mechanism` (the SASL mechanism the client wants, e.g. `PLAIN`). Response:
//! `error_code`, `mechanisms [STRING]` (the mechanisms the listener has enabled). v1 is v0 on
//! the wire; it only tells the broker that the SASL tokens that follow travel inside
//! SaslAuthenticate requests rather than as raw frames.

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// The request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaslHandshakeRequest {
    /// The mechanism asked for.
    pub mechanism: String,
}

/// Decodes the body of `version` (the same fields in every version).
pub fn decode(r: &mut Reader, _version: i16) -> Result<SaslHandshakeRequest> {
    let mechanism = r.string("mechanism")?;
    r.finish()?;
    Ok(SaslHandshakeRequest { mechanism })
}

/// The response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaslHandshakeResponse {
    /// NONE, UNSUPPORTED_SASL_MECHANISM or ILLEGAL_SASL_STATE.
    pub error_code: ErrorCode,
    /// The mechanisms enabled on the listener.
    pub mechanisms: Vec<String>,
}

/// Encodes the response in `version` (the same fields in every version).
pub fn encode(w: &mut Writer, _version: i16, resp: &SaslHandshakeResponse) {
    w.error_code(resp.error_code);
    w.array(&resp.mechanisms, |w, m| w.string(m));
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::api::{self, key};
    use crate::codec::DecodeError;
    use bytes::Bytes;

    fn decode_body(body: &[u8], version: i16) -> Result<SaslHandshakeRequest> {
        decode(
            &mut Reader::new(Bytes::copy_from_slice(body), false),
            version,
        )
    }

    fn encode_body(version: i16, resp: &SaslHandshakeResponse) -> Vec<u8> {
        let mut w = Writer::new(false);
        encode(&mut w, version, resp);
        w.finish().concat()
    }

    const REQUEST: &[u8] = &[
        0, 5, b'P', b'L', b'A', b'I', b'N', // mechanism: STRING "PLAIN"
    ];

    #[test]
    fn v0_and_v1_request() {
        for version in [0, 1] {
            let req = decode_body(REQUEST, version).unwrap();
            assert_eq!(req.mechanism, "PLAIN");
        }
        // A null mechanism is not a mechanism.
        assert_eq!(
            decode_body(&[0xff, 0xff], 1),
            Err(DecodeError::Null { field: "mechanism" })
        );
    }

    #[test]
    fn v0_and_v1_responses() {
        for version in [0, 1] {
            let none = SaslHandshakeResponse {
                error_code: ErrorCode::ILLEGAL_SASL_STATE,
                mechanisms: Vec::new(),
            };
            let expected: &[&[u8]] = &[
                &[0, 34],      // error_code: ILLEGAL_SASL_STATE
                &[0, 0, 0, 0], // mechanisms: ARRAY of 0
            ];
            assert_eq!(encode_body(version, &none), expected.concat());
            let two = SaslHandshakeResponse {
                error_code: ErrorCode::UNSUPPORTED_SASL_MECHANISM,
                mechanisms: vec!["PLAIN".into(), "SCRAM-SHA-256".into()],
            };
            let expected: &[&[u8]] = &[
                &[0, 33],      // error_code: UNSUPPORTED_SASL_MECHANISM
                &[0, 0, 0, 2], // mechanisms: ARRAY of 2
                &[0, 5],
                b"PLAIN", // STRING "PLAIN"
                &[0, 13],
                b"SCRAM-SHA-256", // STRING "SCRAM-SHA-256"
            ];
            assert_eq!(encode_body(version, &two), expected.concat());
        }
    }

    #[test]
    fn truncated_or_trailing_requests_are_errors() {
        for version in [0, 1] {
            for len in 0..REQUEST.len() {
                assert!(
                    decode_body(&REQUEST[..len], version).is_err(),
                    "v{version} {len}"
                );
            }
            let mut long = REQUEST.to_vec();
            long.push(0);
            assert_eq!(
                decode_body(&long, version),
                Err(DecodeError::Trailing { left: 1 })
            );
        }
    }

    #[test]
    fn the_table_matches() {
        let spec = api::spec(key::SASL_HANDSHAKE).unwrap();
        assert_eq!((spec.min, spec.max), (0, 1));
        assert!(!spec.is_flexible(0) && !spec.is_flexible(1));
    }
}
