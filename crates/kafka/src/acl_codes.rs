//! Kafka's ACL enums (INT8 codes in the ACL APIs) and the authorizer's types: the one place
//! they are translated. Topics are streams; transactional ids, delegation tokens and users
//! have no ACLs here and are refused as INVALID_REQUEST.

use memstream_auth::acl::{
    Acl, AclFilter, Operation, PatternFilter, PatternType, Permission, ResourcePattern,
    ResourceType,
};
use memstream_kafka_wire::acl::{AclBinding, AclFilter as WireFilter};

const ANY: i8 = 1;

fn resource_type(code: i8) -> Result<Option<ResourceType>, String> {
    match code {
        ANY => Ok(None),
        2 => Ok(Some(ResourceType::Stream)),
        3 => Ok(Some(ResourceType::Group)),
        4 => Ok(Some(ResourceType::Cluster)),
        other => Err(format!(
            "resource type {other} has no ACLs here (topic 2, group 3, cluster 4)"
        )),
    }
}

fn resource_code(t: ResourceType) -> i8 {
    match t {
        ResourceType::Stream => 2,
        ResourceType::Group => 3,
        ResourceType::Cluster => 4,
    }
}

const OPERATIONS: [(i8, Operation); 11] = [
    (2, Operation::All),
    (3, Operation::Read),
    (4, Operation::Write),
    (5, Operation::Create),
    (6, Operation::Delete),
    (7, Operation::Alter),
    (8, Operation::Describe),
    (9, Operation::ClusterAction),
    (10, Operation::DescribeConfigs),
    (11, Operation::AlterConfigs),
    (12, Operation::IdempotentWrite),
];

fn operation(code: i8) -> Result<Option<Operation>, String> {
    if code == ANY {
        return Ok(None);
    }
    OPERATIONS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, o)| Some(*o))
        .ok_or_else(|| format!("operation {code} is not one this broker knows"))
}

fn operation_code(op: Operation) -> i8 {
    OPERATIONS
        .iter()
        .find(|(_, o)| *o == op)
        .map_or(0, |(c, _)| *c)
}

fn permission(code: i8) -> Result<Option<Permission>, String> {
    match code {
        ANY => Ok(None),
        2 => Ok(Some(Permission::Deny)),
        3 => Ok(Some(Permission::Allow)),
        other => Err(format!(
            "permission type {other} is not deny (2) or allow (3)"
        )),
    }
}

fn permission_code(p: Permission) -> i8 {
    match p {
        Permission::Deny => 2,
        Permission::Allow => 3,
    }
}

fn pattern_code(p: PatternType) -> i8 {
    match p {
        PatternType::Literal => 3,
        PatternType::Prefixed => 4,
    }
}

/// A binding to create, checked.
pub(crate) fn acl(b: &AclBinding) -> Result<Acl, String> {
    let resource_type = resource_type(b.resource_type)?.ok_or("resource type ANY in an ACL")?;
    let pattern_type = match b.pattern_type {
        3 => PatternType::Literal,
        4 => PatternType::Prefixed,
        other => {
            return Err(format!(
                "pattern type {other} is not literal (3) or prefixed (4)"
            ))
        }
    };
    let acl = Acl {
        principal: b.principal.clone(),
        host: b.host.clone(),
        resource: ResourcePattern {
            resource_type,
            name: b.resource_name.clone(),
            pattern_type,
        },
        operation: operation(b.operation)?.ok_or("operation ANY in an ACL")?,
        permission: permission(b.permission_type)?.ok_or("permission ANY in an ACL")?,
    };
    acl.validate().map_err(|e| e.to_string())
}

/// A stored ACL as Kafka shows it.
pub(crate) fn binding(a: &Acl) -> AclBinding {
    AclBinding {
        resource_type: resource_code(a.resource.resource_type),
        resource_name: a.resource.name.clone(),
        pattern_type: pattern_code(a.resource.pattern_type),
        principal: a.principal.clone(),
        host: a.host.clone(),
        operation: operation_code(a.operation),
        permission_type: permission_code(a.permission),
    }
}

/// A filter, checked.
pub(crate) fn filter(f: &WireFilter) -> Result<AclFilter, String> {
    let pattern = match f.pattern_type {
        ANY => PatternFilter::Any,
        2 => PatternFilter::Match,
        3 => PatternFilter::Exact(PatternType::Literal),
        4 => PatternFilter::Exact(PatternType::Prefixed),
        other => {
            return Err(format!(
                "pattern type {other} is not any, match, literal or prefixed"
            ))
        }
    };
    Ok(AclFilter {
        principal: f.principal.clone(),
        host: f.host.clone(),
        resource_type: resource_type(f.resource_type)?,
        name: f.resource_name.clone(),
        pattern,
        operation: operation(f.operation)?,
        permission: permission(f.permission_type)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bindings_round_trip_and_bad_codes_are_named() {
        let b = AclBinding {
            resource_type: 2,
            resource_name: "orders".into(),
            pattern_type: 4,
            principal: "User:alice".into(),
            host: "*".into(),
            operation: 3,
            permission_type: 3,
        };
        let a = acl(&b).unwrap();
        assert_eq!(a.resource.pattern_type, PatternType::Prefixed);
        assert_eq!(binding(&a), b);
        for (field, bad) in [
            (
                "resource type 5",
                AclBinding {
                    resource_type: 5,
                    ..b.clone()
                },
            ),
            (
                "operation 13",
                AclBinding {
                    operation: 13,
                    ..b.clone()
                },
            ),
            (
                "operation ANY",
                AclBinding {
                    operation: 1,
                    ..b.clone()
                },
            ),
            (
                "permission type 0",
                AclBinding {
                    permission_type: 0,
                    ..b.clone()
                },
            ),
            (
                "pattern type 2",
                AclBinding {
                    pattern_type: 2,
                    ..b.clone()
                },
            ),
        ] {
            let err = acl(&bad).unwrap_err();
            assert!(err.contains(field), "{err}");
        }
        let f = WireFilter {
            resource_type: 1,
            resource_name: None,
            pattern_type: 2,
            principal: None,
            host: None,
            operation: 1,
            permission_type: 1,
        };
        let f = filter(&f).unwrap();
        assert_eq!(f.pattern, PatternFilter::Match);
        assert!(f.matches(&a));
    }
}
