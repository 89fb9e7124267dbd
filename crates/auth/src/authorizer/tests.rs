use super::*;
use crate::acl::{PatternFilter, PatternType, ResourcePattern};

fn settings(superusers: &[&str]) -> AuthzSettings {
    AuthzSettings {
        enabled: true,
        superusers: superusers.iter().map(|s| s.to_string()).collect(),
        acls_max: 100,
        decision_cache_entries_max: 16,
    }
}

fn acl(
    principal: &str,
    t: ResourceType,
    name: &str,
    p: PatternType,
    op: Operation,
    perm: Permission,
) -> Acl {
    Acl {
        principal: principal.into(),
        host: "*".into(),
        resource: ResourcePattern {
            resource_type: t,
            name: name.into(),
            pattern_type: p,
        },
        operation: op,
        permission: perm,
    }
}

fn allow(principal: &str, t: ResourceType, name: &str, op: Operation) -> Acl {
    acl(
        principal,
        t,
        name,
        PatternType::Literal,
        op,
        Permission::Allow,
    )
}

#[test]
fn nothing_matching_is_refused_and_an_allow_grants() {
    let a = Authorizer::open(None, &settings(&[])).unwrap();
    let alice = Session::new(Principal::user("alice"), "127.0.0.1");
    assert!(!a.authorize(&alice, Operation::Write, ResourceType::Stream, "orders"));
    a.add(vec![allow(
        "User:alice",
        ResourceType::Stream,
        "orders",
        Operation::Write,
    )])
    .unwrap();
    assert!(a.authorize(&alice, Operation::Write, ResourceType::Stream, "orders"));
    assert!(!a.authorize(&alice, Operation::Read, ResourceType::Stream, "orders"));
    assert!(!a.authorize(&alice, Operation::Write, ResourceType::Stream, "payments"));
    let bob = Session::new(Principal::user("bob"), "127.0.0.1");
    assert!(!a.authorize(&bob, Operation::Write, ResourceType::Stream, "orders"));
}

#[test]
fn deny_wins_over_allow_and_over_wildcards() {
    let a = Authorizer::open(None, &settings(&[])).unwrap();
    a.add(vec![
        acl(
            "User:*",
            ResourceType::Stream,
            "*",
            PatternType::Literal,
            Operation::All,
            Permission::Allow,
        ),
        acl(
            "User:mallory",
            ResourceType::Stream,
            "sec",
            PatternType::Prefixed,
            Operation::Read,
            Permission::Deny,
        ),
    ])
    .unwrap();
    let m = Session::new(Principal::user("mallory"), "10.1.1.1");
    assert!(!a.authorize(&m, Operation::Read, ResourceType::Stream, "secrets"));
    assert!(a.authorize(&m, Operation::Write, ResourceType::Stream, "secrets"));
    assert!(a.authorize(&m, Operation::Read, ResourceType::Stream, "public"));
    let o = Session::new(Principal::user("olivia"), "10.1.1.1");
    assert!(a.authorize(&o, Operation::Read, ResourceType::Stream, "secrets"));
}

#[test]
fn describe_is_implied_by_read_write_delete_alter() {
    let a = Authorizer::open(None, &settings(&[])).unwrap();
    for (user, op) in [
        ("r", Operation::Read),
        ("w", Operation::Write),
        ("d", Operation::Delete),
        ("a", Operation::Alter),
        ("c", Operation::Create),
    ] {
        a.add(vec![allow(
            &format!("User:{user}"),
            ResourceType::Stream,
            "s",
            op,
        )])
        .unwrap();
        let s = Session::new(Principal::user(user), "h");
        assert_eq!(
            a.authorize(&s, Operation::Describe, ResourceType::Stream, "s"),
            op != Operation::Create,
            "{op}"
        );
    }
    a.add(vec![allow(
        "User:cfg",
        ResourceType::Stream,
        "s",
        Operation::AlterConfigs,
    )])
    .unwrap();
    let s = Session::new(Principal::user("cfg"), "h");
    assert!(a.authorize(&s, Operation::DescribeConfigs, ResourceType::Stream, "s"));
    assert!(!a.authorize(&s, Operation::Describe, ResourceType::Stream, "s"));
}

#[test]
fn superusers_may_do_everything_and_can_change() {
    let a = Authorizer::open(None, &settings(&["User:admin"])).unwrap();
    let admin = Session::new(Principal::user("admin"), "h");
    assert!(a.authorize(
        &admin,
        Operation::Delete,
        ResourceType::Cluster,
        "kafka-cluster"
    ));
    a.set_superusers(&["root".to_string()]);
    assert!(!a.authorize(
        &admin,
        Operation::Delete,
        ResourceType::Cluster,
        "kafka-cluster"
    ));
    let root = Session::new(Principal::user("root"), "h");
    assert!(a.authorize(
        &root,
        Operation::Delete,
        ResourceType::Cluster,
        "kafka-cluster"
    ));
}

#[test]
fn a_revoked_permission_takes_effect_on_the_next_decision_of_a_cached_session() {
    let a = Authorizer::open(None, &settings(&[])).unwrap();
    let s = Session::new(Principal::user("alice"), "h");
    a.add(vec![allow(
        "User:alice",
        ResourceType::Group,
        "g",
        Operation::Read,
    )])
    .unwrap();
    assert!(a.authorize(&s, Operation::Read, ResourceType::Group, "g"));
    assert!(
        a.authorize(&s, Operation::Read, ResourceType::Group, "g"),
        "cached"
    );
    let removed = a
        .remove(&AclFilter {
            principal: Some("User:alice".into()),
            ..AclFilter::default()
        })
        .unwrap();
    assert_eq!(removed.len(), 1);
    assert!(!a.authorize(&s, Operation::Read, ResourceType::Group, "g"));
}

#[test]
fn hosts_restrict() {
    let a = Authorizer::open(None, &settings(&[])).unwrap();
    let mut x = allow("User:alice", ResourceType::Stream, "s", Operation::Read);
    x.host = "10.0.0.7".into();
    a.add(vec![x]).unwrap();
    assert!(a.authorize(
        &Session::new(Principal::user("alice"), "10.0.0.7"),
        Operation::Read,
        ResourceType::Stream,
        "s"
    ));
    assert!(!a.authorize(
        &Session::new(Principal::user("alice"), "10.0.0.8"),
        Operation::Read,
        ResourceType::Stream,
        "s"
    ));
}

#[test]
fn disabled_allows_everything() {
    let mut st = settings(&[]);
    st.enabled = false;
    let a = Authorizer::open(None, &st).unwrap();
    let s = Session::new(Principal::anonymous(), "h");
    assert!(a.authorize(&s, Operation::Delete, ResourceType::Stream, "x"));
}

#[test]
fn acls_survive_reopen_and_duplicates_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let a = Authorizer::open(Some(dir.path()), &settings(&[])).unwrap();
    let one = allow("User:alice", ResourceType::Stream, "s", Operation::Read);
    assert_eq!(a.add(vec![one.clone(), one.clone()]).unwrap(), 1);
    assert_eq!(a.add(vec![one.clone()]).unwrap(), 0);
    drop(a);
    let b = Authorizer::open(Some(dir.path()), &settings(&[])).unwrap();
    assert_eq!(b.list(&AclFilter::default()), vec![one]);
}

#[test]
fn the_acl_limit_is_enforced() {
    let mut st = settings(&[]);
    st.acls_max = 2;
    let a = Authorizer::open(None, &st).unwrap();
    a.add(vec![allow(
        "User:a",
        ResourceType::Stream,
        "1",
        Operation::Read,
    )])
    .unwrap();
    a.add(vec![allow(
        "User:a",
        ResourceType::Stream,
        "2",
        Operation::Read,
    )])
    .unwrap();
    let err = a
        .add(vec![allow(
            "User:a",
            ResourceType::Stream,
            "3",
            Operation::Read,
        )])
        .unwrap_err();
    assert!(err.to_string().contains("auth.max_acls"), "{err}");
    assert_eq!(a.list(&AclFilter::default()).len(), 2);
}

#[test]
fn a_corrupt_file_is_refused_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(ACLS_FILE), b"{not json").unwrap();
    let err = Authorizer::open(Some(dir.path()), &settings(&[])).unwrap_err();
    assert!(err.to_string().contains("acls.json"), "{err}");
}

#[test]
fn the_decision_cache_stays_bounded_and_correct() {
    let a = Authorizer::open(None, &settings(&[])).unwrap();
    a.add(vec![acl(
        "User:a",
        ResourceType::Stream,
        "even",
        PatternType::Prefixed,
        Operation::Read,
        Permission::Allow,
    )])
    .unwrap();
    let s = Session::new(Principal::user("a"), "h");
    for i in 0..200 {
        let name = if i % 2 == 0 {
            format!("even{i}")
        } else {
            format!("odd{i}")
        };
        assert_eq!(
            a.authorize(&s, Operation::Read, ResourceType::Stream, &name),
            i % 2 == 0
        );
        assert!(s.cache.lock().unwrap().entries <= 16);
    }
}

#[test]
fn filters_with_match_remove_prefixed_and_wildcard_acls() {
    let a = Authorizer::open(None, &settings(&[])).unwrap();
    a.add(vec![
        acl(
            "User:a",
            ResourceType::Stream,
            "ord",
            PatternType::Prefixed,
            Operation::Read,
            Permission::Allow,
        ),
        acl(
            "User:a",
            ResourceType::Stream,
            "*",
            PatternType::Literal,
            Operation::Read,
            Permission::Allow,
        ),
        acl(
            "User:a",
            ResourceType::Stream,
            "other",
            PatternType::Literal,
            Operation::Read,
            Permission::Allow,
        ),
    ])
    .unwrap();
    let removed = a
        .remove(&AclFilter {
            name: Some("orders".into()),
            pattern: PatternFilter::Match,
            ..AclFilter::default()
        })
        .unwrap();
    assert_eq!(removed.len(), 2);
    assert_eq!(a.list(&AclFilter::default()).len(), 1);
}

#[test]
fn may_on_any_needs_one_allow_and_no_blanket_deny() {
    let a = Authorizer::open(None, &settings(&[])).unwrap();
    let s = Session::new(Principal::user("p"), "h");
    assert!(!a.may_on_any(&s, Operation::Write, ResourceType::Stream));
    a.add(vec![allow(
        "User:p",
        ResourceType::Stream,
        "orders",
        Operation::Write,
    )])
    .unwrap();
    assert!(a.may_on_any(&s, Operation::Write, ResourceType::Stream));
    assert!(!a.may_on_any(&s, Operation::Write, ResourceType::Group));
    a.add(vec![acl(
        "User:*",
        ResourceType::Stream,
        "*",
        PatternType::Literal,
        Operation::Write,
        Permission::Deny,
    )])
    .unwrap();
    assert!(!a.may_on_any(&s, Operation::Write, ResourceType::Stream));
}
