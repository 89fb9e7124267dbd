//! ACL bindings and binding filters as the ACL APIs (DescribeAcls, CreateAcls, DeleteAcls)
//! carry them: a resource pattern (type, name, pattern type) and an access control entry
//! (principal, host, operation, permission type). The enums stay Kafka's `INT8` codes.
//!
//! v0 of the ACL APIs has no pattern type: it reads as [`PATTERN_LITERAL`]. v1 adds it
//! (KIP-290, prefixed ACLs); v2 is the first flexible version of all three APIs.

use crate::codec::{Reader, Result, Writer};

/// Kafka's `PatternType.LITERAL`: the resource name is matched exactly (`*` for every
/// resource). What v0 requests mean.
pub const PATTERN_LITERAL: i8 = 3;

/// Whether `version` of an ACL API carries pattern types.
fn has_pattern_type(version: i16) -> bool {
    version >= 1
}

/// One ACL, as CreateAcls creates it (and DeleteAcls reports it deleted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AclBinding {
    /// `ResourceType` code (2 topic, 3 group, 4 cluster, ...).
    pub resource_type: i8,
    /// The resource's name.
    pub resource_name: String,
    /// `PatternType` code (3 literal, 4 prefixed).
    pub pattern_type: i8,
    /// The principal, e.g. `User:alice`.
    pub principal: String,
    /// The host, or `*`.
    pub host: String,
    /// `AclOperation` code.
    pub operation: i8,
    /// `AclPermissionType` code (2 deny, 3 allow).
    pub permission_type: i8,
}

/// A filter over ACLs, as DescribeAcls and DeleteAcls take it: null strings and the `ANY`
/// codes match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AclFilter {
    /// `ResourceType` code (1 any).
    pub resource_type: i8,
    /// The resource name, or null for any.
    pub resource_name: Option<String>,
    /// `PatternType` code (1 any, 2 match).
    pub pattern_type: i8,
    /// The principal, or null for any.
    pub principal: Option<String>,
    /// The host, or null for any.
    pub host: Option<String>,
    /// `AclOperation` code (1 any).
    pub operation: i8,
    /// `AclPermissionType` code (1 any).
    pub permission_type: i8,
}

/// Reads one creation of a CreateAcls request in `version`.
pub(crate) fn decode_binding(r: &mut Reader, version: i16) -> Result<AclBinding> {
    let resource_type = r.i8("resource_type")?;
    let resource_name = r.string("resource_name")?;
    let pattern_type = if has_pattern_type(version) {
        r.i8("resource_pattern_type")?
    } else {
        PATTERN_LITERAL
    };
    let principal = r.string("principal")?;
    let host = r.string("host")?;
    let operation = r.i8("operation")?;
    let permission_type = r.i8("permission_type")?;
    r.tagged_fields()?;
    Ok(AclBinding {
        resource_type,
        resource_name,
        pattern_type,
        principal,
        host,
        operation,
        permission_type,
    })
}

/// Reads one filter in `version`: the body of DescribeAcls, an entry of DeleteAcls' filters.
/// The caller reads the structure's tagged fields (DescribeAcls has them at the body's end).
pub(crate) fn decode_filter(r: &mut Reader, version: i16) -> Result<AclFilter> {
    let resource_type = r.i8("resource_type_filter")?;
    let resource_name = r.nullable_string("resource_name_filter")?;
    let pattern_type = if has_pattern_type(version) {
        r.i8("pattern_type_filter")?
    } else {
        PATTERN_LITERAL
    };
    let principal = r.nullable_string("principal_filter")?;
    let host = r.nullable_string("host_filter")?;
    let operation = r.i8("operation")?;
    let permission_type = r.i8("permission_type")?;
    Ok(AclFilter {
        resource_type,
        resource_name,
        pattern_type,
        principal,
        host,
        operation,
        permission_type,
    })
}

/// Writes a resource pattern: type, name, and the pattern type from v1.
pub(crate) fn encode_resource(
    w: &mut Writer,
    version: i16,
    resource_type: i8,
    resource_name: &str,
    pattern_type: i8,
) {
    w.i8(resource_type);
    w.string(resource_name);
    if has_pattern_type(version) {
        w.i8(pattern_type);
    }
}

/// Writes an access control entry: principal, host, operation, permission type.
pub(crate) fn encode_entry(
    w: &mut Writer,
    principal: &str,
    host: &str,
    operation: i8,
    permission_type: i8,
) {
    w.string(principal);
    w.string(host);
    w.i8(operation);
    w.i8(permission_type);
}
