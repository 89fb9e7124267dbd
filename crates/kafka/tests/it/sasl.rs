//! A SASL listener (`auth.enabled`) at its boundary: Kafka's SaslHandshake and
//! SaslAuthenticate with SCRAM (v1, as librdkafka sends them) and raw tokens after a v0
//! handshake (as kafka-python sends them), refusals, and what an unauthenticated connection
//! may not do.

use bytes::{BufMut, Bytes, BytesMut};
use memstream_auth::scram::{Mechanism, ScramClient};
use memstream_auth::AuthConfig;
use memstream_engine::access::Access;
use memstream_kafka::KafkaConfig;
use memstream_kafka_wire::{ErrorCode, Reader};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::raw::{closed, metadata_v1, request, response, server_with, Server, WAIT};

const SASL_HANDSHAKE: i16 = 17;
const SASL_AUTHENTICATE: i16 = 36;

fn auth() -> AuthConfig {
    AuthConfig {
        enabled: true,
        failure_delay_ms: 0,
        max_unauthenticated_request_bytes: 1024,
        ..AuthConfig::default()
    }
}

async fn sasl_server() -> Server {
    let access = Access::open(None, &auth()).unwrap();
    access.users.add("alice", b"wonderland", 0).unwrap();
    server_with(KafkaConfig::default(), access, auth()).await
}

fn string(s: &str) -> Vec<u8> {
    let mut b = (s.len() as i16).to_be_bytes().to_vec();
    b.extend(s.as_bytes());
    b
}

fn bytes(data: &[u8]) -> Vec<u8> {
    let mut b = (data.len() as i32).to_be_bytes().to_vec();
    b.extend(data);
    b
}

/// Handshake: (error, mechanisms).
async fn handshake(
    conn: &mut TcpStream,
    version: i16,
    mechanism: &str,
) -> (ErrorCode, Vec<String>) {
    conn.write_all(&request(SASL_HANDSHAKE, version, 1, &string(mechanism)))
        .await
        .unwrap();
    let (_, body) = response(conn).await;
    let mut r = Reader::new(body, false);
    let error = ErrorCode(r.i16("error").unwrap());
    let n = r.array_len("mechanisms").unwrap();
    let names = (0..n).map(|_| r.string("m").unwrap()).collect();
    (error, names)
}

/// SaslAuthenticate v1: (error, message, auth bytes).
async fn sasl_authenticate(
    conn: &mut TcpStream,
    id: i32,
    token: &[u8],
) -> (ErrorCode, Option<String>, Bytes) {
    conn.write_all(&request(SASL_AUTHENTICATE, 1, id, &bytes(token)))
        .await
        .unwrap();
    let (correlation, body) = response(conn).await;
    assert_eq!(correlation, id);
    let mut r = Reader::new(body, false);
    let error = ErrorCode(r.i16("error").unwrap());
    let message = r.nullable_string("message").unwrap();
    let data = r.bytes("auth_bytes").unwrap();
    (error, message, data)
}

/// A SCRAM login over SaslAuthenticate; the server's final message is checked.
async fn scram_login(
    conn: &mut TcpStream,
    m: Mechanism,
    password: &[u8],
) -> (ErrorCode, Option<String>) {
    let (error, offered) = handshake(conn, 1, m.name()).await;
    assert_eq!(error, ErrorCode::NONE);
    assert_eq!(
        offered,
        ["SCRAM-SHA-256", "SCRAM-SHA-512"],
        "no PLAIN without TLS"
    );
    let mut client = ScramClient::new(m, "alice", password).unwrap();
    let (error, _, server_first) = sasl_authenticate(conn, 2, &client.client_first()).await;
    assert_eq!(error, ErrorCode::NONE);
    let client_final = client.server_first(&server_first).unwrap();
    let (error, message, server_final) = sasl_authenticate(conn, 3, &client_final).await;
    if error == ErrorCode::NONE {
        client
            .server_final(&server_final)
            .expect("the server knew the credential");
    }
    (error, message)
}

async fn metadata_works(conn: &mut TcpStream) {
    conn.write_all(&request(3, 1, 9, &metadata_v1("t")))
        .await
        .unwrap();
    let (correlation, _) = response(conn).await;
    assert_eq!(correlation, 9);
}

#[tokio::test]
async fn scram_over_sasl_authenticate_logs_in_and_then_serves_requests() {
    let s = sasl_server().await;
    for m in Mechanism::ALL {
        let mut conn = TcpStream::connect(s.addr).await.unwrap();
        assert_eq!(
            scram_login(&mut conn, m, b"wonderland").await,
            (ErrorCode::NONE, None)
        );
        metadata_works(&mut conn).await;
        // Re-authentication is not offered.
        assert_eq!(
            handshake(&mut conn, 1, m.name()).await.0,
            ErrorCode::ILLEGAL_SASL_STATE
        );
    }
}

#[tokio::test]
async fn a_wrong_password_fails_like_an_unknown_user_and_closes() {
    let s = sasl_server().await;
    let mut conn = TcpStream::connect(s.addr).await.unwrap();
    let (error, message) = scram_login(&mut conn, Mechanism::ScramSha512, b"wrong").await;
    assert_eq!(error, ErrorCode::SASL_AUTHENTICATION_FAILED);
    let message = message.unwrap();
    assert!(
        message.contains("invalid credentials with SASL mechanism SCRAM-SHA-512"),
        "{message}"
    );
    assert!(closed(&mut conn).await);

    let mut conn = TcpStream::connect(s.addr).await.unwrap();
    handshake(&mut conn, 1, "SCRAM-SHA-512").await;
    let mut client = ScramClient::new(Mechanism::ScramSha512, "mallory", b"wrong").unwrap();
    let (error, _, server_first) = sasl_authenticate(&mut conn, 2, &client.client_first()).await;
    assert_eq!(
        error,
        ErrorCode::NONE,
        "an unknown user gets a challenge too"
    );
    let client_final = client.server_first(&server_first).unwrap();
    let (error, unknown, _) = sasl_authenticate(&mut conn, 3, &client_final).await;
    assert_eq!(error, ErrorCode::SASL_AUTHENTICATION_FAILED);
    assert_eq!(
        unknown.as_deref(),
        Some(message.as_str()),
        "the same answer"
    );
    assert!(closed(&mut conn).await);
}

#[tokio::test]
async fn raw_tokens_after_a_v0_handshake() {
    let s = sasl_server().await;
    let mut conn = TcpStream::connect(s.addr).await.unwrap();
    assert_eq!(
        handshake(&mut conn, 0, "SCRAM-SHA-256").await.0,
        ErrorCode::NONE
    );
    let mut client = ScramClient::new(Mechanism::ScramSha256, "alice", b"wonderland").unwrap();
    let exchange = |token: Vec<u8>| {
        let mut b = BytesMut::new();
        b.put_u32(token.len() as u32);
        b.put_slice(&token);
        b
    };
    let first = exchange(client.client_first());
    conn.write_all(&first).await.unwrap();
    let server_first = raw_token(&mut conn).await;
    let fin = exchange(client.server_first(&server_first).unwrap());
    conn.write_all(&fin).await.unwrap();
    client.server_final(&raw_token(&mut conn).await).unwrap();
    metadata_works(&mut conn).await;
}

async fn raw_token(conn: &mut TcpStream) -> Vec<u8> {
    let mut size = [0u8; 4];
    tokio::time::timeout(WAIT, conn.read_exact(&mut size))
        .await
        .unwrap()
        .unwrap();
    let mut token = vec![0u8; u32::from_be_bytes(size) as usize];
    conn.read_exact(&mut token).await.unwrap();
    token
}

#[tokio::test]
async fn an_unauthenticated_connection_may_only_negotiate() {
    let s = sasl_server().await;
    // ApiVersions is answered.
    let mut conn = TcpStream::connect(s.addr).await.unwrap();
    conn.write_all(&request(18, 0, 5, &[])).await.unwrap();
    assert_eq!(response(&mut conn).await.0, 5);
    // Anything else closes the connection unanswered.
    conn.write_all(&request(3, 1, 6, &metadata_v1("t")))
        .await
        .unwrap();
    assert!(closed(&mut conn).await);

    // A request over auth.max_unauthenticated_request_bytes closes it.
    let mut conn = TcpStream::connect(s.addr).await.unwrap();
    let big = request(SASL_HANDSHAKE, 1, 1, &string(&"x".repeat(2000)));
    conn.write_all(&big).await.unwrap();
    assert!(closed(&mut conn).await);

    // An unknown mechanism is refused with the list, then closed; so is PLAIN without TLS.
    for mechanism in ["GSSAPI", "PLAIN"] {
        let mut conn = TcpStream::connect(s.addr).await.unwrap();
        let (error, offered) = handshake(&mut conn, 1, mechanism).await;
        assert_eq!(error, ErrorCode::UNSUPPORTED_SASL_MECHANISM);
        assert_eq!(offered, ["SCRAM-SHA-256", "SCRAM-SHA-512"]);
        assert!(closed(&mut conn).await);
    }

    // SaslAuthenticate without a handshake.
    let mut conn = TcpStream::connect(s.addr).await.unwrap();
    let (error, _, _) = sasl_authenticate(&mut conn, 1, b"n,,n=alice,r=x").await;
    assert_eq!(error, ErrorCode::ILLEGAL_SASL_STATE);
    assert!(closed(&mut conn).await);
}

/// The error of each topic in a Metadata v1 response.
fn metadata_topic_errors(body: Bytes) -> Vec<(String, ErrorCode)> {
    let mut r = Reader::new(body, false);
    for _ in 0..r.array_len("brokers").unwrap() {
        r.i32("node").unwrap();
        r.string("host").unwrap();
        r.i32("port").unwrap();
        r.nullable_string("rack").unwrap();
    }
    r.i32("controller").unwrap();
    let mut out = Vec::new();
    for _ in 0..r.array_len("topics").unwrap() {
        let error = ErrorCode(r.i16("error").unwrap());
        let name = r.string("name").unwrap();
        r.bool("internal").unwrap();
        for _ in 0..r.array_len("partitions").unwrap() {
            r.i16("error").unwrap();
            r.i32("index").unwrap();
            r.i32("leader").unwrap();
            for _ in 0..r.array_len("replicas").unwrap() {
                r.i32("replica").unwrap();
            }
            for _ in 0..r.array_len("isr").unwrap() {
                r.i32("isr").unwrap();
            }
        }
        out.push((name, error));
    }
    out
}

#[tokio::test]
async fn acls_decide_what_a_logged_in_user_may_do() {
    use memstream_auth::acl::{
        Acl, Operation, PatternType, Permission, ResourcePattern, ResourceType,
    };
    let access = Access::open(None, &auth()).unwrap();
    access.users.add("alice", b"wonderland", 0).unwrap();
    let allow = |t, name: &str, op| Acl {
        principal: "User:alice".into(),
        host: "*".into(),
        resource: ResourcePattern {
            resource_type: t,
            name: name.into(),
            pattern_type: PatternType::Literal,
        },
        operation: op,
        permission: Permission::Allow,
    };
    access
        .authorizer
        .add(vec![
            allow(ResourceType::Stream, "orders", Operation::Write),
            allow(ResourceType::Cluster, "kafka-cluster", Operation::Create),
        ])
        .unwrap();
    let s = server_with(KafkaConfig::default(), access, auth()).await;
    let mut conn = TcpStream::connect(s.addr).await.unwrap();
    assert_eq!(
        scram_login(&mut conn, Mechanism::ScramSha256, b"wonderland")
            .await
            .0,
        ErrorCode::NONE
    );

    let mut body = vec![0, 0, 0, 2];
    for t in ["orders", "secret"] {
        body.extend(string(t));
    }
    conn.write_all(&request(3, 1, 4, &body)).await.unwrap();
    let (_, answer) = response(&mut conn).await;
    assert_eq!(
        metadata_topic_errors(answer),
        [
            ("orders".to_string(), ErrorCode::NONE),
            ("secret".to_string(), ErrorCode::TOPIC_AUTHORIZATION_FAILED)
        ],
        "write implies describe; create on the cluster auto-creates what may be described"
    );
    // All topics: only what alice may describe.
    conn.write_all(&request(3, 1, 5, &[0xff, 0xff, 0xff, 0xff]))
        .await
        .unwrap();
    let (_, answer) = response(&mut conn).await;
    assert_eq!(
        metadata_topic_errors(answer),
        [("orders".to_string(), ErrorCode::NONE)]
    );

    let batch = super::raw::idempotent_batch(-1, -1, 1);
    for (id, topic, want) in [
        (6, "orders", ErrorCode::NONE),
        (7, "secret", ErrorCode::TOPIC_AUTHORIZATION_FAILED),
    ] {
        conn.write_all(&request(0, 3, id, &super::raw::produce_v3(topic, &batch)))
            .await
            .unwrap();
        let (_, answer) = response(&mut conn).await;
        assert_eq!(super::raw::produce_result(answer).0, want, "{topic}");
    }
}
