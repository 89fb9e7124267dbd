//! Security on (`auth.enabled`): logins over the native protocol (SCRAM in AUTH frames),
//! what an unauthenticated connection may do, ACLs on requests, and the admin listener's
//! tokens and basic credentials.

use std::sync::Arc;

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use memstream_auth::acl::{Acl, Operation, PatternType, Permission, ResourcePattern, ResourceType};
use memstream_broker::config::ConfigHandle;
use memstream_client::{
    Client, ClientError, ClientOptions, Credentials, Producer, ProducerOptions, Record,
};
use memstream_engine::access::Access;
use memstream_protocol::message::{AuthRequest, StreamSettings};
use memstream_protocol::{ErrorCode, Frame, Opcode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::common::{test_config, Peer, TestServer, WAIT};

pub(crate) struct Secure {
    pub(crate) server: TestServer,
    pub(crate) token: String,
    _dir: tempfile::TempDir,
}

pub(crate) fn allow(who: &str, t: ResourceType, name: &str, op: Operation) -> Acl {
    Acl {
        principal: who.into(),
        host: "*".into(),
        resource: ResourcePattern {
            resource_type: t,
            name: name.into(),
            pattern_type: PatternType::Literal,
        },
        operation: op,
        permission: Permission::Allow,
    }
}

/// A server with security on, users `root` (a superuser) and `alice` (may write and read
/// `orders`), and an admin token for root.
pub(crate) async fn secure() -> Secure {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = test_config(dir.path());
    cfg.auth.enabled = true;
    cfg.auth.superusers = vec!["root".into()];
    cfg.auth.failure_delay_ms = 0;
    let token = {
        let access = Access::open(Some(dir.path()), &cfg.auth).unwrap();
        access.users.add("root", b"t00r", 0).unwrap();
        access.users.add("alice", b"wonderland", 0).unwrap();
        access
            .authorizer
            .add(vec![
                allow(
                    "User:alice",
                    ResourceType::Stream,
                    "orders",
                    Operation::Write,
                ),
                allow(
                    "User:alice",
                    ResourceType::Stream,
                    "orders",
                    Operation::Read,
                ),
                // Everyone reads orders.*, but alice not the audit stream: deny wins.
                Acl {
                    resource: ResourcePattern {
                        pattern_type: PatternType::Prefixed,
                        ..allow("User:*", ResourceType::Stream, "orders.", Operation::Read).resource
                    },
                    ..allow("User:*", ResourceType::Stream, "orders.", Operation::Read)
                },
                Acl {
                    permission: Permission::Deny,
                    ..allow(
                        "User:alice",
                        ResourceType::Stream,
                        "orders.audit",
                        Operation::Read,
                    )
                },
            ])
            .unwrap();
        access.tokens.create("ops", "root", 0, None).unwrap()
    };
    let server = TestServer::start_with(ConfigHandle::fixed(cfg)).await;
    Secure {
        server,
        token,
        _dir: dir,
    }
}

pub(crate) async fn login(
    s: &Secure,
    user: &str,
    password: &[u8],
) -> Result<Arc<Client>, ClientError> {
    let options = ClientOptions {
        credentials: Some(Credentials::new(user, password)),
        ..ClientOptions::default()
    };
    Client::connect_with(s.server.addr, options)
        .await
        .map(Arc::new)
}

#[tokio::test]
async fn clients_log_in_with_scram_and_acls_decide_the_rest() {
    let s = secure().await;
    // No credentials: the client says what is needed.
    let err = Client::connect(s.server.addr).await.err().expect("refused");
    assert!(
        matches!(&err, ClientError::Auth(m) if m.contains("--user")),
        "{err}"
    );
    // A wrong password and an unknown user: the same refusal.
    for (user, password) in [("alice", &b"nope"[..]), ("mallory", b"wonderland")] {
        let err = login(&s, user, password).await.err().expect("refused");
        assert_eq!(
            err.code(),
            Some(ErrorCode::AuthenticationFailed),
            "{user}: {err}"
        );
    }

    let root = login(&s, "root", b"t00r").await.unwrap();
    for stream in ["orders", "secret"] {
        root.admin()
            .create_stream(stream, 1, StreamSettings::default())
            .await
            .unwrap();
    }
    let alice = login(&s, "alice", b"wonderland").await.unwrap();
    let listed: Vec<String> = alice
        .admin()
        .list_streams()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(listed, ["orders"], "only what alice may describe");
    let producer = Producer::new(alice.clone(), "orders", ProducerOptions::default())
        .await
        .unwrap();
    let receipt = producer.send(Record::value("paid")).await;
    receipt.await.expect("alice may write orders");
    let err = alice.admin().describe_stream("secret").await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NotAuthorized), "{err}");
    assert!(
        err.to_string()
            .contains("User:alice may not describe stream \"secret\""),
        "{err}"
    );
    let err = alice
        .admin()
        .create_stream("mine", 1, StreamSettings::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::NotAuthorized), "{err}");
    s.server.stop().await;
}

#[tokio::test]
async fn before_a_login_only_the_handshake_is_served() {
    let s = secure().await;
    let mut peer = Peer::connect(s.server.addr).await;
    let hello = peer.hello().await;
    assert_eq!(hello.auth_mechanisms, ["SCRAM-SHA-256", "SCRAM-SHA-512"]);
    peer.send(&Frame::request(Opcode::Ping, 2, Bytes::from_static(b"hi")))
        .await;
    assert!(!peer.read().await.expect("pong").is_error());
    // A mechanism not offered: refused, the connection goes on.
    let mut payload = BytesMut::new();
    AuthRequest {
        mechanism: "PLAIN".into(),
        data: Bytes::from_static(b"\0alice\0wonderland"),
    }
    .encode(&mut payload);
    peer.send(&Frame::request(Opcode::Auth, 3, payload.freeze()))
        .await;
    peer.expect_error(ErrorCode::AuthenticationFailed).await;
    // Anything else ends the connection.
    peer.send(&Frame::request(Opcode::StreamList, 4, Bytes::new()))
        .await;
    peer.expect_error(ErrorCode::AuthenticationRequired).await;
    peer.expect_closed().await;
    s.server.stop().await;
}

async fn admin_get(s: &Secure, authorization: Option<String>) -> (String, String) {
    let mut conn = tokio::net::TcpStream::connect(s.server.admin)
        .await
        .unwrap();
    let header = authorization.map_or(String::new(), |a| format!("authorization: {a}\r\n"));
    conn.write_all(
        format!("GET /metrics HTTP/1.1\r\nhost: x\r\nconnection: close\r\n{header}\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut out = String::new();
    tokio::time::timeout(WAIT, conn.read_to_string(&mut out))
        .await
        .unwrap()
        .unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    (head.to_owned(), body.to_owned())
}

#[tokio::test]
async fn the_admin_listener_takes_tokens_and_basic_credentials() {
    let s = secure().await;
    let (head, _) = admin_get(&s, None).await;
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    assert!(head.contains("www-authenticate: Basic"), "{head}");
    let (head, body) = admin_get(&s, Some(format!("Bearer {}", s.token))).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(body.contains("memstream_auth_failures_total"), "{body}");
    let (head, _) = admin_get(&s, Some("Bearer mst_wrong".into())).await;
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    let basic = |user: &str, pw: &str| {
        let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"));
        Some(format!("Basic {b64}"))
    };
    let (head, _) = admin_get(&s, basic("root", "t00r")).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let (head, body) = admin_get(&s, basic("alice", "wonderland")).await;
    assert!(head.starts_with("HTTP/1.1 403"), "{head} {body}");
    let (head, _) = admin_get(&s, basic("alice", "nope")).await;
    assert!(head.starts_with("HTTP/1.1 401"), "{head}");
    let (health, _) = s.server.admin_get("/health").await;
    assert!(health.contains("200"), "{health}");
    s.server.stop().await;
}

#[tokio::test]
async fn consume_delete_join_and_commit_need_their_acls_and_deny_wins_in_patterns() {
    use memstream_client::{GroupConsumer, GroupOptions, Subscription};
    use memstream_protocol::message::{CommitOffsets, OffsetSpec, PartitionOffset};
    use memstream_protocol::Request;
    let s = secure().await;
    let root = login(&s, "root", b"t00r").await.unwrap();
    for stream in ["orders", "secret", "orders.eu", "orders.audit"] {
        root.admin()
            .create_stream(stream, 1, StreamSettings::default())
            .await
            .unwrap();
    }
    let alice = login(&s, "alice", b"wonderland").await.unwrap();
    let refused = |r: Result<(), ClientError>| {
        let err = r.expect_err("refused");
        assert_eq!(err.code(), Some(ErrorCode::NotAuthorized), "{err}");
    };
    let wait = std::time::Duration::ZERO;
    alice
        .fetch("orders", 0, OffsetSpec::Earliest, 1 << 20, wait)
        .await
        .unwrap();
    refused(
        alice
            .fetch("secret", 0, OffsetSpec::Earliest, 1 << 20, wait)
            .await
            .map(drop),
    );
    refused(
        alice
            .fetch("orders.audit", 0, OffsetSpec::Earliest, 1 << 20, wait)
            .await
            .map(drop),
    );
    refused(
        Subscription::start(alice.clone(), "secret", OffsetSpec::Earliest, 1 << 20)
            .await
            .map(drop),
    );
    refused(alice.admin().delete_stream("orders").await);
    refused(
        GroupConsumer::join(
            alice.clone(),
            "billing",
            &["orders"],
            GroupOptions::default(),
        )
        .await
        .map(drop),
    );
    let commit = Request::CommitOffsets(CommitOffsets {
        group: "billing".into(),
        member_id: String::new(),
        generation: 0,
        offsets: vec![PartitionOffset {
            stream: "orders".into(),
            partition: 0,
            offset: 0,
        }],
    });
    refused(alice.call(&commit).await.map(drop));

    // A pattern reads only the permitted streams, also those created after it started.
    let mut sub = Subscription::start(alice.clone(), "orders.*", OffsetSpec::Earliest, 1 << 20)
        .await
        .unwrap();
    root.admin()
        .create_stream("orders.us", 1, StreamSettings::default())
        .await
        .unwrap();
    for stream in ["orders.audit", "orders.eu", "orders.us"] {
        let p = Producer::new(root.clone(), stream, ProducerOptions::default())
            .await
            .unwrap();
        p.send(Record::value(stream.to_string()))
            .await
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let record = tokio::time::timeout(WAIT, sub.next())
            .await
            .expect("pushed")
            .expect("open")
            .expect("a record");
        seen.push(record.stream.to_string());
    }
    seen.sort();
    assert_eq!(seen, ["orders.eu", "orders.us"], "never orders.audit");
    s.server.stop().await;
}
