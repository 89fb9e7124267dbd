use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use memstream_auth::AuthConfig;
use memstream_engine::access::Access;
use memstream_engine::groups::Groups;
use memstream_engine::streams::Streams;
use memstream_engine::Engine;
use memstream_kafka::{Context, KafkaConfig, KafkaListener, KafkaMetrics, StaticSettings};
use memstream_kafka_wire::{ErrorCode, Reader};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

pub(super) const WAIT: Duration = Duration::from_secs(60);

pub(super) struct Server {
    pub(super) addr: std::net::SocketAddr,
    pub(super) metrics: Arc<KafkaMetrics>,
    shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub(super) async fn server(kafka: KafkaConfig) -> Server {
    server_with(kafka, Access::disabled(), AuthConfig::default()).await
}

/// A server whose engine has `access` (users, ACLs, login rules from `auth`).
pub(super) async fn server_with(kafka: KafkaConfig, access: Access, auth: AuthConfig) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let engine = Engine {
        streams: Arc::new(Streams::open(dir.path(), 1, 1000).unwrap()),
        groups: Arc::new(Groups::open(dir.path()).unwrap()),
        access: Arc::new(access),
    };
    let settings = StaticSettings {
        kafka,
        max_frame_bytes: 1 << 20,
        streams: memstream_engine::config::StreamsConfig {
            storage: "memory".into(),
            ..Default::default()
        },
        auth,
        ..Default::default()
    };
    let listener = KafkaListener::new(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap());
    let addr = listener.local_addr().unwrap();
    let metrics = Arc::new(KafkaMetrics::default());
    let shutdown = CancellationToken::new();
    let ctx = Arc::new(Context {
        engine,
        settings: Arc::new(settings),
        shutdown: shutdown.clone(),
        metrics: metrics.clone(),
        node_id: 1,
        cluster_id: "test".into(),
        bound: addr,
        tls: None,
        connections: Arc::default(),
    });
    tokio::spawn(async move {
        let mut tasks = tokio::task::JoinSet::new();
        listener.run(ctx, &mut tasks).await;
        while tasks.join_next().await.is_some() {}
    });
    Server {
        addr,
        metrics,
        shutdown,
        _dir: dir,
    }
}

/// A request: header v1 (client id "t") and `body`.
pub(super) fn request(api_key: i16, version: i16, correlation_id: i32, body: &[u8]) -> Vec<u8> {
    let mut b = BytesMut::new();
    b.put_i32((10 + 1 + body.len()) as i32);
    b.put_i16(api_key);
    b.put_i16(version);
    b.put_i32(correlation_id);
    b.put_i16(1);
    b.put_u8(b't');
    b.put_slice(body);
    b.to_vec()
}

/// Reads one response; returns (correlation id, body).
pub(super) async fn response(conn: &mut TcpStream) -> (i32, Bytes) {
    let mut size = [0u8; 4];
    tokio::time::timeout(WAIT, conn.read_exact(&mut size))
        .await
        .expect("a response")
        .expect("the connection stays open");
    let mut body = vec![0u8; i32::from_be_bytes(size) as usize];
    conn.read_exact(&mut body).await.unwrap();
    let body = Bytes::from(body);
    let correlation = i32::from_be_bytes(body[..4].try_into().unwrap());
    (correlation, body.slice(4..))
}

/// The connection is closed by the server (EOF, or a reset).
pub(super) async fn closed(conn: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    matches!(
        tokio::time::timeout(WAIT, conn.read(&mut byte))
            .await
            .expect("closed in time"),
        Ok(0) | Err(_)
    )
}

pub(super) fn metadata_v1(topic: &str) -> Vec<u8> {
    let mut b = vec![0, 0, 0, 1];
    b.extend((topic.len() as i16).to_be_bytes());
    b.extend(topic.as_bytes());
    b
}

/// A Produce v3 body with one batch for partition 0 of `topic`.
pub(super) fn produce_v3(topic: &str, batch: &[u8]) -> Vec<u8> {
    let mut b = vec![0xff, 0xff, 0xff, 0xff]; // transactional_id null, acks -1
    b.extend(10_000i32.to_be_bytes());
    b.extend(1i32.to_be_bytes());
    b.extend((topic.len() as i16).to_be_bytes());
    b.extend(topic.as_bytes());
    b.extend(1i32.to_be_bytes());
    b.extend(0i32.to_be_bytes());
    b.extend((batch.len() as i32).to_be_bytes());
    b.extend(batch);
    b
}

/// (error, base offset) of the only partition of a Produce v3 response.
pub(super) fn produce_result(body: Bytes) -> (ErrorCode, i64) {
    let mut r = Reader::new(body, false);
    r.array_len("topics").unwrap();
    r.string("name").unwrap();
    r.array_len("partitions").unwrap();
    r.i32("index").unwrap();
    let error = ErrorCode(r.i16("error").unwrap());
    (error, r.i64("base_offset").unwrap())
}

pub(super) fn idempotent_batch(producer_id: i64, sequence: i32, records: u32) -> Bytes {
    let mut b = memstream_batch::BatchBuilder::with_capacity(1024);
    for i in 0..records {
        b.push(
            1_700_000_000_000,
            None,
            format!("r{sequence}-{i}").as_bytes(),
            &[],
        );
    }
    b.finish(producer_id, 0, sequence)
}

pub(super) async fn connect_with_topic(s: &Server, topic: &str) -> TcpStream {
    let mut conn = TcpStream::connect(s.addr).await.unwrap();
    conn.write_all(&request(3, 1, 1, &metadata_v1(topic)))
        .await
        .unwrap();
    let (correlation, _) = response(&mut conn).await;
    assert_eq!(correlation, 1);
    conn
}

/// A retried idempotent batch is answered with its first offset and stored once; a sequence
/// gap is OUT_OF_ORDER_SEQUENCE_NUMBER; an unknown producer must start at 0.
#[tokio::test]
async fn idempotent_retries_get_the_original_offset_and_gaps_are_refused() {
    let s = server(KafkaConfig::default()).await;
    let mut conn = connect_with_topic(&s, "idem").await;
    let send = |batch: Bytes, id: i32| request(0, 3, id, &produce_v3("idem", &batch));
    let first = idempotent_batch(7, 0, 3);
    for (id, batch) in [
        (2, first.clone()),
        (3, idempotent_batch(7, 3, 2)),
        (4, first),
    ] {
        let req = send(batch, id);
        conn.write_all(&req).await.unwrap();
    }
    let answers: Vec<(ErrorCode, i64)> = [
        response(&mut conn).await,
        response(&mut conn).await,
        response(&mut conn).await,
    ]
    .into_iter()
    .map(|(_, body)| produce_result(body))
    .collect();
    assert_eq!(
        answers,
        [
            (ErrorCode::NONE, 0),
            (ErrorCode::NONE, 3),
            (ErrorCode::NONE, 0)
        ],
        "the retry of the first batch is answered with its offset"
    );
    let gap = send(idempotent_batch(7, 9, 1), 5);
    conn.write_all(&gap).await.unwrap();
    let (_, body) = response(&mut conn).await;
    assert_eq!(
        produce_result(body).0,
        ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER
    );
    let stranger = send(idempotent_batch(99, 4, 1), 6);
    conn.write_all(&stranger).await.unwrap();
    let (_, body) = response(&mut conn).await;
    assert_eq!(produce_result(body).0, ErrorCode::UNKNOWN_PRODUCER_ID);
    // Five records were stored, not eight: the next append starts at 5.
    let next = send(idempotent_batch(7, 5, 1), 7);
    conn.write_all(&next).await.unwrap();
    let (_, body) = response(&mut conn).await;
    assert_eq!(produce_result(body), (ErrorCode::NONE, 5));
}

/// A corrupted batch is CORRUPT_MESSAGE and the connection goes on.
#[tokio::test]
async fn a_corrupt_batch_is_refused_and_the_connection_goes_on() {
    let s = server(KafkaConfig::default()).await;
    let mut conn = connect_with_topic(&s, "crc").await;
    let mut batch = idempotent_batch(-1, -1, 2).to_vec();
    let last = batch.len() - 1;
    batch[last] ^= 0xff;
    conn.write_all(&request(0, 3, 2, &produce_v3("crc", &batch)))
        .await
        .unwrap();
    let (_, body) = response(&mut conn).await;
    assert_eq!(produce_result(body).0, ErrorCode::CORRUPT_MESSAGE);
    conn.write_all(&request(3, 1, 3, &metadata_v1("crc")))
        .await
        .unwrap();
    assert_eq!(response(&mut conn).await.0, 3);
}

/// Oversized, undecodable and unknown requests close their connection only, and are counted.
#[tokio::test]
async fn bad_requests_close_only_their_connection() {
    let kafka = KafkaConfig {
        max_request_bytes: 64 << 10,
        ..KafkaConfig::default()
    };
    let s = server(kafka).await;
    let mut healthy = connect_with_topic(&s, "t").await;

    // A size prefix over kafka.max_request_bytes: closed before the body is read.
    let mut big = TcpStream::connect(s.addr).await.unwrap();
    big.write_all(&(1i32 << 20).to_be_bytes()).await.unwrap();
    assert!(closed(&mut big).await);
    // A Metadata request whose topic array claims more entries than bytes.
    let mut bad = TcpStream::connect(s.addr).await.unwrap();
    bad.write_all(&request(3, 1, 1, &[0x7f, 0xff, 0xff, 0xff]))
        .await
        .unwrap();
    assert!(closed(&mut bad).await);
    // An API key nobody implements (and one the codec has but the broker does not serve).
    for key in [999, 21] {
        let mut unknown = TcpStream::connect(s.addr).await.unwrap();
        unknown.write_all(&request(key, 0, 1, &[])).await.unwrap();
        assert!(closed(&mut unknown).await, "key {key}");
    }
    assert_eq!(s.metrics.malformed_requests(), 4);

    healthy
        .write_all(&request(3, 1, 9, &metadata_v1("t")))
        .await
        .unwrap();
    assert_eq!(response(&mut healthy).await.0, 9, "other connections go on");
}

/// A client newer than the broker asks ApiVersions v9: UNSUPPORTED_VERSION in a v0 body
/// listing what is supported, so it can retry with a version the broker has.
#[tokio::test]
async fn a_newer_api_versions_gets_the_supported_list_in_v0() {
    let s = server(KafkaConfig::default()).await;
    let mut conn = TcpStream::connect(s.addr).await.unwrap();
    conn.write_all(&request(18, 9, 42, &[])).await.unwrap();
    let (correlation, body) = response(&mut conn).await;
    assert_eq!(correlation, 42);
    let mut r = Reader::new(body, false);
    assert_eq!(
        ErrorCode(r.i16("error").unwrap()),
        ErrorCode::UNSUPPORTED_VERSION
    );
    let apis = r
        .array("api_keys", |r| {
            Ok((r.i16("key")?, r.i16("min")?, r.i16("max")?))
        })
        .unwrap();
    assert!(apis.contains(&(18, 0, 3)), "{apis:?}");
    assert!(apis.iter().any(|&(k, _, _)| k == 0), "Produce is listed");
    assert!(
        !apis.iter().any(|&(k, _, _)| k == 21),
        "DeleteRecords is not served"
    );
    r.finish().unwrap();
    // The connection goes on: the client now asks v3.
    let mut v3 = request(18, 3, 43, &[2, b'x', 2, b'1', 0]);
    // Header v2 adds an empty tagged-field section after the client id.
    v3.insert(4 + 2 + 2 + 4 + 2 + 1, 0);
    let size = (v3.len() - 4) as i32;
    v3[..4].copy_from_slice(&size.to_be_bytes());
    conn.write_all(&v3).await.unwrap();
    let (correlation, body) = response(&mut conn).await;
    assert_eq!(correlation, 43);
    assert_eq!(i16::from_be_bytes([body[0], body[1]]), 0);
}

/// `kafka.max_connections`: one connection more is closed at once and counted; a slot freed
/// by a closing connection is taken again.
#[tokio::test]
async fn connections_past_the_limit_are_refused() {
    let s = server(KafkaConfig {
        max_connections: 1,
        ..KafkaConfig::default()
    })
    .await;
    let first = connect_with_topic(&s, "t").await;
    let mut second = TcpStream::connect(s.addr).await.unwrap();
    assert!(closed(&mut second).await);
    drop(first);
    // The first connection's task ends when it sees the close; retry until its slot is free.
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let mut again = TcpStream::connect(s.addr).await.unwrap();
        again
            .write_all(&request(3, 1, 5, &metadata_v1("t")))
            .await
            .unwrap();
        let mut size = [0u8; 4];
        match tokio::time::timeout(WAIT, again.read_exact(&mut size)).await {
            Ok(Ok(_)) => break,
            _ if tokio::time::Instant::now() < deadline => tokio::task::yield_now().await,
            _ => panic!("the freed slot was never reused"),
        }
    }
}

/// The API keys ApiVersions v0 advertises, with their version ranges.
async fn advertised(conn: &mut TcpStream) -> Vec<(i16, i16, i16)> {
    conn.write_all(&request(18, 0, 100, &[])).await.unwrap();
    let (correlation, body) = response(conn).await;
    assert_eq!(correlation, 100);
    let mut r = Reader::new(body, false);
    assert_eq!(ErrorCode(r.i16("error").unwrap()), ErrorCode::NONE);
    let apis = r
        .array("api_keys", |r| {
            Ok((r.i16("key")?, r.i16("min")?, r.i16("max")?))
        })
        .unwrap();
    r.finish().unwrap();
    apis
}

/// A client configured for SASL on this PLAINTEXT listener: SaslHandshake and
/// SaslAuthenticate are answered ILLEGAL_SASL_STATE (as a Kafka PLAINTEXT listener answers),
/// the handshake with no mechanisms, and the connection stays usable.
#[tokio::test]
async fn sasl_is_illegal_sasl_state_and_the_connection_goes_on() {
    let s = server(KafkaConfig::default()).await;
    let mut conn = connect_with_topic(&s, "sasl").await;
    let apis = advertised(&mut conn).await;
    assert!(apis.contains(&(17, 0, 1)), "SaslHandshake: {apis:?}");
    assert!(apis.contains(&(36, 0, 2)), "SaslAuthenticate: {apis:?}");

    for version in [0, 1] {
        let mut body = 5i16.to_be_bytes().to_vec();
        body.extend(b"PLAIN");
        conn.write_all(&request(17, version, 2, &body))
            .await
            .unwrap();
        let (correlation, body) = response(&mut conn).await;
        assert_eq!(correlation, 2);
        let mut r = Reader::new(body, false);
        assert_eq!(
            ErrorCode(r.i16("error").unwrap()),
            ErrorCode::ILLEGAL_SASL_STATE,
            "v{version}"
        );
        assert_eq!(
            r.array_len("mechanisms").unwrap(),
            0,
            "no mechanism enabled"
        );
        r.finish().unwrap();
    }

    // A PLAIN token sent anyway (SaslAuthenticate v1).
    let mut token = 4i32.to_be_bytes().to_vec();
    token.extend(b"\0u\0p");
    conn.write_all(&request(36, 1, 3, &token)).await.unwrap();
    let (correlation, body) = response(&mut conn).await;
    assert_eq!(correlation, 3);
    let mut r = Reader::new(body, false);
    assert_eq!(
        ErrorCode(r.i16("error").unwrap()),
        ErrorCode::ILLEGAL_SASL_STATE
    );
    let message = r.string("error_message").unwrap();
    assert!(message.contains("SASL is not enabled"), "{message}");
    assert!(r.bytes("auth_bytes").unwrap().is_empty());
    assert_eq!(r.i64("session_lifetime_ms").unwrap(), 0);
    r.finish().unwrap();

    conn.write_all(&request(3, 1, 4, &metadata_v1("sasl")))
        .await
        .unwrap();
    assert_eq!(response(&mut conn).await.0, 4, "Metadata is answered after");
    assert_eq!(s.metrics.malformed_requests(), 0);
}

/// Without an authorizer the ACL APIs are SECURITY_DISABLED: DescribeAcls for the request,
/// CreateAcls per creation, DeleteAcls per filter; nothing is described, and the connection
/// goes on.
#[tokio::test]
async fn acl_requests_are_security_disabled() {
    let s = server(KafkaConfig::default()).await;
    let mut conn = connect_with_topic(&s, "acl").await;
    let apis = advertised(&mut conn).await;
    for key in [29, 30, 31] {
        assert!(apis.contains(&(key, 0, 3)), "key {key}: {apis:?}");
    }
    let string = |s: &str| [&(s.len() as i16).to_be_bytes()[..], s.as_bytes()].concat();
    let null = [0xff, 0xff];

    // DescribeAcls v1: any resource, any pattern, any principal, any host, any operation.
    let filter = [&[1][..], &null, &[1], &null, &null, &[1, 1]].concat();
    conn.write_all(&request(29, 1, 2, &filter)).await.unwrap();
    let (correlation, body) = response(&mut conn).await;
    assert_eq!(correlation, 2);
    let mut r = Reader::new(body, false);
    assert_eq!(r.i32("throttle").unwrap(), 0);
    assert_eq!(
        ErrorCode(r.i16("error").unwrap()),
        ErrorCode::SECURITY_DISABLED
    );
    assert_eq!(
        r.nullable_string("message").unwrap().as_deref(),
        Some("security is off on this broker (auth.enabled = false)")
    );
    assert_eq!(r.array_len("resources").unwrap(), 0);
    r.finish().unwrap();

    // CreateAcls v1 with two creations (allow User:a to read topic "acl", literal and
    // prefixed): one refusal each.
    let creation = |pattern: u8| {
        [
            &[2][..],
            &string("acl"),
            &[pattern],
            &string("User:a"),
            &string("*"),
            &[3, 3],
        ]
        .concat()
    };
    let creations = [&2i32.to_be_bytes()[..], &creation(3), &creation(4)].concat();
    conn.write_all(&request(30, 1, 3, &creations))
        .await
        .unwrap();
    let (correlation, body) = response(&mut conn).await;
    assert_eq!(correlation, 3);
    let mut r = Reader::new(body, false);
    r.i32("throttle").unwrap();
    let results = r
        .array("results", |r| {
            Ok((ErrorCode(r.i16("error")?), r.nullable_string("message")?))
        })
        .unwrap();
    r.finish().unwrap();
    let refused = (
        ErrorCode::SECURITY_DISABLED,
        Some("security is off on this broker (auth.enabled = false)".to_string()),
    );
    assert_eq!(results, [refused.clone(), refused.clone()]);

    // DeleteAcls v1 with one filter: one refusal, no matching ACLs.
    let filters = [&1i32.to_be_bytes()[..], &filter].concat();
    conn.write_all(&request(31, 1, 4, &filters)).await.unwrap();
    let (correlation, body) = response(&mut conn).await;
    assert_eq!(correlation, 4);
    let mut r = Reader::new(body, false);
    r.i32("throttle").unwrap();
    let results = r
        .array("filter_results", |r| {
            let outcome = (ErrorCode(r.i16("error")?), r.nullable_string("message")?);
            Ok((outcome, r.array_len("matching_acls")?))
        })
        .unwrap();
    r.finish().unwrap();
    assert_eq!(results, [(refused, 0)]);

    conn.write_all(&request(3, 1, 5, &metadata_v1("acl")))
        .await
        .unwrap();
    assert_eq!(response(&mut conn).await.0, 5, "Metadata is answered after");
    assert_eq!(s.metrics.malformed_requests(), 0);
}

/// Requests per API are counted with their latency, and an answer that carries an error
/// code (here a Produce to a topic that does not exist) counts as an error of its API.
#[tokio::test]
async fn requests_and_answers_with_error_codes_are_counted_per_api() {
    let s = server(KafkaConfig::default()).await;
    let mut conn = connect_with_topic(&s, "present").await;
    let batch = idempotent_batch(-1, -1, 1);
    conn.write_all(&request(0, 3, 2, &produce_v3("present", &batch)))
        .await
        .unwrap();
    let (_, body) = response(&mut conn).await;
    assert_eq!(produce_result(body).0, ErrorCode::NONE);
    conn.write_all(&request(0, 3, 3, &produce_v3("absent", &batch)))
        .await
        .unwrap();
    let (_, body) = response(&mut conn).await;
    assert_ne!(produce_result(body).0, ErrorCode::NONE);
    let mut text = String::new();
    s.metrics.render(&mut text);
    let value = |series: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
            .unwrap_or_else(|| panic!("{series} missing:\n{text}"))
            .to_owned()
    };
    assert_eq!(
        value("memstream_kafka_requests_total{api=\"Produce\"}"),
        "2"
    );
    assert_eq!(
        value("memstream_kafka_request_errors_total{api=\"Produce\"}"),
        "1"
    );
    assert_eq!(
        value("memstream_kafka_request_duration_seconds_count{api=\"Produce\"}"),
        "2"
    );
}
