//! DescribeAcls (key 29), v0-v3. v1 adds pattern types; v2 is the first flexible version; v3
//! only adds the USER_ALL operation codes to what may be sent.
//!
//! Request: one [`AclFilter`]: `resource_type_filter`, `resource_name_filter` (nullable),
//! `pattern_type_filter` (v1+), `principal_filter`, `host_filter` (nullable), `operation`,
//! `permission_type`.
//! Response: `throttle_time_ms`, `error_code`, `error_message` (nullable), `resources
//! [resource_type, resource_name, pattern_type (v1+), acls [principal, host, operation,
//! permission_type]]`.

use crate::acl::{self, AclFilter};
use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// The request: the ACLs to describe.
pub type DescribeAclsRequest = AclFilter;

/// Decodes the body of `version`.
pub fn decode(r: &mut Reader, version: i16) -> Result<DescribeAclsRequest> {
    let filter = acl::decode_filter(r, version)?;
    r.tagged_fields()?;
    r.finish()?;
    Ok(filter)
}

/// The response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeAclsResponse {
    /// Time throttled, in milliseconds.
    pub throttle_time_ms: i32,
    /// NONE, or why nothing was described (SECURITY_DISABLED without an authorizer).
    pub error_code: ErrorCode,
    /// The error's message, or null.
    pub error_message: Option<String>,
    /// The resources with matching ACLs.
    pub resources: Vec<AclResource>,
}

/// A resource pattern and its ACLs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AclResource {
    /// `ResourceType` code.
    pub resource_type: i8,
    /// The resource's name.
    pub resource_name: String,
    /// v1+: `PatternType` code.
    pub pattern_type: i8,
    /// Its ACLs.
    pub acls: Vec<AclEntry>,
}

/// One access control entry of a resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AclEntry {
    /// The principal.
    pub principal: String,
    /// The host, or `*`.
    pub host: String,
    /// `AclOperation` code.
    pub operation: i8,
    /// `AclPermissionType` code.
    pub permission_type: i8,
}

/// Encodes the response in `version`.
pub fn encode(w: &mut Writer, version: i16, resp: &DescribeAclsResponse) {
    w.i32(resp.throttle_time_ms);
    w.error_code(resp.error_code);
    w.nullable_string(resp.error_message.as_deref());
    w.array(&resp.resources, |w, res| {
        acl::encode_resource(
            w,
            version,
            res.resource_type,
            &res.resource_name,
            res.pattern_type,
        );
        w.array(&res.acls, |w, a| {
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
        api::spec(key::DESCRIBE_ACLS).unwrap().is_flexible(version)
    }

    fn decode_body(body: &[u8], version: i16) -> Result<DescribeAclsRequest> {
        let mut r = Reader::new(Bytes::copy_from_slice(body), flexible(version));
        decode(&mut r, version)
    }

    fn encode_body(version: i16, resp: &DescribeAclsResponse) -> Vec<u8> {
        let mut w = Writer::new(flexible(version));
        encode(&mut w, version, resp);
        w.finish().concat()
    }

    /// Topic "t", any principal, host "*", operation ANY, permission ANY.
    fn v0_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[2], // resource_type_filter: TOPIC
            &[0, 1],
            b"t",          // resource_name_filter: STRING "t"
            &[0xff, 0xff], // principal_filter: null
            &[0, 1],
            b"*", // host_filter: STRING "*"
            &[1], // operation: ANY
            &[1], // permission_type: ANY
        ];
        parts.concat()
    }

    /// Any resource of any pattern type, principal "User:a", any host.
    fn v1_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[1],          // resource_type_filter: ANY
            &[0xff, 0xff], // resource_name_filter: null
            &[1],          // pattern_type_filter: ANY
            &[0, 6],
            b"User:a",     // principal_filter: STRING "User:a"
            &[0xff, 0xff], // host_filter: null
            &[2],          // operation: ALL
            &[3],          // permission_type: ALLOW
        ];
        parts.concat()
    }

    /// v1's filter with compact strings and tagged fields.
    fn v3_request() -> Vec<u8> {
        let parts: &[&[u8]] = &[
            &[1], // resource_type_filter: ANY
            &[0], // resource_name_filter: null
            &[1], // pattern_type_filter: ANY
            &[7],
            b"User:a", // principal_filter: COMPACT_STRING "User:a"
            &[0],      // host_filter: null
            &[2],      // operation: ALL
            &[3],      // permission_type: ALLOW
            &[0],      // tagged fields: none
        ];
        parts.concat()
    }

    fn v1_filter() -> AclFilter {
        AclFilter {
            resource_type: 1,
            resource_name: None,
            pattern_type: 1,
            principal: Some("User:a".into()),
            host: None,
            operation: 2,
            permission_type: 3,
        }
    }

    #[test]
    fn requests_of_the_oldest_a_middle_and_the_newest_version() {
        let v0 = decode_body(&v0_request(), 0).unwrap();
        assert_eq!(
            v0,
            AclFilter {
                resource_type: 2,
                resource_name: Some("t".into()),
                pattern_type: PATTERN_LITERAL,
                principal: None,
                host: Some("*".into()),
                operation: 1,
                permission_type: 1,
            }
        );
        assert_eq!(decode_body(&v1_request(), 1).unwrap(), v1_filter());
        assert_eq!(decode_body(&v3_request(), 3).unwrap(), v1_filter());
        assert_eq!(decode_body(&v3_request(), 2).unwrap(), v1_filter());
    }

    fn refusal() -> DescribeAclsResponse {
        DescribeAclsResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::SECURITY_DISABLED,
            error_message: Some("off".into()),
            resources: Vec::new(),
        }
    }

    #[test]
    fn the_refusal_in_classic_and_flexible_versions() {
        let classic: &[&[u8]] = &[
            &[0, 0, 0, 0], // throttle_time_ms: 0
            &[0, 54],      // error_code: SECURITY_DISABLED
            &[0, 3],
            b"off",        // error_message: STRING "off"
            &[0, 0, 0, 0], // resources: ARRAY of 0
        ];
        assert_eq!(encode_body(0, &refusal()), classic.concat());
        assert_eq!(encode_body(1, &refusal()), classic.concat());
        let flexible: &[&[u8]] = &[
            &[0, 0, 0, 0], // throttle_time_ms: 0
            &[0, 54],      // error_code: SECURITY_DISABLED
            &[4],
            b"off", // error_message: COMPACT_STRING "off"
            &[1],   // resources: COMPACT_ARRAY of 0
            &[0],   // tagged fields: none
        ];
        assert_eq!(encode_body(3, &refusal()), flexible.concat());
    }

    #[test]
    fn resources_with_and_without_pattern_types() {
        let resp = DescribeAclsResponse {
            resources: vec![AclResource {
                resource_type: 2,
                resource_name: "t".into(),
                pattern_type: 4,
                acls: vec![AclEntry {
                    principal: "User:a".into(),
                    host: "*".into(),
                    operation: 3,
                    permission_type: 3,
                }],
            }],
            ..DescribeAclsResponse::default()
        };
        let head: &[u8] = &[0, 0, 0, 0, 0, 0, 0xff, 0xff]; // throttle 0, NONE, message null
        let v0: &[&[u8]] = &[
            head,
            &[0, 0, 0, 1], // resources: ARRAY of 1
            &[2],          //   resource_type: TOPIC
            &[0, 1],
            b"t",          //   resource_name: STRING "t"
            &[0, 0, 0, 1], //   acls: ARRAY of 1
            &[0, 6],
            b"User:a", //     principal: STRING "User:a"
            &[0, 1],
            b"*", //     host: STRING "*"
            &[3], //     operation: READ
            &[3], //     permission_type: ALLOW
        ];
        assert_eq!(encode_body(0, &resp), v0.concat());
        let mut v1 = v0.concat();
        v1.insert(head.len() + 4 + 1 + 3, 4); // pattern_type: PREFIXED, after the name
        assert_eq!(encode_body(1, &resp), v1);
        let v2: &[&[u8]] = &[
            &[0, 0, 0, 0, 0, 0, 0], // throttle 0, NONE, message null (compact)
            &[2],                   // resources: COMPACT_ARRAY of 1
            &[2],                   //   resource_type: TOPIC
            &[2],
            b"t", //   resource_name: COMPACT_STRING "t"
            &[4], //   pattern_type: PREFIXED
            &[2], //   acls: COMPACT_ARRAY of 1
            &[7],
            b"User:a", //     principal
            &[2],
            b"*", //     host
            &[3], //     operation: READ
            &[3], //     permission_type: ALLOW
            &[0], //     tagged fields: none
            &[0], //   tagged fields: none
            &[0], // tagged fields: none
        ];
        assert_eq!(encode_body(2, &resp), v2.concat());
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
        // A v1 body read as v0 has a byte left over (the pattern type shifts every field).
        assert!(decode_body(&v1_request(), 0).is_err());
    }
}
