//! The ACL model, Kafka's: a principal (`User:alice` or `User:*`), a host (`*` or an
//! address), a resource pattern (a stream by literal name or by prefix, a consumer group, the
//! cluster), an operation, and allow or deny. Filters select ACLs for listing and removal
//! with Kafka's matching rules (`AclBindingFilter`).
//!
//! The rules of a decision live in [`crate::authorizer`]; this module is the data.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::principal::Principal;

/// The name of the one cluster resource (Kafka's `kafka-cluster`).
pub const CLUSTER_NAME: &str = "kafka-cluster";

/// The wildcard for a literal resource name, a host or a principal name.
pub const WILDCARD: &str = "*";

/// What kind of thing an ACL is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceType {
    /// A stream (a Kafka topic).
    Stream,
    /// A consumer group.
    Group,
    /// The cluster: creating streams, reading cluster state, managing security.
    Cluster,
}

/// How a resource name in an ACL matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternType {
    /// The name itself (or every name, for `*`).
    Literal,
    /// Every name starting with it.
    Prefixed,
}

/// What a principal does to a resource (Kafka's `AclOperation`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// Every operation.
    All,
    /// Consume; fetch a group's offsets; join a group.
    Read,
    /// Produce.
    Write,
    /// Create streams.
    Create,
    /// Delete streams, groups, records.
    Delete,
    /// Change a stream (partitions, settings) or the cluster's security.
    Alter,
    /// See a resource exists (implied by read, write, delete and alter).
    Describe,
    /// Cluster administration (Kafka's `ClusterAction`).
    ClusterAction,
    /// Read settings (implied by alter_configs).
    DescribeConfigs,
    /// Change settings.
    AlterConfigs,
    /// Produce with an idempotent producer id (Kafka's `IdempotentWrite`).
    IdempotentWrite,
}

impl Operation {
    /// Every operation, in the order of [`Operation::index`].
    pub const ALL: [Operation; 11] = [
        Operation::All,
        Operation::Read,
        Operation::Write,
        Operation::Create,
        Operation::Delete,
        Operation::Alter,
        Operation::Describe,
        Operation::ClusterAction,
        Operation::DescribeConfigs,
        Operation::AlterConfigs,
        Operation::IdempotentWrite,
    ];

    /// A dense index, for bit sets.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The name in config, the CLI and JSON (`read`, `cluster_action`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Operation::All => "all",
            Operation::Read => "read",
            Operation::Write => "write",
            Operation::Create => "create",
            Operation::Delete => "delete",
            Operation::Alter => "alter",
            Operation::Describe => "describe",
            Operation::ClusterAction => "cluster_action",
            Operation::DescribeConfigs => "describe_configs",
            Operation::AlterConfigs => "alter_configs",
            Operation::IdempotentWrite => "idempotent_write",
        }
    }

    /// Parses a name; `-` and `_` are the same, case is ignored, and `admin` is
    /// `cluster_action`.
    pub fn from_name(s: &str) -> Option<Operation> {
        let s = s.to_ascii_lowercase().replace('-', "_");
        if s == "admin" || s == "cluster_admin" {
            return Some(Operation::ClusterAction);
        }
        Operation::ALL.into_iter().find(|op| op.name() == s)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Allow or deny; deny wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Grants the operation.
    Allow,
    /// Refuses it, whatever else allows it.
    Deny,
}

/// The resources an ACL covers.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ResourcePattern {
    /// The kind of resource.
    pub resource_type: ResourceType,
    /// The name, the prefix, or `*`. For the cluster, [`CLUSTER_NAME`].
    pub name: String,
    /// How `name` matches.
    pub pattern_type: PatternType,
}

impl ResourcePattern {
    /// Whether this pattern covers the resource `name` of `resource_type`.
    pub fn covers(&self, resource_type: ResourceType, name: &str) -> bool {
        self.resource_type == resource_type
            && match self.pattern_type {
                PatternType::Literal => self.name == WILDCARD || self.name == name,
                PatternType::Prefixed => name.starts_with(self.name.as_str()),
            }
    }
}

/// One access control entry bound to its resources.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Acl {
    /// `User:<name>` or `User:*`.
    pub principal: String,
    /// The client address it applies to, or `*`.
    pub host: String,
    /// What it is about.
    pub resource: ResourcePattern,
    /// What it allows or denies.
    pub operation: Operation,
    /// Allow or deny.
    pub permission: Permission,
}

/// Why an ACL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AclError {
    /// The principal is not `User:<name>` or `User:*`.
    #[error(transparent)]
    Principal(#[from] crate::principal::PrincipalError),
    /// An empty resource name.
    #[error("the resource name is empty")]
    EmptyName,
    /// A cluster ACL must name the cluster literally.
    #[error("a cluster ACL names the cluster {CLUSTER_NAME:?} literally")]
    ClusterName,
    /// An empty host.
    #[error("the host is empty (use * for every host)")]
    EmptyHost,
}

impl Acl {
    /// Checks the fields an ACL must have right before it is stored; a cluster ACL's name is
    /// made [`CLUSTER_NAME`] when it was left empty.
    pub fn validate(mut self) -> Result<Acl, AclError> {
        Principal::parse(&self.principal)?;
        if self.host.is_empty() {
            return Err(AclError::EmptyHost);
        }
        if self.resource.resource_type == ResourceType::Cluster {
            if self.resource.name.is_empty() {
                self.resource.name = CLUSTER_NAME.into();
            }
            if self.resource.name != CLUSTER_NAME
                || self.resource.pattern_type != PatternType::Literal
            {
                return Err(AclError::ClusterName);
            }
        }
        if self.resource.name.is_empty() {
            return Err(AclError::EmptyName);
        }
        Ok(self)
    }

    /// Whether this ACL applies to `principal` connecting from `host`.
    pub fn applies_to(&self, principal: &Principal, host: &str) -> bool {
        let who = match self.principal.split_once(':') {
            Some((_, name)) => name == WILDCARD || name == principal.name(),
            None => false,
        };
        who && (self.host == WILDCARD || self.host == host)
    }
}

impl fmt::Display for Acl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.resource.resource_type {
            ResourceType::Stream => "stream",
            ResourceType::Group => "group",
            ResourceType::Cluster => "cluster",
        };
        let pattern = match self.resource.pattern_type {
            PatternType::Literal => "",
            PatternType::Prefixed => "*(prefix)",
        };
        write!(
            f,
            "{} {} {} on {kind} {}{pattern} from host {}",
            self.principal,
            match self.permission {
                Permission::Allow => "allow",
                Permission::Deny => "deny",
            },
            self.operation,
            self.resource.name,
            self.host
        )
    }
}

/// How a filter matches resource patterns (Kafka's `PatternType` in filters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PatternFilter {
    /// Any pattern type with exactly the filter's name.
    #[default]
    Any,
    /// Every ACL that would apply to a resource of the filter's name: the literal name, the
    /// wildcard, and every prefix of it.
    Match,
    /// This pattern type with exactly the filter's name.
    Exact(PatternType),
}

/// Selects ACLs: each `None` matches everything.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AclFilter {
    /// Exactly this principal string.
    pub principal: Option<String>,
    /// Exactly this host.
    pub host: Option<String>,
    /// This kind of resource.
    pub resource_type: Option<ResourceType>,
    /// This resource name, matched per `pattern`.
    pub name: Option<String>,
    /// How `name` matches.
    pub pattern: PatternFilter,
    /// This operation.
    pub operation: Option<Operation>,
    /// This permission.
    pub permission: Option<Permission>,
}

impl AclFilter {
    /// Whether `acl` is selected.
    pub fn matches(&self, acl: &Acl) -> bool {
        let eq = |want: &Option<String>, have: &String| want.as_ref().is_none_or(|w| w == have);
        eq(&self.principal, &acl.principal)
            && eq(&self.host, &acl.host)
            && self
                .resource_type
                .is_none_or(|t| t == acl.resource.resource_type)
            && self.operation.is_none_or(|o| o == acl.operation)
            && self.permission.is_none_or(|p| p == acl.permission)
            && self.matches_pattern(&acl.resource)
    }

    fn matches_pattern(&self, resource: &ResourcePattern) -> bool {
        match self.pattern {
            PatternFilter::Any => self.name.as_ref().is_none_or(|n| *n == resource.name),
            PatternFilter::Exact(p) => {
                p == resource.pattern_type && self.name.as_ref().is_none_or(|n| *n == resource.name)
            }
            PatternFilter::Match => match &self.name {
                None => true,
                Some(n) => resource.covers(resource.resource_type, n),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acl(principal: &str, kind: ResourceType, name: &str, pattern: PatternType) -> Acl {
        Acl {
            principal: principal.into(),
            host: WILDCARD.into(),
            resource: ResourcePattern {
                resource_type: kind,
                name: name.into(),
                pattern_type: pattern,
            },
            operation: Operation::Read,
            permission: Permission::Allow,
        }
    }

    #[test]
    fn patterns_cover_names() {
        let lit = acl(
            "User:a",
            ResourceType::Stream,
            "orders",
            PatternType::Literal,
        );
        let any = acl("User:a", ResourceType::Stream, "*", PatternType::Literal);
        let pre = acl("User:a", ResourceType::Stream, "ord", PatternType::Prefixed);
        for a in [&lit, &any, &pre] {
            assert!(a.resource.covers(ResourceType::Stream, "orders"));
            assert!(!a.resource.covers(ResourceType::Group, "orders"));
        }
        assert!(!lit.resource.covers(ResourceType::Stream, "orders2"));
        assert!(pre.resource.covers(ResourceType::Stream, "ord"));
        assert!(!pre.resource.covers(ResourceType::Stream, "or"));
    }

    #[test]
    fn principals_and_hosts_apply() {
        let mut a = acl("User:*", ResourceType::Stream, "s", PatternType::Literal);
        assert!(a.applies_to(&Principal::user("bob"), "10.0.0.1"));
        a.principal = "User:alice".into();
        a.host = "10.0.0.1".into();
        assert!(a.applies_to(&Principal::user("alice"), "10.0.0.1"));
        assert!(!a.applies_to(&Principal::user("alice"), "10.0.0.2"));
        assert!(!a.applies_to(&Principal::user("bob"), "10.0.0.1"));
    }

    #[test]
    fn validation() {
        let a = acl("alice", ResourceType::Stream, "s", PatternType::Literal);
        assert!(matches!(a.validate(), Err(AclError::Principal(_))));
        let c = acl("User:a", ResourceType::Cluster, "", PatternType::Literal);
        assert_eq!(c.validate().unwrap().resource.name, CLUSTER_NAME);
        let c = acl("User:a", ResourceType::Cluster, "x", PatternType::Literal);
        assert_eq!(c.validate(), Err(AclError::ClusterName));
        let e = acl("User:a", ResourceType::Group, "", PatternType::Prefixed);
        assert_eq!(e.validate(), Err(AclError::EmptyName));
    }

    #[test]
    fn filters_follow_kafka() {
        let lit = acl(
            "User:a",
            ResourceType::Stream,
            "orders",
            PatternType::Literal,
        );
        let pre = acl("User:a", ResourceType::Stream, "ord", PatternType::Prefixed);
        let all = AclFilter::default();
        assert!(all.matches(&lit) && all.matches(&pre));
        let exact_name = AclFilter {
            name: Some("orders".into()),
            ..AclFilter::default()
        };
        assert!(exact_name.matches(&lit) && !exact_name.matches(&pre));
        let matching = AclFilter {
            name: Some("orders".into()),
            pattern: PatternFilter::Match,
            ..AclFilter::default()
        };
        assert!(matching.matches(&lit) && matching.matches(&pre));
        let prefixed_only = AclFilter {
            pattern: PatternFilter::Exact(PatternType::Prefixed),
            ..AclFilter::default()
        };
        assert!(!prefixed_only.matches(&lit) && prefixed_only.matches(&pre));
        let other_principal = AclFilter {
            principal: Some("User:b".into()),
            ..AclFilter::default()
        };
        assert!(!other_principal.matches(&lit));
    }

    #[test]
    fn operation_names_round_trip() {
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.name()), Some(op));
            assert_eq!(
                op.index(),
                Operation::ALL.iter().position(|o| *o == op).unwrap()
            );
        }
        assert_eq!(
            Operation::from_name("Cluster-Action"),
            Some(Operation::ClusterAction)
        );
        assert_eq!(
            Operation::from_name("admin"),
            Some(Operation::ClusterAction)
        );
        assert_eq!(Operation::from_name("fly"), None);
    }
}
