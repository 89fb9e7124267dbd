//! DeleteAcls (key 31), v0-v3. v1 adds pattern types; v2 is the first flexible version; v3
//! only widens the operation codes allowed.
//!
//! Request: `filters [AclFilter]` (the fields of DescribeAcls' request, per filter).
//! Response: `throttle_time_ms`, `filter_results [error_code, error_message (nullable),
//! matching_acls [error_code, error_message (nullable), resource_type, resource_name,
//! pattern_type (v1+), principal, host, operation, permission_type]]`, one result per filter,
//! in the request's order.

use crate::acl::{self, AclBinding, AclFilter};
use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// The request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteAclsRequest {
    /// The filters: every ACL matching one is deleted.
    pub filters: Vec<AclFilter>,
}

/// Decodes the body of `version`.
pub fn decode(r: &mut Reader, version: i16) -> Result<DeleteAclsRequest> {
    let filters = r.array("filters", |r| {
        let filter = acl::decode_filter(r, version)?;
        r.tagged_fields()?;
        Ok(filter)
    })?;
    r.tagged_fields()?;
    r.finish()?;
    Ok(DeleteAclsRequest { filters })
}

/// One filter's outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilterResult {
    /// NONE, or why the filter deleted nothing.
    pub error_code: ErrorCode,
    /// The error's message, or null.
    pub error_message: Option<String>,
    /// The ACLs the filter matched.
    pub matching_acls: Vec<MatchingAcl>,
}

/// One ACL a filter matched, and whether it was deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchingAcl {
    /// NONE if it was deleted.
    pub error_code: ErrorCode,
    /// The error's message, or null.
    pub error_message: Option<String>,
    /// The ACL.
    pub acl: AclBinding,
}

/// The response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteAclsResponse {
    /// Time throttled, in milliseconds.
    pub throttle_time_ms: i32,
    /// One result per filter of the request.
    pub filter_results: Vec<FilterResult>,
}

/// Encodes the response in `version`.
pub fn encode(w: &mut Writer, version: i16, resp: &DeleteAclsResponse) {
    w.i32(resp.throttle_time_ms);
    w.array(&resp.filter_results, |w, res| {
        w.error_code(res.error_code);
        w.nullable_string(res.error_message.as_deref());
        w.array(&res.matching_acls, |w, m| {
            w.error_code(m.error_code);
            w.nullable_string(m.error_message.as_deref());
            let a = &m.acl;
            acl::encode_resource(
                w,
                version,
                a.resource_type,
                &a.resource_name,
                a.pattern_type,
            );
            acl::encode_entry(w, &a.principal, &a.host, a.operation, a.permission_type);
            w.tagged_fields();
        });
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
        api::spec(key::DELETE_ACLS).unwrap().is_flexible(version)
    }

    fn decode_body(body: &[u8], version: i16) -> Result<DeleteAclsRequest> {
        let mut r = Reader::new(Bytes::copy_from_slice(body), flexible(version));
        decode(&mut r, version)
    }

    fn encode_body(version: i16, resp: &DeleteAclsResponse) -> Vec<u8> {
        let mut w = Writer::new(flexible(version));
        encode(&mut w, version, resp);
        w.finish().concat()
    }

    /// Two filters: every ACL of topic "t"; every ACL of User:a.
    fn v0_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[0, 0, 0, 2], // filters: ARRAY of 2
            &[2],          //   resource_type_filter: TOPIC
            &[0, 1],
            b"t",          //   resource_name_filter: STRING "t"
            &[0xff, 0xff], //   principal_filter: null
            &[0xff, 0xff], //   host_filter: null
            &[1],          //   operation: ANY
            &[1],          //   permission_type: ANY
            &[1],          //   resource_type_filter: ANY
            &[0xff, 0xff], //   resource_name_filter: null
            &[0, 6],
            b"User:a",     //   principal_filter: STRING "User:a"
            &[0xff, 0xff], //   host_filter: null
            &[1],          //   operation: ANY
            &[1],          //   permission_type: ANY
        ];
        parts.concat()
    }

    /// One filter: any resource, pattern type MATCH, any principal.
    fn v1_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[0, 0, 0, 1], // filters: ARRAY of 1
            &[1],          //   resource_type_filter: ANY
            &[0xff, 0xff], //   resource_name_filter: null
            &[2],          //   pattern_type_filter: MATCH
            &[0xff, 0xff], //   principal_filter: null
            &[0xff, 0xff], //   host_filter: null
            &[1],          //   operation: ANY
            &[1],          //   permission_type: ANY
        ];
        parts.concat()
    }

    /// v1's filter with compact strings and tagged fields.
    fn v3_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[2], // filters: COMPACT_ARRAY of 1
            &[1], //   resource_type_filter: ANY
            &[0], //   resource_name_filter: null
            &[2], //   pattern_type_filter: MATCH
            &[0], //   principal_filter: null
            &[0], //   host_filter: null
            &[1], //   operation: ANY
            &[1], //   permission_type: ANY
            &[0], //   tagged fields: none
            &[0], // tagged fields: none
        ];
        parts.concat()
    }

    fn any(pattern_type: i8) -> AclFilter {
        AclFilter {
            resource_type: 1,
            pattern_type,
            operation: 1,
            permission_type: 1,
            ..AclFilter::default()
        }
    }

    #[test]
    fn requests_of_the_oldest_a_middle_and_the_newest_version() {
        let v0 = decode_body(&v0_request(), 0).unwrap();
        assert_eq!(
            v0.filters,
            [
                AclFilter {
                    resource_type: 2,
                    resource_name: Some("t".into()),
                    ..any(PATTERN_LITERAL)
                },
                AclFilter {
                    principal: Some("User:a".into()),
                    ..any(PATTERN_LITERAL)
                },
            ]
        );
        assert_eq!(decode_body(&v1_request(), 1).unwrap().filters, [any(2)]);
        assert_eq!(decode_body(&v3_request(), 3).unwrap().filters, [any(2)]);
    }

    fn refusal() -> DeleteAclsResponse {
        DeleteAclsResponse {
            throttle_time_ms: 0,
            filter_results: vec![FilterResult {
                error_code: ErrorCode::SECURITY_DISABLED,
                error_message: Some("off".into()),
                matching_acls: Vec::new(),
            }],
        }
    }

    #[test]
    fn the_refusal_in_classic_and_flexible_versions() {
        let classic: &[&[u8]] = &[
            &[0, 0, 0, 0], // throttle_time_ms: 0
            &[0, 0, 0, 1], // filter_results: ARRAY of 1
            &[0, 54],      //   error_code: SECURITY_DISABLED
            &[0, 3],
            b"off",        //   error_message: STRING "off"
            &[0, 0, 0, 0], //   matching_acls: ARRAY of 0
        ];
        assert_eq!(encode_body(0, &refusal()), classic.concat());
        assert_eq!(encode_body(1, &refusal()), classic.concat());
        let flexible: &[&[u8]] = &[
            &[0, 0, 0, 0], // throttle_time_ms: 0
            &[2],          // filter_results: COMPACT_ARRAY of 1
            &[0, 54],      //   error_code: SECURITY_DISABLED
            &[4],
            b"off", //   error_message: COMPACT_STRING "off"
            &[1],   //   matching_acls: COMPACT_ARRAY of 0
            &[0],   //   tagged fields: none
            &[0],   // tagged fields: none
        ];
        assert_eq!(encode_body(3, &refusal()), flexible.concat());
    }

    #[test]
    fn matching_acls_with_and_without_pattern_types() {
        let resp = DeleteAclsResponse {
            throttle_time_ms: 0,
            filter_results: vec![FilterResult {
                matching_acls: vec![MatchingAcl {
                    error_code: ErrorCode::NONE,
                    error_message: None,
                    acl: AclBinding {
                        resource_type: 3,
                        resource_name: "g".into(),
                        pattern_type: PATTERN_LITERAL,
                        principal: "User:a".into(),
                        host: "*".into(),
                        operation: 3,
                        permission_type: 3,
                    },
                }],
                ..FilterResult::default()
            }],
        };
        let v0: &[&[u8]] = &[
            &[0, 0, 0, 0],       // throttle_time_ms: 0
            &[0, 0, 0, 1],       // filter_results: ARRAY of 1
            &[0, 0, 0xff, 0xff], //   error NONE, message null
            &[0, 0, 0, 1],       //   matching_acls: ARRAY of 1
            &[0, 0, 0xff, 0xff], //     error NONE, message null
            &[3],                //     resource_type: GROUP
            &[0, 1],
            b"g", //     resource_name: STRING "g"
            &[0, 6],
            b"User:a", //     principal
            &[0, 1],
            b"*", //     host
            &[3], //     operation: READ
            &[3], //     permission_type: ALLOW
        ];
        assert_eq!(encode_body(0, &resp), v0.concat());
        let mut v1 = v0.concat();
        v1.insert(4 + 4 + 4 + 4 + 4 + 1 + 3, PATTERN_LITERAL as u8); // after the name
        assert_eq!(encode_body(1, &resp), v1);
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
