//! The client when connections fail, through a proxy that cuts connections and swallows
//! responses: requests reconnect, subscriptions resume exactly where they were, producer
//! retries never duplicate. Also linger, acks=none and pull reads.

use crate::common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use common::{Proxy, TestServer, WAIT};
use memstream_client::{
    Client, ClientError, ClientOptions, Delivery, PartitionReader, Partitioner, Producer,
    ProducerOptions, ReconnectPolicy, Record, Subscription,
};
use memstream_protocol::message::{
    Acks, FetchRequest, FetchResponse, OffsetSpec, StorageKind, StreamSettings,
};
use memstream_protocol::{ErrorCode, Request};

fn memory() -> StreamSettings {
    StreamSettings {
        storage: Some(StorageKind::Memory),
        ..StreamSettings::default()
    }
}

async fn end_offsets(client: &Client, stream: &str) -> Vec<u64> {
    let described = client.admin().describe_stream(stream).await.unwrap();
    described.partitions.iter().map(|p| p.end_offset).collect()
}

/// Polls the server until `stream`'s partitions hold `expected` records in all.
async fn wait_for_records(client: &Client, stream: &str, expected: u64) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let total: u64 = end_offsets(client, stream).await.iter().sum();
        if total >= expected {
            assert_eq!(total, expected, "more records than sent");
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "records never arrived"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn produce_direct(client: &Arc<Client>, stream: &str, values: impl Iterator<Item = String>) {
    let producer = Producer::new(
        client.clone(),
        stream,
        ProducerOptions {
            partitioner: Partitioner::RoundRobin,
            acks: Acks::Written,
            ..ProducerOptions::default()
        },
    )
    .await
    .unwrap();
    let mut receipts = Vec::new();
    for v in values {
        receipts.push(producer.send(Record::value(v)).await);
    }
    for r in receipts {
        r.await.unwrap();
    }
}

async fn next_record(sub: &mut Subscription) -> memstream_client::ConsumedRecord {
    tokio::time::timeout(WAIT, sub.next())
        .await
        .expect("a record in time")
        .expect("subscription open")
        .expect("no error")
}

#[tokio::test]
async fn requests_reconnect_after_the_connection_is_cut() {
    let server = TestServer::start(|_| {}).await;
    let proxy = Proxy::start(server.addr).await;
    let client = Client::connect(proxy.addr).await.unwrap();
    assert_eq!(
        &client.ping(Bytes::from_static(b"a")).await.unwrap()[..],
        b"a"
    );
    proxy.sever();
    // The cut is noticed either by this request or before it; either way it ends up on a new
    // connection.
    let mut answered = None;
    for _ in 0..2 {
        match client.ping(Bytes::from_static(b"b")).await {
            Ok(echo) => {
                answered = Some(echo);
                break;
            }
            Err(e) => assert!(e.is_retriable(), "{e}"),
        }
    }
    assert_eq!(&answered.expect("answered after reconnecting")[..], b"b");
    assert_eq!(client.reconnects(), 1);
    assert_eq!(proxy.accepted(), 2);

    // Without reconnects, a cut connection stays closed.
    let options = ClientOptions {
        reconnect: ReconnectPolicy::disabled(),
        ..ClientOptions::default()
    };
    let fixed = Client::connect_with(proxy.addr, options).await.unwrap();
    fixed.ping(Bytes::new()).await.unwrap();
    proxy.sever();
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match fixed.ping(Bytes::new()).await {
            Err(ClientError::Closed { .. }) => break,
            Ok(_) => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "never noticed the cut"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(fixed.reconnects(), 0);
    server.stop().await;
}

#[tokio::test]
async fn a_subscription_resumes_after_a_cut_without_gaps_or_duplicates() {
    let server = TestServer::start(|_| {}).await;
    let proxy = Proxy::start(server.addr).await;
    let direct = Arc::new(Client::connect(server.addr).await.unwrap());
    direct
        .admin()
        .create_stream("resume", 2, memory())
        .await
        .unwrap();
    produce_direct(&direct, "resume", (0..100).map(|i| format!("a{i}"))).await;

    let via_proxy = Arc::new(Client::connect(proxy.addr).await.unwrap());
    let mut sub = Subscription::start(via_proxy.clone(), "resume", OffsetSpec::Earliest, 0)
        .await
        .unwrap();
    let mut got: HashMap<u32, Vec<u64>> = HashMap::new();
    for _ in 0..50 {
        let r = next_record(&mut sub).await;
        got.entry(r.partition).or_default().push(r.offset);
    }
    proxy.sever();
    produce_direct(&direct, "resume", (0..100).map(|i| format!("b{i}"))).await;
    for _ in 50..200 {
        let r = next_record(&mut sub).await;
        got.entry(r.partition).or_default().push(r.offset);
    }
    for p in 0..2 {
        assert_eq!(
            got[&p],
            (0..100).collect::<Vec<u64>>(),
            "partition {p}: every offset once, in order"
        );
    }
    assert_eq!(via_proxy.reconnects(), 1);
    server.stop().await;
}

#[tokio::test]
async fn a_subscription_from_latest_keeps_what_arrived_while_disconnected() {
    let server = TestServer::start(|_| {}).await;
    let proxy = Proxy::start(server.addr).await;
    let direct = Arc::new(Client::connect(server.addr).await.unwrap());
    direct
        .admin()
        .create_stream("latest", 2, memory())
        .await
        .unwrap();
    produce_direct(&direct, "latest", (0..10).map(|i| format!("old{i}"))).await;

    let via_proxy = Arc::new(Client::connect(proxy.addr).await.unwrap());
    let mut sub = Subscription::start(via_proxy, "latest", OffsetSpec::Latest, 0)
        .await
        .unwrap();
    let started: Vec<u64> = sub.positions().iter().map(|p| p.offset).collect();
    assert_eq!(
        started,
        vec![5, 5],
        "latest resolved to each partition's end"
    );
    proxy.sever();
    // Written while the subscriber is cut off: it must still see all of it, and nothing older.
    produce_direct(&direct, "latest", (0..10).map(|i| format!("new{i}"))).await;
    let mut values = Vec::new();
    for _ in 0..10 {
        values.push(String::from_utf8(next_record(&mut sub).await.value.to_vec()).unwrap());
    }
    values.sort();
    let mut expected: Vec<String> = (0..10).map(|i| format!("new{i}")).collect();
    expected.sort();
    assert_eq!(values, expected);
    server.stop().await;
}

#[tokio::test]
async fn a_retried_batch_whose_ack_was_lost_is_stored_once() {
    let server = TestServer::start(|_| {}).await;
    let proxy = Proxy::start(server.addr).await;
    let direct = Client::connect(server.addr).await.unwrap();
    direct
        .admin()
        .create_stream("once", 1, memory())
        .await
        .unwrap();

    let via_proxy = Arc::new(Client::connect(proxy.addr).await.unwrap());
    let producer = Producer::new(
        via_proxy.clone(),
        "once",
        ProducerOptions {
            acks: Acks::Written,
            ..ProducerOptions::default()
        },
    )
    .await
    .unwrap();
    let first = producer.send(Record::value("first")).await;
    assert_eq!(
        first.await.unwrap(),
        Delivery {
            partition: 0,
            offset: Some(0)
        }
    );

    // The server stores the next batch, but its acknowledgement never reaches the producer.
    proxy.mute(true);
    let second = producer.send(Record::value("second")).await;
    wait_for_records(&direct, "once", 2).await;
    common::eventually("an answer to swallow", || proxy.swallowed() > 0).await;
    proxy.mute(false);
    proxy.sever();

    // The producer reconnects and sends the batch again; the server recognises it.
    let delivery = tokio::time::timeout(WAIT, second)
        .await
        .expect("retried in time")
        .expect("acknowledged after the retry");
    assert_eq!(delivery.offset, Some(1), "the original offset");
    assert_eq!(end_offsets(&direct, "once").await, vec![2], "stored once");
    assert_eq!(via_proxy.reconnects(), 1);

    // And the producer goes on normally.
    let third = producer.send(Record::value("third")).await;
    assert_eq!(third.await.unwrap().offset, Some(2));
    server.stop().await;
}

#[tokio::test]
async fn a_producer_that_cannot_reconnect_fails_its_records() {
    let server = TestServer::start(|_| {}).await;
    let proxy = Proxy::start(server.addr).await;
    let options = ClientOptions {
        reconnect: ReconnectPolicy::disabled(),
        ..ClientOptions::default()
    };
    let client = Arc::new(Client::connect_with(proxy.addr, options).await.unwrap());
    client
        .admin()
        .create_stream("gone", 1, memory())
        .await
        .unwrap();
    let producer = Producer::new(client.clone(), "gone", ProducerOptions::default())
        .await
        .unwrap();
    proxy.mute(true);
    let receipt = producer.send(Record::value("x")).await;
    common::eventually("an answer to swallow", || proxy.swallowed() > 0).await;
    proxy.sever();
    let result = tokio::time::timeout(WAIT, receipt).await.expect("settled");
    assert!(
        matches!(result, Err(ClientError::Closed { .. })),
        "{result:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn linger_holds_a_partial_batch_until_flush() {
    let server = TestServer::start(|_| {}).await;
    let client = Arc::new(Client::connect(server.addr).await.unwrap());
    client
        .admin()
        .create_stream("linger", 1, memory())
        .await
        .unwrap();
    let producer = Producer::new(
        client.clone(),
        "linger",
        ProducerOptions {
            acks: Acks::Written,
            // Far longer than the test: only flush sends.
            linger: Duration::from_secs(3600),
            ..ProducerOptions::default()
        },
    )
    .await
    .unwrap();
    let mut receipts = Vec::new();
    for i in 0..10 {
        receipts.push(producer.send(Record::value(format!("r{i}"))).await);
    }
    // A PING round trip after the sends: had a batch gone out, it would be stored by now.
    client.ping(Bytes::new()).await.unwrap();
    assert_eq!(
        end_offsets(&client, "linger").await,
        vec![0],
        "nothing sent yet"
    );
    producer.flush().await;
    for (i, r) in receipts.into_iter().enumerate() {
        assert_eq!(r.await.unwrap().offset, Some(i as u64));
    }
    let fetch = Request::Fetch(FetchRequest {
        stream: "linger".into(),
        partition: 0,
        from: OffsetSpec::Earliest,
        max_bytes: 1 << 20,
        max_wait_ms: 0,
    });
    let response = FetchResponse::decode(&client.call(&fetch).await.unwrap().payload).unwrap();
    assert_eq!(
        response.batches().count(),
        1,
        "the ten records went as one batch"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_full_batch_does_not_wait_for_linger() {
    let server = TestServer::start(|_| {}).await;
    let client = Arc::new(Client::connect(server.addr).await.unwrap());
    client
        .admin()
        .create_stream("full", 1, memory())
        .await
        .unwrap();
    let producer = Producer::new(
        client.clone(),
        "full",
        ProducerOptions {
            acks: Acks::Written,
            linger: Duration::from_secs(3600),
            batch_bytes_max: 4096,
            ..ProducerOptions::default()
        },
    )
    .await
    .unwrap();
    let mut receipts = Vec::new();
    for _ in 0..20 {
        receipts.push(producer.send(Record::value(vec![b'x'; 1000])).await);
    }
    // 20 KB queued against 4 KiB batches: the first ones leave without a flush.
    let first = receipts.remove(0);
    let delivery = tokio::time::timeout(WAIT, first)
        .await
        .expect("sent without flush");
    assert_eq!(delivery.unwrap().offset, Some(0));
    producer.flush().await;
    for r in receipts {
        r.await.unwrap();
    }
    assert_eq!(end_offsets(&client, "full").await, vec![20]);
    server.stop().await;
}

#[tokio::test]
async fn acks_none_sends_without_answers_and_the_records_are_stored() {
    let server = TestServer::start(|_| {}).await;
    let client = Arc::new(Client::connect(server.addr).await.unwrap());
    client
        .admin()
        .create_stream("fire", 2, memory())
        .await
        .unwrap();
    let producer = Producer::new(
        client.clone(),
        "fire",
        ProducerOptions {
            acks: Acks::None,
            partitioner: Partitioner::Explicit(1),
            ..ProducerOptions::default()
        },
    )
    .await
    .unwrap();
    let mut receipts = Vec::new();
    for i in 0..100 {
        receipts.push(producer.send(Record::value(format!("f{i}"))).await);
    }
    for r in receipts {
        assert_eq!(
            r.await.unwrap(),
            Delivery {
                partition: 1,
                offset: None
            }
        );
    }
    // Requests on a connection are handled in order: once PING is answered, so are they.
    client.ping(Bytes::new()).await.unwrap();
    assert_eq!(end_offsets(&client, "fire").await, vec![0, 100]);
    server.stop().await;
}

#[tokio::test]
async fn a_partition_reader_polls_in_order_from_a_timestamp() {
    let server = TestServer::start(|_| {}).await;
    let client = Arc::new(Client::connect(server.addr).await.unwrap());
    client
        .admin()
        .create_stream("poll", 1, memory())
        .await
        .unwrap();
    let producer = Producer::new(
        client.clone(),
        "poll",
        ProducerOptions {
            acks: Acks::Written,
            ..ProducerOptions::default()
        },
    )
    .await
    .unwrap();
    for (i, ts) in [1_000u64, 2_000, 3_000, 4_000].into_iter().enumerate() {
        let record = Record::value(format!("t{i}")).with_timestamp_ms(ts);
        producer.send(record).await.await.unwrap();
    }
    let mut reader = PartitionReader::new(client.clone(), "poll", 0, OffsetSpec::Timestamp(2_500));
    reader.max_bytes = 1;
    let mut seen = Vec::new();
    while seen.len() < 2 {
        for r in reader.poll(Duration::ZERO).await.unwrap() {
            seen.push((r.offset, r.timestamp_ms));
        }
    }
    assert_eq!(seen, vec![(2, 3_000), (3, 4_000)]);
    assert_eq!(reader.position(), Some(4));
    // Nothing new: a long poll returns empty when its wait ends, or with the record written
    // meanwhile.
    assert!(reader
        .poll(Duration::from_millis(1))
        .await
        .unwrap()
        .is_empty());
    let wait = tokio::spawn(async move {
        let records = reader.poll(WAIT).await.unwrap();
        records.iter().map(|r| r.offset).collect::<Vec<_>>()
    });
    producer.send(Record::value("late")).await.await.unwrap();
    assert_eq!(wait.await.unwrap(), vec![4]);

    let err = client
        .fetch("nope", 0, OffsetSpec::Earliest, 1024, Duration::ZERO)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::StreamNotFound));
    server.stop().await;
}

#[tokio::test]
async fn send_waits_while_queued_records_max_are_queued() {
    let server = TestServer::start(|_| {}).await;
    let proxy = Proxy::start(server.addr).await;
    let direct = Client::connect(server.addr).await.unwrap();
    direct
        .admin()
        .create_stream("bp", 1, memory())
        .await
        .unwrap();
    let client = Arc::new(Client::connect(proxy.addr).await.unwrap());
    let producer = Producer::new(
        client.clone(),
        "bp",
        ProducerOptions {
            acks: Acks::Written,
            queued_records_max: 3,
            in_flight_batches_max: 1,
            ..ProducerOptions::default()
        },
    )
    .await
    .unwrap();
    // The first batch goes on the wire and its acknowledgement is held back.
    proxy.mute(true);
    let mut receipts = vec![producer.send(Record::value("r0")).await];
    common::eventually("an answer to swallow", || proxy.swallowed() > 0).await;
    // Three more wait behind it: the queue is full.
    for i in 1..4 {
        receipts.push(producer.send(Record::value(format!("r{i}"))).await);
    }
    let mut blocked = Box::pin(producer.send(Record::value("r4")));
    tokio::select! {
        biased;
        _ = &mut blocked => panic!("send went through a full queue"),
        () = std::future::ready(()) => {}
    }
    // Once the first batch is acknowledged (after a reconnect), the queue drains.
    proxy.mute(false);
    proxy.sever();
    receipts.push(
        tokio::time::timeout(WAIT, blocked)
            .await
            .expect("room again"),
    );
    let mut offsets = Vec::new();
    for r in receipts {
        offsets.push(r.await.unwrap().offset.unwrap());
    }
    assert_eq!(offsets, vec![0, 1, 2, 3, 4]);
    assert_eq!(end_offsets(&direct, "bp").await, vec![5]);
    server.stop().await;
}

#[tokio::test]
async fn cuts_while_many_batches_are_in_flight_lose_and_duplicate_nothing() {
    let server = TestServer::start(|_| {}).await;
    let proxy = Proxy::start(server.addr).await;
    let direct = Arc::new(Client::connect(server.addr).await.unwrap());
    direct
        .admin()
        .create_stream("many", 1, memory())
        .await
        .unwrap();
    let client = Arc::new(Client::connect(proxy.addr).await.unwrap());
    let producer = Producer::new(
        client.clone(),
        "many",
        ProducerOptions {
            acks: Acks::Written,
            in_flight_batches_max: 4,
            // Small batches, so that several are on the wire at any time.
            batch_bytes_max: 600,
            ..ProducerOptions::default()
        },
    )
    .await
    .unwrap();
    let mut receipts = Vec::new();
    for i in 0..3000u32 {
        receipts.push(producer.send(Record::value(format!("m{i:05}"))).await);
        if i % 1000 == 500 {
            proxy.sever();
        }
    }
    for (i, r) in receipts.into_iter().enumerate() {
        let delivery = tokio::time::timeout(WAIT, r).await.expect("settled");
        assert_eq!(delivery.unwrap().offset, Some(i as u64), "record {i}");
    }
    // Stored once each, in the order sent.
    let mut reader = PartitionReader::new(direct.clone(), "many", 0, OffsetSpec::Earliest);
    let mut values = Vec::new();
    while values.len() < 3000 {
        let records = reader.poll(Duration::ZERO).await.unwrap();
        assert!(!records.is_empty(), "only {} records stored", values.len());
        values.extend(
            records
                .iter()
                .map(|r| String::from_utf8(r.value.to_vec()).unwrap()),
        );
    }
    let expected: Vec<String> = (0..3000).map(|i| format!("m{i:05}")).collect();
    assert_eq!(values, expected);
    assert_eq!(end_offsets(&direct, "many").await, vec![3000]);
    assert!(client.reconnects() >= 1);
    server.stop().await;
}

#[tokio::test]
async fn a_request_without_an_answer_times_out_and_the_client_goes_on() {
    let server = TestServer::start(|_| {}).await;
    let proxy = Proxy::start(server.addr).await;
    let options = ClientOptions {
        request_timeout: Duration::from_millis(200),
        ..ClientOptions::default()
    };
    let client = Client::connect_with(proxy.addr, options).await.unwrap();
    proxy.mute(true);
    let err = client.ping(Bytes::from_static(b"lost")).await.unwrap_err();
    assert!(
        matches!(err, ClientError::Timeout(d) if d == Duration::from_millis(200)),
        "{err}"
    );
    assert!(err.is_retriable());
    // A connection that leaves a request unanswered is given up; the next request goes on a
    // new one.
    proxy.mute(false);
    assert_eq!(
        &client.ping(Bytes::from_static(b"ok")).await.unwrap()[..],
        b"ok"
    );
    assert_eq!(client.reconnects(), 1);
    assert_eq!(proxy.accepted(), 2);
    server.stop().await;
}

#[tokio::test]
async fn a_subscription_to_a_deleted_stream_ends_with_stream_not_found() {
    let server = TestServer::start(|_| {}).await;
    let client = Arc::new(Client::connect(server.addr).await.unwrap());
    client
        .admin()
        .create_stream("doomed", 2, memory())
        .await
        .unwrap();
    produce_direct(&client, "doomed", (0..4).map(|i| format!("d{i}"))).await;
    let consumer = Arc::new(Client::connect(server.addr).await.unwrap());
    let mut sub = Subscription::start(consumer, "doomed", OffsetSpec::Earliest, 0)
        .await
        .unwrap();
    for _ in 0..4 {
        next_record(&mut sub).await;
    }
    client.admin().delete_stream("doomed").await.unwrap();
    let end = tokio::time::timeout(WAIT, sub.next())
        .await
        .expect("told in time")
        .expect("an error first");
    assert_eq!(end.unwrap_err().code(), Some(ErrorCode::StreamNotFound));
    assert!(sub.next().await.is_none(), "then the subscription is over");
    server.stop().await;
}

#[tokio::test]
async fn a_record_over_the_frame_limit_fails_alone_and_the_client_goes_on() {
    let server = TestServer::start(|_| {}).await;
    let client = Arc::new(Client::connect(server.addr).await.unwrap());
    client
        .admin()
        .create_stream("big", 1, memory())
        .await
        .unwrap();
    let limit = client.server().limits.max_frame_bytes as usize;
    let producer = Producer::new(
        client.clone(),
        "big",
        ProducerOptions {
            acks: Acks::Written,
            ..ProducerOptions::default()
        },
    )
    .await
    .unwrap();
    let too_big = producer.send(Record::value(vec![b'x'; limit + 1])).await;
    let err = tokio::time::timeout(WAIT, too_big)
        .await
        .expect("settled")
        .unwrap_err();
    assert!(matches!(err, ClientError::InvalidArgument(_)), "{err}");
    // The connection was never at risk: the next record and a ping go through.
    let small = producer.send(Record::value("small")).await;
    assert_eq!(small.await.unwrap().offset, Some(0));
    client.ping(Bytes::new()).await.unwrap();
    assert_eq!(client.reconnects(), 0);
    server.stop().await;
}

#[tokio::test]
async fn batches_behind_a_refused_one_are_renumbered_and_stored_in_order() {
    let server = TestServer::start(|_| {}).await;
    let proxy = Proxy::start(server.addr).await;
    let direct = Client::connect(server.addr).await.unwrap();
    let settings = StreamSettings {
        max_message_bytes: Some(1024),
        ..memory()
    };
    direct
        .admin()
        .create_stream("strict", 1, settings)
        .await
        .unwrap();
    let client = Arc::new(Client::connect(proxy.addr).await.unwrap());
    let producer = Producer::new(
        client.clone(),
        "strict",
        ProducerOptions {
            acks: Acks::Written,
            // Room for one of these records per batch, so all go on the wire together.
            batch_bytes_max: 1200,
            in_flight_batches_max: 5,
            ..ProducerOptions::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        producer
            .send(Record::value("first"))
            .await
            .await
            .unwrap()
            .offset,
        Some(0)
    );
    // The answers are held back while the server refuses the big record (over the stream's
    // max_message_bytes) and, after it, the others as out of order; then the connection is
    // cut, so every batch is retried together.
    proxy.mute(true);
    let big = producer.send(Record::value(vec![b'x'; 1030])).await;
    let mut small = Vec::new();
    for i in 0..3 {
        small.push(
            producer
                .send(Record::value(format!("small{i}:{}", "s".repeat(900))))
                .await,
        );
    }
    common::eventually("an answer to swallow", || proxy.swallowed() > 0).await;
    proxy.mute(false);
    proxy.sever();
    let refused = tokio::time::timeout(WAIT, big).await.expect("settled");
    assert!(refused.is_err(), "{refused:?}");
    let mut offsets = Vec::new();
    for r in small {
        let delivery = tokio::time::timeout(WAIT, r).await.expect("settled");
        offsets.push(delivery.unwrap().offset.unwrap());
    }
    assert_eq!(offsets, vec![1, 2, 3], "the later records, stored in order");
    let after = producer.send(Record::value("after")).await.await.unwrap();
    assert_eq!(after.offset, Some(4));
    let mut reader = PartitionReader::new(Arc::new(direct), "strict", 0, OffsetSpec::Earliest);
    let values: Vec<String> = reader
        .poll(Duration::ZERO)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let text = String::from_utf8(r.value.to_vec()).unwrap();
            text.split(':').next().unwrap_or_default().to_owned()
        })
        .collect();
    assert_eq!(values, ["first", "small0", "small1", "small2", "after"]);
    server.stop().await;
}

#[tokio::test]
async fn in_flight_batches_are_capped_at_what_the_server_can_recognise() {
    let server = TestServer::start(|_| {}).await;
    let proxy = Proxy::start(server.addr).await;
    let direct = Client::connect(server.addr).await.unwrap();
    direct
        .admin()
        .create_stream("cap", 1, memory())
        .await
        .unwrap();
    let client = Arc::new(Client::connect(proxy.addr).await.unwrap());
    let producer = Producer::new(
        client.clone(),
        "cap",
        ProducerOptions {
            acks: Acks::Written,
            // One record per batch.
            batch_bytes_max: 80,
            // More than the server remembers per producer: capped.
            in_flight_batches_max: 8,
            ..ProducerOptions::default()
        },
    )
    .await
    .unwrap();
    proxy.mute(true);
    let mut receipts = Vec::new();
    for i in 0..8 {
        receipts.push(producer.send(Record::value(format!("rec-{i}"))).await);
    }
    // The capped number of batches reach the server; their acknowledgements are lost.
    let deadline = tokio::time::Instant::now() + WAIT;
    while end_offsets(&direct, "cap").await[0] < memstream_client::IN_FLIGHT_BATCHES_MAX as u64 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "batches never arrived"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    proxy.mute(false);
    proxy.sever();
    for (i, r) in receipts.into_iter().enumerate() {
        let delivery = tokio::time::timeout(WAIT, r).await.expect("settled");
        assert_eq!(delivery.unwrap().offset, Some(i as u64), "record {i}");
    }
    assert_eq!(
        end_offsets(&direct, "cap").await,
        vec![8],
        "each stored once"
    );
    server.stop().await;
}

#[tokio::test]
async fn subscribing_without_an_answer_times_out() {
    let server = TestServer::start(|_| {}).await;
    let proxy = Proxy::start(server.addr).await;
    let options = ClientOptions {
        request_timeout: Duration::from_millis(200),
        ..ClientOptions::default()
    };
    let client = Arc::new(Client::connect_with(proxy.addr, options).await.unwrap());
    client
        .admin()
        .create_stream("quiet", 1, memory())
        .await
        .unwrap();
    proxy.mute(true);
    let started = tokio::time::timeout(
        WAIT,
        Subscription::start(client.clone(), "quiet", OffsetSpec::Earliest, 0),
    )
    .await
    .expect("the request timeout ends it");
    assert!(matches!(started, Err(ClientError::Timeout(_))));
    server.stop().await;
}

#[tokio::test]
async fn a_subscription_gives_up_a_silent_connection_and_resumes() {
    let server = TestServer::start(|_| {}).await;
    let proxy = Proxy::start(server.addr).await;
    let direct = Arc::new(Client::connect(server.addr).await.unwrap());
    direct
        .admin()
        .create_stream("silent", 1, memory())
        .await
        .unwrap();
    let options = ClientOptions {
        request_timeout: Duration::from_millis(300),
        keepalive_interval: Duration::from_millis(100),
        ..ClientOptions::default()
    };
    let client = Arc::new(Client::connect_with(proxy.addr, options).await.unwrap());
    let mut sub = Subscription::start(client.clone(), "silent", OffsetSpec::Earliest, 0)
        .await
        .unwrap();
    // The path goes black: nothing from the server arrives, the socket stays open.
    proxy.mute(true);
    produce_direct(&direct, "silent", (0..5).map(|i| format!("q{i}"))).await;
    let reading = tokio::spawn(async move {
        let mut offsets = Vec::new();
        for _ in 0..5 {
            offsets.push(next_record(&mut sub).await.offset);
        }
        offsets
    });
    // The keepalive goes unanswered, so the client gives the connection up and reconnects.
    common::eventually("a second connection", || proxy.accepted() >= 2).await;
    proxy.mute(false);
    let offsets = tokio::time::timeout(WAIT, reading)
        .await
        .expect("resumed")
        .unwrap();
    assert_eq!(offsets, vec![0, 1, 2, 3, 4]);
    assert!(client.reconnects() >= 1);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_waits_for_what_was_queued_before_it_not_for_later_sends() {
    let server = TestServer::start(|_| {}).await;
    let client = Arc::new(Client::connect(server.addr).await.unwrap());
    client
        .admin()
        .create_stream("busy", 1, memory())
        .await
        .unwrap();
    let producer = Arc::new(
        Producer::new(
            client.clone(),
            "busy",
            ProducerOptions {
                acks: Acks::Written,
                linger: Duration::from_secs(3600),
                ..ProducerOptions::default()
            },
        )
        .await
        .unwrap(),
    );
    let mine = producer.send(Record::value("mine")).await;
    // Another task never stops sending.
    let sender = producer.clone();
    let busy = tokio::spawn(async move {
        loop {
            drop(sender.send(Record::value("theirs")).await);
            tokio::task::yield_now().await;
        }
    });
    tokio::time::timeout(WAIT, producer.flush())
        .await
        .expect("flush returns although sends go on");
    assert_eq!(mine.await.unwrap().offset, Some(0));
    busy.abort();
    server.stop().await;
}

#[tokio::test]
async fn oversized_names_are_refused_at_the_api_and_an_http_port_is_named() {
    let server = TestServer::start(|_| {}).await;
    let client = Client::connect(server.addr).await.unwrap();
    let huge = "s".repeat(70_000);
    let long = "g".repeat(300);
    // Each used to panic in the string encoder; each is now a typed error, and the
    // connection goes on working.
    let errors = [
        client.admin().describe_stream(&huge).await.unwrap_err(),
        client
            .admin()
            .create_stream(&long, 1, Default::default())
            .await
            .unwrap_err(),
        client.admin().describe_group(&long).await.unwrap_err(),
    ];
    for err in errors {
        assert!(matches!(err, ClientError::InvalidArgument(_)), "{err}");
        assert!(err.to_string().contains("the limit is 255"), "{err}");
    }
    client.admin().list_streams().await.unwrap();
    // Pointed at the admin HTTP listener, the client says so.
    let Err(err) = Client::connect(server.admin).await else {
        panic!("an HTTP port is not a MemoryStreamer server");
    };
    assert!(err.to_string().contains("HTTP"), "{err}");
    server.stop().await;
}
