//! CreateAcls (key 30), v0-v3. v1 adds `resource_pattern_type`; v2 is the first flexible
//! version; v3 only widens the operation codes allowed.
//!
//! Request: `creations [resource_type, resource_name, resource_pattern_type (v1+), principal,
//! host, operation, permission_type]`.
//! Response: `throttle_time_ms`, `results [error_code, error_message (nullable)]`, one per
//! creation, in the request's order.

use crate::acl::{self, AclBinding};
use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// The request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateAclsRequest {
    /// The ACLs to create.
    pub creations: Vec<AclBinding>,
}

/// Decodes the body of `version`.
pub fn decode(r: &mut Reader, version: i16) -> Result<CreateAclsRequest> {
    let creations = r.array("creations", |r| acl::decode_binding(r, version))?;
    r.tagged_fields()?;
    r.finish()?;
    Ok(CreateAclsRequest { creations })
}

/// One creation's outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreationResult {
    /// NONE, or why the ACL was not created.
    pub error_code: ErrorCode,
    /// The error's message, or null.
    pub error_message: Option<String>,
}

/// The response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateAclsResponse {
    /// Time throttled, in milliseconds.
    pub throttle_time_ms: i32,
    /// One result per creation of the request.
    pub results: Vec<CreationResult>,
}

/// Encodes the response in `version` (the same fields in every version).
pub fn encode(w: &mut Writer, _version: i16, resp: &CreateAclsResponse) {
    w.i32(resp.throttle_time_ms);
    w.array(&resp.results, |w, res| {
        w.error_code(res.error_code);
        w.nullable_string(res.error_message.as_deref());
        w.tagged_fields();
    });
    w.tagged_fields();
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::acl::PATTERN_LITERAL;
    use crate::api::{self, key};
    use crate::codec::DecodeError;
    use bytes::Bytes;

    fn flexible(version: i16) -> bool {
        api::spec(key::CREATE_ACLS).unwrap().is_flexible(version)
    }

    fn decode_body(body: &[u8], version: i16) -> Result<CreateAclsRequest> {
        let mut r = Reader::new(Bytes::copy_from_slice(body), flexible(version));
        decode(&mut r, version)
    }

    fn encode_body(version: i16, resp: &CreateAclsResponse) -> Vec<u8> {
        let mut w = Writer::new(flexible(version));
        encode(&mut w, version, resp);
        w.finish().concat()
    }

    /// Allow User:a to READ topic "t" from any host.
    fn v0_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[0, 0, 0, 1], // creations: ARRAY of 1
            &[2],          //   resource_type: TOPIC
            &[0, 1],
            b"t", //   resource_name: STRING "t"
            &[0, 6],
            b"User:a", //   principal: STRING "User:a"
            &[0, 1],
            b"*", //   host: STRING "*"
            &[3], //   operation: READ
            &[3], //   permission_type: ALLOW
        ];
        parts.concat()
    }

    /// v0's creation with a prefixed pattern.
    fn v1_request() -> Vec<u8> {
        let mut body = v0_request();
        body.insert(4 + 1 + 3, 4); // resource_pattern_type: PREFIXED, after the name
        body
    }

    /// v1's creation with compact strings and tagged fields.
    fn v3_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[2], // creations: COMPACT_ARRAY of 1
            &[2], //   resource_type: TOPIC
            &[2],
            b"t", //   resource_name: COMPACT_STRING "t"
            &[4], //   resource_pattern_type: PREFIXED
            &[7],
            b"User:a", //   principal
            &[2],
            b"*", //   host
            &[3], //   operation: READ
            &[3], //   permission_type: ALLOW
            &[0], //   tagged fields: none
            &[0], // tagged fields: none
        ];
        parts.concat()
    }

    fn binding(pattern_type: i8) -> AclBinding {
        AclBinding {
            resource_type: 2,
            resource_name: "t".into(),
            pattern_type,
            principal: "User:a".into(),
            host: "*".into(),
            operation: 3,
            permission_type: 3,
        }
    }

    #[test]
    fn requests_of_the_oldest_a_middle_and_the_newest_version() {
        let v0 = decode_body(&v0_request(), 0).unwrap();
        assert_eq!(v0.creations, [binding(PATTERN_LITERAL)]);
        let v1 = decode_body(&v1_request(), 1).unwrap();
        assert_eq!(v1.creations, [binding(4)]);
        let v3 = decode_body(&v3_request(), 3).unwrap();
        assert_eq!(v3.creations, [binding(4)]);
    }

    fn refusals() -> CreateAclsResponse {
        let refused = CreationResult {
            error_code: ErrorCode::SECURITY_DISABLED,
            error_message: Some("off".into()),
        };
        CreateAclsResponse {
            throttle_time_ms: 0,
            results: vec![
                refused,
                CreationResult {
                    error_code: ErrorCode::NONE,
                    error_message: None,
                },
            ],
        }
    }

    #[test]
    fn responses_in_classic_and_flexible_versions() {
        let classic: &[&[u8]] = &[
            &[0, 0, 0, 0], // throttle_time_ms: 0
            &[0, 0, 0, 2], // results: ARRAY of 2
            &[0, 54],      //   error_code: SECURITY_DISABLED
            &[0, 3],
            b"off",        //   error_message: STRING "off"
            &[0, 0],       //   error_code: NONE
            &[0xff, 0xff], //   error_message: null
        ];
        assert_eq!(encode_body(0, &refusals()), classic.concat());
        assert_eq!(encode_body(1, &refusals()), classic.concat());
        let flexible: &[&[u8]] = &[
            &[0, 0, 0, 0], // throttle_time_ms: 0
            &[3],          // results: COMPACT_ARRAY of 2
            &[0, 54],      //   error_code: SECURITY_DISABLED
            &[4],
            b"off",  //   error_message: COMPACT_STRING "off"
            &[0],    //   tagged fields: none
            &[0, 0], //   error_code: NONE
            &[0],    //   error_message: null
            &[0],    //   tagged fields: none
            &[0],    // tagged fields: none
        ];
        assert_eq!(encode_body(3, &refusals()), flexible.concat());
    }

    #[test]
    fn truncated_or_trailing_requests_are_errors() {
        for (version, body) in [(0, v0_request()), (1, v1_request()), (3, v3_request())] {
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
