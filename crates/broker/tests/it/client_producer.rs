//! The client's Producer against a real server: receipts match what is stored, records are
//! batched naturally, keys pick stable partitions.

use crate::common;

use std::collections::HashMap;
use std::sync::Arc;

use common::TestServer;
use memstream_client::{Client, Partitioner, Producer, ProducerOptions, Record};
use memstream_protocol::batch::{verify, Limits, RecordIter, BATCH_HEADER_LEN};
use memstream_protocol::message::{
    Acks, FetchRequest, FetchResponse, OffsetSpec, StorageKind, StreamSettings,
};
use memstream_protocol::{partition_for_key, Request};

/// Every stored record of `partition` as (offset, value), and the number of batches.
async fn read_all(client: &Client, stream: &str, partition: u32) -> (Vec<(u64, String)>, usize) {
    let mut out = Vec::new();
    let mut batches = 0;
    let mut next = 0;
    loop {
        let request = Request::Fetch(FetchRequest {
            stream: stream.into(),
            partition,
            from: OffsetSpec::Offset(next),
            max_bytes: 1 << 20,
            max_wait_ms: 0,
        });
        let resp = FetchResponse::decode(&client.call(&request).await.unwrap().payload).unwrap();
        if resp.batches.is_empty() {
            return (out, batches);
        }
        for batch in resp.batches() {
            batches += 1;
            let h = verify(&batch, Limits::UNLIMITED).unwrap();
            for r in RecordIter::new(&batch[BATCH_HEADER_LEN..], &h) {
                let r = r.unwrap();
                out.push((
                    h.base_offset + u64::from(r.offset_delta),
                    String::from_utf8(r.value_bytes().to_vec()).unwrap(),
                ));
            }
        }
        next = resp.header.next_offset;
    }
}

#[tokio::test]
async fn receipts_match_the_log_and_busy_producers_batch() {
    let server = TestServer::start(|_| {}).await;
    let client = Arc::new(Client::connect(server.addr).await.unwrap());
    for (stream, storage) in [("mem", StorageKind::Memory), ("disk", StorageKind::Disk)] {
        let settings = StreamSettings {
            storage: Some(storage),
            ..StreamSettings::default()
        };
        client
            .admin()
            .create_stream(stream, 2, settings)
            .await
            .unwrap();
        let producer = Producer::new(
            client.clone(),
            stream,
            ProducerOptions {
                partitioner: Partitioner::RoundRobin,
                acks: Acks::Durable,
                ..ProducerOptions::default()
            },
        )
        .await
        .unwrap();
        // Queue 2000 records before awaiting any receipt: they must share batches.
        let mut receipts = Vec::new();
        for i in 0..2000 {
            receipts.push((i, producer.send(Record::value(format!("v{i}"))).await));
        }
        let mut landed: HashMap<(u32, u64), String> = HashMap::new();
        for (i, receipt) in receipts {
            let delivery = receipt.await.expect("acknowledged");
            let (partition, offset) = (delivery.partition, delivery.offset.expect("an offset"));
            assert!(
                landed
                    .insert((partition, offset), format!("v{i}"))
                    .is_none(),
                "offset given twice"
            );
        }
        let mut stored_batches = 0;
        for p in 0..2 {
            let (records, batches) = read_all(&client, stream, p).await;
            stored_batches += batches;
            for (offset, value) in records {
                assert_eq!(landed.remove(&(p, offset)).as_deref(), Some(value.as_str()));
            }
        }
        assert!(
            landed.is_empty(),
            "every acknowledged record is stored where its receipt says"
        );
        assert!(
            stored_batches < 200,
            "{stored_batches} batches for 2000 records: no natural batching"
        );
    }
    // Durable acks on the disk stream were fsyncs, shared between batches; /metrics says how
    // many per partition.
    let (_, metrics) = server.admin_get("/metrics").await;
    let value = |name: &str, p: u32| -> u64 {
        let key = format!("{name}{{stream=\"disk\",partition=\"{p}\"}} ");
        let line = metrics
            .lines()
            .find(|l| l.starts_with(&key))
            .unwrap_or_else(|| panic!("{key} missing from {metrics}"));
        line[key.len()..].parse().unwrap()
    };
    for p in 0..2 {
        let (fsyncs, batches) = (
            value("memstream_log_fsyncs_total", p),
            value("memstream_log_fsync_batches_total", p),
        );
        assert!(
            fsyncs >= 1 && batches >= fsyncs,
            "partition {p}: {fsyncs} {batches}"
        );
    }
    assert!(
        !metrics.contains("memstream_log_fsyncs_total{stream=\"mem\""),
        "memory streams have no fsyncs"
    );
    server.stop().await;
}

#[tokio::test]
async fn keys_pick_the_documented_partition() {
    let server = TestServer::start(|_| {}).await;
    let client = Arc::new(Client::connect(server.addr).await.unwrap());
    let settings = StreamSettings {
        storage: Some(StorageKind::Memory),
        ..StreamSettings::default()
    };
    client
        .admin()
        .create_stream("k", 5, settings)
        .await
        .unwrap();
    let producer = Producer::new(client.clone(), "k", ProducerOptions::default())
        .await
        .unwrap();
    for key in ["alpha", "beta", "gamma", "alpha"] {
        let partition = producer
            .send(Record::value("x").with_key(key))
            .await
            .await
            .unwrap()
            .partition;
        assert_eq!(partition, partition_for_key(key.as_bytes(), 5), "{key}");
    }
    server.stop().await;
}

#[tokio::test]
async fn a_subscription_receives_what_a_producer_sends_in_order() {
    use memstream_client::Subscription;
    let server = TestServer::start(|_| {}).await;
    let client = Arc::new(Client::connect(server.addr).await.unwrap());
    let settings = StreamSettings {
        storage: Some(StorageKind::Memory),
        ..StreamSettings::default()
    };
    client
        .admin()
        .create_stream("sub", 3, settings)
        .await
        .unwrap();
    let consumer_conn = Arc::new(Client::connect(server.addr).await.unwrap());
    let mut sub = Subscription::start(consumer_conn, "sub", OffsetSpec::Earliest, 0)
        .await
        .unwrap();
    let producer = Producer::new(client.clone(), "sub", ProducerOptions::default())
        .await
        .unwrap();
    let mut receipts = Vec::new();
    for i in 0..3000u32 {
        let key = format!("k{}", i % 7);
        let value = vec![b'x'; 900];
        receipts.push(producer.send(Record::value(value).with_key(key)).await);
    }
    let mut expected: HashMap<u32, Vec<u64>> = HashMap::new();
    for r in receipts {
        let delivery = r.await.unwrap();
        expected
            .entry(delivery.partition)
            .or_default()
            .push(delivery.offset.unwrap());
    }
    // 3000 x ~1 KiB is more than the 1 MiB window: credit must flow back for this to finish.
    let mut got: HashMap<u32, Vec<u64>> = HashMap::new();
    for _ in 0..3000 {
        let record = tokio::time::timeout(common::WAIT, sub.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(&*record.stream, "sub");
        assert_eq!(record.value.len(), 900);
        got.entry(record.partition).or_default().push(record.offset);
    }
    for offsets in expected.values_mut() {
        offsets.sort_unstable();
    }
    assert_eq!(got, expected, "each partition in order, each record once");
    sub.close().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn sealed_segments_are_read_back_by_fetch_and_subscriptions() {
    use memstream_client::{PartitionReader, Subscription};
    let server = TestServer::start(|_| {}).await;
    let client = Arc::new(Client::connect(server.addr).await.unwrap());
    let settings = StreamSettings {
        storage: Some(StorageKind::Disk),
        segment_bytes: Some(1 << 20),
        ..StreamSettings::default()
    };
    client
        .admin()
        .create_stream("rolled", 1, settings)
        .await
        .unwrap();
    let producer = Producer::new(
        client.clone(),
        "rolled",
        ProducerOptions {
            acks: Acks::Written,
            batch_bytes_max: 64 << 10,
            ..ProducerOptions::default()
        },
    )
    .await
    .unwrap();
    // About 3.5 MiB: three sealed 1 MiB segments and an active one.
    let value = |i: u32| format!("{i:06}{}", "x".repeat(994));
    let mut receipts = Vec::new();
    for i in 0..3500u32 {
        receipts.push(producer.send(Record::value(value(i))).await);
    }
    for r in receipts {
        r.await.unwrap();
    }
    let mut reader = PartitionReader::new(client.clone(), "rolled", 0, OffsetSpec::Earliest);
    let mut fetched = Vec::new();
    while fetched.len() < 3500 {
        let records = reader.poll(std::time::Duration::ZERO).await.unwrap();
        assert!(!records.is_empty(), "stopped at {}", fetched.len());
        fetched.extend(records);
    }
    let consumer = Arc::new(Client::connect(server.addr).await.unwrap());
    let mut sub = Subscription::start(consumer, "rolled", OffsetSpec::Earliest, 0)
        .await
        .unwrap();
    for (i, r) in fetched.iter().enumerate() {
        assert_eq!(
            (r.offset, &r.value[..]),
            (i as u64, value(i as u32).as_bytes())
        );
        let pushed = tokio::time::timeout(common::WAIT, sub.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!((pushed.offset, &pushed.value), (r.offset, &r.value));
    }
    server.stop().await;
}
