//! The wire's users and ACLs to and from `memstream-auth`'s, in one place for the server and
//! the client: every mapping is total both ways, so nothing can be lost in translation.

use memstream_auth::acl::{
    Acl, AclFilter, Operation, PatternFilter, PatternType, Permission, ResourcePattern,
    ResourceType,
};
use memstream_auth::scram::{Mechanism, ScramCredential};
use memstream_auth::users;

use super::{
    AclFilterMsg, AclOperation, AclPattern, AclPatternFilter, AclPermission, AclResource, PutMode,
    WireAcl, WireCredential, WireMechanism,
};

impl From<Mechanism> for WireMechanism {
    fn from(m: Mechanism) -> Self {
        match m {
            Mechanism::ScramSha256 => WireMechanism::ScramSha256,
            Mechanism::ScramSha512 => WireMechanism::ScramSha512,
        }
    }
}

impl From<WireMechanism> for Mechanism {
    fn from(m: WireMechanism) -> Self {
        match m {
            WireMechanism::ScramSha256 => Mechanism::ScramSha256,
            WireMechanism::ScramSha512 => Mechanism::ScramSha512,
        }
    }
}

impl From<PutMode> for users::PutMode {
    fn from(m: PutMode) -> Self {
        match m {
            PutMode::Create => users::PutMode::Create,
            PutMode::Update => users::PutMode::Update,
            PutMode::Upsert => users::PutMode::Upsert,
        }
    }
}

impl From<&ScramCredential> for WireCredential {
    fn from(c: &ScramCredential) -> Self {
        WireCredential {
            mechanism: c.mechanism.into(),
            iterations: c.iterations,
            salt: c.salt.clone(),
            stored_key: c.stored_key.clone(),
            server_key: c.server_key.clone(),
        }
    }
}

impl From<WireCredential> for ScramCredential {
    fn from(c: WireCredential) -> Self {
        ScramCredential {
            mechanism: c.mechanism.into(),
            salt: c.salt,
            iterations: c.iterations,
            stored_key: c.stored_key,
            server_key: c.server_key,
        }
    }
}

fn resource(t: ResourceType) -> AclResource {
    match t {
        ResourceType::Stream => AclResource::Stream,
        ResourceType::Group => AclResource::Group,
        ResourceType::Cluster => AclResource::Cluster,
    }
}

fn resource_type(t: AclResource) -> ResourceType {
    match t {
        AclResource::Stream => ResourceType::Stream,
        AclResource::Group => ResourceType::Group,
        AclResource::Cluster => ResourceType::Cluster,
    }
}

fn pattern(p: PatternType) -> AclPattern {
    match p {
        PatternType::Literal => AclPattern::Literal,
        PatternType::Prefixed => AclPattern::Prefixed,
    }
}

fn pattern_type(p: AclPattern) -> PatternType {
    match p {
        AclPattern::Literal => PatternType::Literal,
        AclPattern::Prefixed => PatternType::Prefixed,
    }
}

fn permission(p: Permission) -> AclPermission {
    match p {
        Permission::Allow => AclPermission::Allow,
        Permission::Deny => AclPermission::Deny,
    }
}

fn permission_of(p: AclPermission) -> Permission {
    match p {
        AclPermission::Allow => Permission::Allow,
        AclPermission::Deny => Permission::Deny,
    }
}

fn operation(o: Operation) -> AclOperation {
    match o {
        Operation::All => AclOperation::All,
        Operation::Read => AclOperation::Read,
        Operation::Write => AclOperation::Write,
        Operation::Create => AclOperation::Create,
        Operation::Delete => AclOperation::Delete,
        Operation::Alter => AclOperation::Alter,
        Operation::Describe => AclOperation::Describe,
        Operation::ClusterAction => AclOperation::ClusterAction,
        Operation::DescribeConfigs => AclOperation::DescribeConfigs,
        Operation::AlterConfigs => AclOperation::AlterConfigs,
        Operation::IdempotentWrite => AclOperation::IdempotentWrite,
    }
}

fn operation_of(o: AclOperation) -> Operation {
    match o {
        AclOperation::All => Operation::All,
        AclOperation::Read => Operation::Read,
        AclOperation::Write => Operation::Write,
        AclOperation::Create => Operation::Create,
        AclOperation::Delete => Operation::Delete,
        AclOperation::Alter => Operation::Alter,
        AclOperation::Describe => Operation::Describe,
        AclOperation::ClusterAction => Operation::ClusterAction,
        AclOperation::DescribeConfigs => Operation::DescribeConfigs,
        AclOperation::AlterConfigs => Operation::AlterConfigs,
        AclOperation::IdempotentWrite => Operation::IdempotentWrite,
    }
}

impl From<&Acl> for WireAcl {
    fn from(a: &Acl) -> Self {
        WireAcl {
            principal: a.principal.clone(),
            host: a.host.clone(),
            resource_type: resource(a.resource.resource_type),
            name: a.resource.name.clone(),
            pattern_type: pattern(a.resource.pattern_type),
            operation: operation(a.operation),
            permission: permission(a.permission),
        }
    }
}

impl From<WireAcl> for Acl {
    fn from(a: WireAcl) -> Self {
        Acl {
            principal: a.principal,
            host: a.host,
            resource: ResourcePattern {
                resource_type: resource_type(a.resource_type),
                name: a.name,
                pattern_type: pattern_type(a.pattern_type),
            },
            operation: operation_of(a.operation),
            permission: permission_of(a.permission),
        }
    }
}

impl From<&AclFilter> for AclFilterMsg {
    fn from(f: &AclFilter) -> Self {
        AclFilterMsg {
            principal: f.principal.clone(),
            host: f.host.clone(),
            resource_type: f.resource_type.map(resource),
            name: f.name.clone(),
            pattern: match f.pattern {
                PatternFilter::Any => AclPatternFilter::Any,
                PatternFilter::Match => AclPatternFilter::Match,
                PatternFilter::Exact(PatternType::Literal) => AclPatternFilter::Literal,
                PatternFilter::Exact(PatternType::Prefixed) => AclPatternFilter::Prefixed,
            },
            operation: f.operation.map(operation),
            permission: f.permission.map(permission),
        }
    }
}

impl From<AclFilterMsg> for AclFilter {
    fn from(f: AclFilterMsg) -> Self {
        AclFilter {
            principal: f.principal,
            host: f.host,
            resource_type: f.resource_type.map(resource_type),
            name: f.name,
            pattern: match f.pattern {
                AclPatternFilter::Any => PatternFilter::Any,
                AclPatternFilter::Match => PatternFilter::Match,
                AclPatternFilter::Literal => PatternFilter::Exact(PatternType::Literal),
                AclPatternFilter::Prefixed => PatternFilter::Exact(PatternType::Prefixed),
            },
            operation: f.operation.map(operation_of),
            permission: f.permission.map(permission_of),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_maps_both_ways_and_the_codes_follow_the_domain_order() {
        for (i, op) in Operation::ALL.into_iter().enumerate() {
            let wire = operation(op);
            assert_eq!(operation_of(wire), op);
            assert_eq!(usize::from(wire.code()), i + 1, "{op}");
        }
        assert_eq!(AclOperation::ALL.len(), Operation::ALL.len());
    }

    #[test]
    fn acls_and_filters_survive_the_round_trip() {
        for t in [
            ResourceType::Stream,
            ResourceType::Group,
            ResourceType::Cluster,
        ] {
            for p in [PatternType::Literal, PatternType::Prefixed] {
                for perm in [Permission::Allow, Permission::Deny] {
                    let acl = Acl {
                        principal: "User:bob".into(),
                        host: "10.0.0.1".into(),
                        resource: ResourcePattern {
                            resource_type: t,
                            name: "x".into(),
                            pattern_type: p,
                        },
                        operation: Operation::Read,
                        permission: perm,
                    };
                    assert_eq!(Acl::from(WireAcl::from(&acl)), acl);
                }
            }
        }
        for pattern in [
            PatternFilter::Any,
            PatternFilter::Match,
            PatternFilter::Exact(PatternType::Literal),
            PatternFilter::Exact(PatternType::Prefixed),
        ] {
            let f = AclFilter {
                principal: Some("User:*".into()),
                resource_type: Some(ResourceType::Group),
                pattern,
                permission: Some(Permission::Deny),
                ..AclFilter::default()
            };
            assert_eq!(AclFilter::from(AclFilterMsg::from(&f)), f);
        }
    }
}
