//! SaslAuthenticate (key 36), v0-v2. v2 is the first flexible version.
//!
//! Request: `auth_bytes` (one SASL token from the client). Response: `error_code`,
//! `error_message` (nullable), `auth_bytes` (the server's token), `session_lifetime_ms`
//! (v1+; 0 when the session does not expire).
//!
//! A token can carry a password (PLAIN sends it in the clear), so the request's `Debug` shows
//! only its length: a logged request never leaks it.

use bytes::Bytes;

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// The request.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SaslAuthenticateRequest {
    /// The client's SASL token (secret: never log it).
    pub auth_bytes: Bytes,
}

impl std::fmt::Debug for SaslAuthenticateRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SaslAuthenticateRequest")
            .field("auth_bytes_len", &self.auth_bytes.len())
            .finish()
    }
}

/// Decodes the body of `version`.
pub fn decode(r: &mut Reader, _version: i16) -> Result<SaslAuthenticateRequest> {
    let auth_bytes = r.bytes("auth_bytes")?;
    r.tagged_fields()?;
    r.finish()?;
    Ok(SaslAuthenticateRequest { auth_bytes })
}

/// The response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaslAuthenticateResponse {
    /// NONE, or why authentication failed.
    pub error_code: ErrorCode,
    /// The error's message, or null.
    pub error_message: Option<String>,
    /// The server's SASL token.
    pub auth_bytes: Bytes,
    /// v1+: how long the session lasts before the client must re-authenticate (0: forever).
    pub session_lifetime_ms: i64,
}

/// Encodes the response in `version`.
pub fn encode(w: &mut Writer, version: i16, resp: &SaslAuthenticateResponse) {
    w.error_code(resp.error_code);
    w.nullable_string(resp.error_message.as_deref());
    w.bytes(&resp.auth_bytes);
    if version >= 1 {
        w.i64(resp.session_lifetime_ms);
    }
    w.tagged_fields();
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::api::{self, key};
    use crate::codec::DecodeError;

    fn flexible(version: i16) -> bool {
        api::spec(key::SASL_AUTHENTICATE)
            .unwrap()
            .is_flexible(version)
    }

    fn decode_body(body: &[u8], version: i16) -> Result<SaslAuthenticateRequest> {
        let mut r = Reader::new(Bytes::copy_from_slice(body), flexible(version));
        decode(&mut r, version)
    }

    fn encode_body(version: i16, resp: &SaslAuthenticateResponse) -> Vec<u8> {
        let mut w = Writer::new(flexible(version));
        encode(&mut w, version, resp);
        w.finish().concat()
    }

    /// A PLAIN token: authorization id, NUL, user, NUL, password.
    const TOKEN: &[u8] = b"\0u\0p";

    fn classic_request() -> Vec<u8> {
        [&[0, 0, 0, 4][..], TOKEN].concat() // auth_bytes: BYTES of 4
    }

    fn v2_request() -> Vec<u8> {
        [
            &[5][..], // auth_bytes: COMPACT_BYTES of 4
            TOKEN,
            &[0], // tagged fields: none
        ]
        .concat()
    }

    fn refusal() -> SaslAuthenticateResponse {
        SaslAuthenticateResponse {
            error_code: ErrorCode::ILLEGAL_SASL_STATE,
            error_message: Some("no".into()),
            auth_bytes: Bytes::new(),
            session_lifetime_ms: 0,
        }
    }

    #[test]
    fn v0_request_and_response() {
        let req = decode_body(&classic_request(), 0).unwrap();
        assert_eq!(&req.auth_bytes[..], TOKEN);
        let expected: &[&[u8]] = &[
            &[0, 34], // error_code: ILLEGAL_SASL_STATE
            &[0, 2],
            b"no",         // error_message: STRING "no"
            &[0, 0, 0, 0], // auth_bytes: BYTES of 0
        ];
        assert_eq!(encode_body(0, &refusal()), expected.concat());
    }

    #[test]
    fn v1_request_and_response() {
        let req = decode_body(&classic_request(), 1).unwrap();
        assert_eq!(&req.auth_bytes[..], TOKEN);
        let resp = SaslAuthenticateResponse {
            error_code: ErrorCode::NONE,
            error_message: None,
            auth_bytes: Bytes::from_static(b"ok"),
            session_lifetime_ms: 3_600_000,
        };
        let expected: &[&[u8]] = &[
            &[0, 0],       // error_code: NONE
            &[0xff, 0xff], // error_message: null
            &[0, 0, 0, 2],
            b"ok",                              // auth_bytes: BYTES "ok"
            &[0, 0, 0, 0, 0, 0x36, 0xee, 0x80], // session_lifetime_ms: 3,600,000
        ];
        assert_eq!(encode_body(1, &resp), expected.concat());
    }

    #[test]
    fn v2_request_and_response() {
        let req = decode_body(&v2_request(), 2).unwrap();
        assert_eq!(&req.auth_bytes[..], TOKEN);
        let expected: &[&[u8]] = &[
            &[0, 34], // error_code: ILLEGAL_SASL_STATE
            &[3],
            b"no",                     // error_message: COMPACT_STRING "no"
            &[1],                      // auth_bytes: COMPACT_BYTES of 0
            &[0, 0, 0, 0, 0, 0, 0, 0], // session_lifetime_ms: 0
            &[0],                      // tagged fields: none
        ];
        assert_eq!(encode_body(2, &refusal()), expected.concat());
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

    #[test]
    fn the_token_is_not_in_the_debug_output() {
        let req = SaslAuthenticateRequest {
            auth_bytes: Bytes::from_static(b"\0user\0hunter2"),
        };
        let shown = format!("{req:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("auth_bytes_len: 13"), "{shown}");
    }
}
