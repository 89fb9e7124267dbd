//! Push subscriptions over real TCP: exactly-once ordered delivery across partitions, credit
//! never exceeded, patterns picking up new streams, and the error codes.

use crate::common;

use bytes::Bytes;
use common::{Peer, TestServer};
use memstream_protocol::batch::{verify, BatchBuilder, Limits, RecordIter, BATCH_HEADER_LEN};
use memstream_protocol::message::{
    Acks, CreateStream, Credit, OffsetSpec, PartitionOffset, PartitionSelector, ProduceBatch,
    ProduceRequest, PushHeader, StorageKind, StreamRef, StreamSettings, Subscribe, Subscribed,
    ALL_PARTITIONS,
};
use memstream_protocol::{ErrorBody, ErrorCode, Flags, Frame, Opcode, Request};

/// A handshaken peer; requests get increasing correlation ids.
struct Client {
    peer: Peer,
    next_id: u64,
}

impl Client {
    async fn connect(server: &TestServer) -> Client {
        let mut peer = Peer::connect(server.addr).await;
        peer.hello().await;
        Client { peer, next_id: 100 }
    }

    async fn send(&mut self, request: &Request, stream_id: u32) -> u64 {
        self.next_id += 1;
        let mut frame = request.to_frame(self.next_id);
        frame.stream_id = stream_id;
        self.peer.send(&frame).await;
        self.next_id
    }

    /// Sends and waits for the response, collecting pushes that arrive meanwhile.
    async fn call(&mut self, request: &Request, stream_id: u32, pushes: &mut Vec<Frame>) -> Frame {
        let id = self.send(request, stream_id).await;
        loop {
            let frame = self.peer.read().await.expect("connection open");
            if frame.opcode == Opcode::Push.as_u8() {
                pushes.push(frame);
            } else {
                assert_eq!(frame.correlation_id, id);
                return frame;
            }
        }
    }

    async fn next_push(&mut self) -> Frame {
        let frame = self.peer.read().await.expect("a push");
        assert_eq!(frame.opcode, Opcode::Push.as_u8(), "{frame:?}");
        frame
    }
}

fn error_code(frame: &Frame) -> Option<ErrorCode> {
    frame
        .is_error()
        .then(|| ErrorBody::decode(&frame.payload).ok()?.known_code())
        .flatten()
}

fn create(name: &str, partitions: u32) -> Request {
    Request::CreateStream(CreateStream {
        name: name.into(),
        partitions,
        settings: StreamSettings {
            storage: Some(StorageKind::Memory),
            ..StreamSettings::default()
        },
    })
}

fn produce(stream: &str, partition: u32, values: &[String]) -> Request {
    let mut b = BatchBuilder::default();
    for v in values {
        b.push(0, None, v.as_bytes(), &[]);
    }
    Request::Produce(ProduceRequest {
        stream: stream.into(),
        acks: Acks::Written,
        batches: vec![ProduceBatch {
            selector: PartitionSelector::Explicit(partition),
            batch: b.finish(-1, -1, -1),
        }],
    })
}

fn subscribe(pattern: &str, from: OffsetSpec, credit_bytes: u32) -> Request {
    Request::Subscribe(Subscribe {
        pattern: pattern.into(),
        partition: ALL_PARTITIONS,
        from,
        credit_bytes,
        positions: Vec::new(),
    })
}

/// (stream, partition, offset, value) of every record in a push.
fn records(push: &Frame) -> (u32, Vec<(String, u32, u64, String)>) {
    let (header, batches) = PushHeader::decode(&push.payload).expect("push payload");
    let mut out = Vec::new();
    let mut rest = batches.clone();
    while !rest.is_empty() {
        let len = memstream_protocol::batch::BatchHeader::parse(&rest)
            .unwrap()
            .total_len();
        let batch: Bytes = rest.split_to(len);
        let h = verify(&batch, Limits::UNLIMITED).expect("pushed batches are valid");
        for r in RecordIter::new(&batch[BATCH_HEADER_LEN..], &h) {
            let r = r.unwrap();
            out.push((
                header.stream.clone(),
                header.partition,
                h.base_offset + u64::from(r.offset_delta),
                String::from_utf8(r.value_bytes().to_vec()).unwrap(),
            ));
        }
    }
    (header.batches_len, out)
}

#[tokio::test]
async fn every_record_is_pushed_once_in_order_across_partitions() {
    let server = TestServer::start(|_| {}).await;
    let mut admin = Client::connect(&server).await;
    let mut none = Vec::new();
    admin.call(&create("s", 3), 0, &mut none).await;
    let mut consumer = Client::connect(&server).await;
    let ok = consumer
        .call(&subscribe("s", OffsetSpec::Earliest, 1 << 30), 7, &mut none)
        .await;
    assert!(!ok.is_error());
    let mut expected: Vec<Vec<String>> = vec![Vec::new(); 3];
    for i in 0..60u32 {
        let p = i % 3;
        let values = vec![format!("{i}-a"), format!("{i}-b")];
        expected[p as usize].extend(values.clone());
        let resp = admin.call(&produce("s", p, &values), 0, &mut none).await;
        assert!(!resp.is_error());
    }
    let mut got: Vec<Vec<(u64, String)>> = vec![Vec::new(); 3];
    let mut total = 0;
    while total < 120 {
        let push = consumer.next_push().await;
        assert_eq!(push.stream_id, 7);
        for (stream, partition, offset, value) in records(&push).1 {
            assert_eq!(stream, "s");
            got[partition as usize].push((offset, value));
            total += 1;
        }
    }
    for p in 0..3 {
        let offsets: Vec<u64> = got[p].iter().map(|(o, _)| *o).collect();
        assert_eq!(
            offsets,
            (0..40).collect::<Vec<u64>>(),
            "partition {p}: each offset once, in order"
        );
        let values: Vec<String> = got[p].iter().map(|(_, v)| v.clone()).collect();
        assert_eq!(values, expected[p]);
    }
    server.stop().await;
}

#[tokio::test]
async fn listed_positions_resume_and_the_response_tells_where_each_partition_starts() {
    let server = TestServer::start(|_| {}).await;
    let mut admin = Client::connect(&server).await;
    let mut none = Vec::new();
    admin.call(&create("r", 2), 0, &mut none).await;
    for p in 0..2 {
        let values: Vec<String> = (0..5).map(|i| format!("p{p}-{i}")).collect();
        assert!(!admin
            .call(&produce("r", p, &values), 0, &mut none)
            .await
            .is_error());
    }
    // `latest` resolves to each partition's end; the response says so.
    let mut consumer = Client::connect(&server).await;
    let ok = consumer
        .call(&subscribe("r", OffsetSpec::Latest, 1 << 20), 1, &mut none)
        .await;
    let started = Subscribed::decode(&ok.payload).expect("SUBSCRIBE response");
    let at = |stream: &str, partition, offset| PartitionOffset {
        stream: stream.into(),
        partition,
        offset,
    };
    assert_eq!(started.positions, vec![at("r", 0, 5), at("r", 1, 5)]);

    // Partition 1 listed at offset 3 starts there; partition 0, not listed, starts at `from`.
    let mut resumed = Client::connect(&server).await;
    let request = Request::Subscribe(Subscribe {
        pattern: "r".into(),
        partition: ALL_PARTITIONS,
        from: OffsetSpec::Latest,
        credit_bytes: 1 << 20,
        positions: vec![at("r", 1, 3)],
    });
    let ok = resumed.call(&request, 1, &mut none).await;
    let started = Subscribed::decode(&ok.payload).expect("SUBSCRIBE response");
    assert_eq!(started.positions, vec![at("r", 0, 5), at("r", 1, 3)]);
    // The pushed batch may begin before offset 3 (it contains it); nothing from partition 0.
    let (_, got) = records(&resumed.next_push().await);
    assert!(got.iter().all(|r| r.1 == 1), "{got:?}");
    let from_3: Vec<u64> = got.iter().map(|r| r.2).filter(|&o| o >= 3).collect();
    assert_eq!(from_3, vec![3, 4]);
    server.stop().await;
}

#[tokio::test]
async fn deleting_a_stream_ends_its_partitions_and_a_pattern_sees_it_reborn() {
    let server = TestServer::start(|_| {}).await;
    let mut admin = Client::connect(&server).await;
    let mut none = Vec::new();
    admin.call(&create("d.a", 2), 0, &mut none).await;
    let mut plain = Client::connect(&server).await;
    plain
        .call(
            &subscribe("d.a", OffsetSpec::Earliest, 1 << 20),
            1,
            &mut none,
        )
        .await;
    let mut pattern = Client::connect(&server).await;
    pattern
        .call(
            &subscribe("d.*", OffsetSpec::Earliest, 1 << 20),
            1,
            &mut none,
        )
        .await;
    let delete = Request::DeleteStream(StreamRef { name: "d.a".into() });
    assert!(!admin.call(&delete, 0, &mut none).await.is_error());

    // Each subscriber hears that both partitions ended, with an empty PUSH flagged
    // END_OF_STREAM.
    for consumer in [&mut plain, &mut pattern] {
        let mut ended = Vec::new();
        for _ in 0..2 {
            let push = consumer.next_push().await;
            assert!(push.flags.contains(Flags::END_OF_STREAM), "{push:?}");
            let (header, batches) = PushHeader::decode(&push.payload).unwrap();
            assert_eq!((header.stream.as_str(), batches.len()), ("d.a", 0));
            ended.push(header.partition);
        }
        ended.sort_unstable();
        assert_eq!(ended, vec![0, 1]);
    }
    // The connection is fine (and its subscription task is not spinning on a dead log).
    let ping = plain
        .call(&Request::Ping(Bytes::from_static(b"p")), 0, &mut none)
        .await;
    assert_eq!(&ping.payload[..], b"p");

    // A stream of the same name created again is new to the pattern: read from its start.
    admin.call(&create("d.a", 1), 0, &mut none).await;
    assert!(!admin
        .call(&produce("d.a", 0, &["again".to_owned()]), 0, &mut none)
        .await
        .is_error());
    let (_, got) = records(&pattern.next_push().await);
    assert_eq!(got, vec![("d.a".to_owned(), 0, 0, "again".to_owned())]);
    server.stop().await;
}

#[tokio::test]
async fn pushes_never_exceed_the_credit() {
    let server = TestServer::start(|_| {}).await;
    let mut admin = Client::connect(&server).await;
    let mut none = Vec::new();
    admin.call(&create("s", 1), 0, &mut none).await;
    let values: Vec<String> = vec!["x".repeat(100)];
    for _ in 0..6 {
        admin.call(&produce("s", 0, &values), 0, &mut none).await;
    }
    let batch_len = {
        let mut b = BatchBuilder::default();
        b.push(0, None, values[0].as_bytes(), &[]);
        b.finish(-1, -1, -1).len() as u32
    };
    let mut consumer = Client::connect(&server).await;
    // Credit for one batch and a half: one batch can go.
    let mut granted = u64::from(batch_len + batch_len / 2);
    consumer
        .call(
            &subscribe("s", OffsetSpec::Earliest, granted as u32),
            9,
            &mut none,
        )
        .await;
    let mut pushed = 0u64;
    let mut records_seen = 0;
    for grant in [batch_len / 2, 2 * batch_len, 10 * batch_len] {
        // Everything the credit allows arrives; nothing beyond it.
        while granted - pushed >= u64::from(batch_len) && records_seen < 6 {
            let push = consumer.next_push().await;
            let (bytes, recs) = records(&push);
            pushed += u64::from(bytes);
            records_seen += recs.len();
            assert!(
                pushed <= granted,
                "pushed {pushed} bytes with {granted} granted"
            );
        }
        granted += u64::from(grant);
        consumer
            .send(&Request::Credit(Credit { bytes: grant }), 9)
            .await;
    }
    while records_seen < 6 {
        let (bytes, recs) = records(&consumer.next_push().await);
        pushed += u64::from(bytes);
        records_seen += recs.len();
        assert!(pushed <= granted);
    }
    server.stop().await;
}

#[tokio::test]
async fn a_pattern_picks_up_streams_created_later() {
    let server = TestServer::start(|_| {}).await;
    let mut admin = Client::connect(&server).await;
    let mut none = Vec::new();
    let mut consumer = Client::connect(&server).await;
    let resp = consumer
        .call(
            &subscribe("orders.*", OffsetSpec::Latest, 1 << 20),
            3,
            &mut none,
        )
        .await;
    assert_eq!(
        &resp.payload[..],
        &0u32.to_le_bytes(),
        "nothing matches yet"
    );
    admin.call(&create("orders.eu", 1), 0, &mut none).await;
    admin.call(&create("orders.eu.paid", 1), 0, &mut none).await;
    admin.call(&create("other", 1), 0, &mut none).await;
    for stream in ["other", "orders.eu.paid", "orders.eu"] {
        admin
            .call(&produce(stream, 0, &[format!("to {stream}")]), 0, &mut none)
            .await;
    }
    let push = consumer.next_push().await;
    let (_, recs) = records(&push);
    assert_eq!(
        recs,
        [("orders.eu".to_owned(), 0, 0, "to orders.eu".to_owned())]
    );
    server.stop().await;
}

#[tokio::test]
async fn subscriptions_per_connection_are_limited() {
    let server = TestServer::start(|c| c.network.max_subscriptions = 2).await;
    let mut c = Client::connect(&server).await;
    let mut none = Vec::new();
    c.call(&create("s", 1), 0, &mut none).await;
    for id in [1, 2] {
        let ok = c
            .call(&subscribe("s", OffsetSpec::Latest, 0), id, &mut none)
            .await;
        assert!(!ok.is_error());
    }
    let third = c
        .call(&subscribe("s", OffsetSpec::Latest, 0), 3, &mut none)
        .await;
    assert_eq!(error_code(&third), Some(ErrorCode::LimitReached));
    // Ending one makes room again.
    c.call(&Request::Unsubscribe, 1, &mut none).await;
    let again = c
        .call(&subscribe("s", OffsetSpec::Latest, 0), 3, &mut none)
        .await;
    assert!(!again.is_error());
    server.stop().await;
}

#[tokio::test]
async fn subscription_errors_have_their_codes() {
    let server = TestServer::start(|_| {}).await;
    let mut c = Client::connect(&server).await;
    let mut none = Vec::new();
    c.call(&create("s", 1), 0, &mut none).await;
    let zero = c
        .call(&subscribe("s", OffsetSpec::Earliest, 0), 0, &mut none)
        .await;
    assert_eq!(error_code(&zero), Some(ErrorCode::InvalidArgument));
    let ok = c
        .call(&subscribe("s", OffsetSpec::Earliest, 0), 5, &mut none)
        .await;
    assert!(!ok.is_error());
    let dup = c
        .call(&subscribe("s", OffsetSpec::Earliest, 0), 5, &mut none)
        .await;
    assert_eq!(error_code(&dup), Some(ErrorCode::SubscriptionExists));
    let missing = c
        .call(&subscribe("nope", OffsetSpec::Earliest, 0), 6, &mut none)
        .await;
    assert_eq!(error_code(&missing), Some(ErrorCode::StreamNotFound));
    let bad = c
        .call(&subscribe("a..b", OffsetSpec::Earliest, 0), 6, &mut none)
        .await;
    assert_eq!(error_code(&bad), Some(ErrorCode::InvalidStreamName));
    let done = c.call(&Request::Unsubscribe, 5, &mut none).await;
    assert!(done.flags.contains(Flags::END_OF_STREAM) && !done.is_error());
    let gone = c
        .call(&Request::Credit(Credit { bytes: 10 }), 5, &mut none)
        .await;
    assert_eq!(error_code(&gone), Some(ErrorCode::SubscriptionNotFound));
    let gone = c.call(&Request::Unsubscribe, 5, &mut none).await;
    assert_eq!(error_code(&gone), Some(ErrorCode::SubscriptionNotFound));
    server.stop().await;
}
