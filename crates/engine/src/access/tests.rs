use std::net::{IpAddr, Ipv4Addr};

use memstream_auth::acl::{Acl, PatternType, Permission, ResourcePattern};
use memstream_auth::scram::{Mechanism, ScramClient};

use super::login::{Failure, Step, PLAIN, SCRAM_SHA_256, SCRAM_SHA_512};
use super::*;

fn peer(n: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, n))
}

fn enabled(max_failures: u32) -> Access {
    let config = AuthConfig {
        enabled: true,
        superusers: vec!["root".into()],
        max_failures_per_minute: max_failures,
        ..AuthConfig::default()
    };
    let access = Access::open(None, &config).unwrap();
    access.users.add("alice", b"wonderland", 0).unwrap();
    access
}

fn grant(access: &Access, who: &str, t: ResourceType, name: &str, op: Operation) {
    let acl = Acl {
        principal: who.into(),
        host: "*".into(),
        resource: ResourcePattern {
            resource_type: t,
            name: name.into(),
            pattern_type: PatternType::Literal,
        },
        operation: op,
        permission: Permission::Allow,
    };
    access.authorizer.add(vec![acl]).unwrap();
}

#[test]
fn security_off_allows_everything() {
    let access = Access::disabled();
    let s = access.session(None, peer(1));
    assert!(!access.enabled());
    for a in [
        Action::Produce("x"),
        Action::AlterSecurity,
        Action::DeleteGroup("g"),
    ] {
        assert_eq!(access.check(&s, a), Ok(()));
    }
}

#[test]
fn actions_need_what_kafka_needs() {
    let access = enabled(10);
    let alice = access.session(Some(Principal::user("alice")), peer(1));
    let denied = access.check(&alice, Action::Produce("orders")).unwrap_err();
    assert_eq!(
        denied.to_string(),
        "User:alice may not write stream \"orders\""
    );
    grant(
        &access,
        "User:alice",
        ResourceType::Stream,
        "orders",
        Operation::Write,
    );
    assert_eq!(access.check(&alice, Action::Produce("orders")), Ok(()));
    // WRITE on some stream is enough for an idempotent producer id (Kafka 3).
    assert_eq!(access.check(&alice, Action::IdempotentWrite), Ok(()));
    // Write implies describe; read does not follow from write.
    assert!(access.may_describe_stream(&alice, "orders"));
    assert!(access.check(&alice, Action::Consume("orders")).is_err());

    // CREATE on the stream itself, or on the cluster.
    assert!(access.check(&alice, Action::CreateStream("new")).is_err());
    grant(
        &access,
        "User:alice",
        ResourceType::Stream,
        "new",
        Operation::Create,
    );
    assert_eq!(access.check(&alice, Action::CreateStream("new")), Ok(()));

    // Committing needs READ on the group and on the stream.
    let commit = Action::CommitOffsets {
        group: "billing",
        stream: "orders",
    };
    let d = access.check(&alice, commit).unwrap_err();
    assert_eq!(
        (d.operation, d.resource_type),
        (Operation::Read, ResourceType::Group)
    );
    grant(
        &access,
        "User:alice",
        ResourceType::Group,
        "billing",
        Operation::Read,
    );
    let d = access.check(&alice, commit).unwrap_err();
    assert_eq!(
        (d.operation, d.resource_type),
        (Operation::Read, ResourceType::Stream)
    );
    grant(
        &access,
        "User:alice",
        ResourceType::Stream,
        "orders",
        Operation::Read,
    );
    assert_eq!(access.check(&alice, commit), Ok(()));

    let root = access.session(Some(Principal::user("root")), peer(1));
    assert_eq!(access.check(&root, Action::AlterSecurity), Ok(()));
    let anon = access.session(None, peer(1));
    assert!(access.check(&anon, Action::DescribeCluster).is_err());
    assert_eq!(access.counters.denied.load(Ordering::Relaxed), 6);
    assert!(access
        .render_metrics()
        .contains("memstream_auth_denied_total 6\n"));
}

fn scram_login(access: &Access, m: Mechanism, user: &str, password: &[u8], from: IpAddr) -> Step {
    let mut login = access.login(m.name(), from, false).unwrap();
    let mut client = ScramClient::new(m, user, password).unwrap();
    let server_first = match login.step(access, &client.client_first(), 0) {
        Step::Challenge(c) => c,
        other => return other,
    };
    let client_final = client.server_first(&server_first).unwrap();
    let step = login.step(access, &client_final, 0);
    if let Step::Success { message, .. } = &step {
        client.server_final(message).unwrap();
    }
    step
}

#[test]
fn scram_logins_succeed_and_fail_the_same_way_for_unknown_users() {
    let access = enabled(10);
    for m in Mechanism::ALL {
        match scram_login(&access, m, "alice", b"wonderland", peer(1)) {
            Step::Success { principal, .. } => assert_eq!(principal, Principal::user("alice")),
            other => panic!("{other:?}"),
        }
    }
    let wrong = scram_login(&access, Mechanism::ScramSha512, "alice", b"nope", peer(1));
    let unknown = scram_login(&access, Mechanism::ScramSha512, "mallory", b"nope", peer(1));
    assert!(
        matches!(wrong, Step::Failure(Failure::BadCredentials { .. })),
        "{wrong:?}"
    );
    assert!(
        matches!(unknown, Step::Failure(Failure::BadCredentials { .. })),
        "{unknown:?}"
    );
    assert_eq!(access.counters.successes.load(Ordering::Relaxed), 2);
    assert_eq!(access.counters.failures.load(Ordering::Relaxed), 2);
}

#[test]
fn plain_is_offered_only_over_tls_unless_allowed() {
    let access = enabled(10);
    assert_eq!(access.mechanisms(false), [SCRAM_SHA_256, SCRAM_SHA_512]);
    assert!(access.login(PLAIN, peer(1), false).is_err());
    let mut login = access.login(PLAIN, peer(1), true).unwrap();
    let msg = memstream_auth::plain::encode("alice", b"wonderland");
    assert!(matches!(login.step(&access, &msg, 0), Step::Success { .. }));
    let mut login = access.login(PLAIN, peer(1), true).unwrap();
    let bad = memstream_auth::plain::encode("alice", b"x");
    assert!(matches!(
        login.step(&access, &bad, 0),
        Step::Failure(Failure::BadCredentials { .. })
    ));
    let err = access.login("GSSAPI", peer(1), true).unwrap_err();
    assert!(
        err.to_string()
            .contains("SCRAM-SHA-256, SCRAM-SHA-512, PLAIN"),
        "{err}"
    );
    access.reconfigure(&AuthConfig {
        allow_plain_without_tls: true,
        ..AuthConfig::default()
    });
    assert!(access.login(PLAIN, peer(1), false).is_ok());
}

#[test]
fn repeated_failures_from_one_address_are_throttled_and_others_are_not() {
    let access = enabled(2);
    for _ in 0..2 {
        let s = scram_login(&access, Mechanism::ScramSha256, "alice", b"bad", peer(7));
        assert!(matches!(s, Step::Failure(Failure::BadCredentials { .. })));
    }
    // Even the right password is not checked now.
    let s = scram_login(
        &access,
        Mechanism::ScramSha256,
        "alice",
        b"wonderland",
        peer(7),
    );
    assert!(matches!(s, Step::Failure(Failure::Throttled)), "{s:?}");
    assert!(matches!(
        access.check_password("alice", b"wonderland", peer(7), 0),
        Err(Failure::Throttled)
    ));
    let s = scram_login(
        &access,
        Mechanism::ScramSha256,
        "alice",
        b"wonderland",
        peer(8),
    );
    assert!(matches!(s, Step::Success { .. }), "{s:?}");
    assert_eq!(access.counters.throttled.load(Ordering::Relaxed), 2);
}

#[test]
fn a_malformed_exchange_fails_and_counts() {
    let access = enabled(10);
    let mut login = access.login(SCRAM_SHA_256, peer(1), false).unwrap();
    let s = login.step(&access, b"p=tls-unique,,n=alice,r=x", 0);
    assert!(
        matches!(s, Step::Failure(Failure::Malformed { .. })),
        "{s:?}"
    );
    let s = login.step(&access, b"anything", 0);
    assert!(
        matches!(s, Step::Failure(Failure::Malformed { .. })),
        "{s:?}"
    );
    assert_eq!(access.counters.failures.load(Ordering::Relaxed), 2);
}
