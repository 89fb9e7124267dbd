//! Streams over real TCP: administration, produce and fetch, idempotence, long poll,
//! durability levels, restart, and every new error code.

use crate::common;

use bytes::Bytes;
use common::TestServer;
use memstream_broker::config::ConfigHandle;
use memstream_client::{Client, ClientError};
use memstream_protocol::batch::{BatchBuilder, Compression, Limits, RecordIter, BATCH_HEADER_LEN};
use memstream_protocol::message::{
    Acks, CreateStream, Durability, FetchRequest, FetchResponse, OffsetSpec, PartitionSelector,
    ProduceBatch, ProduceRequest, ProduceResponse, StorageKind, StreamDescription, StreamList,
    StreamRef, StreamSettings,
};
use memstream_protocol::{ErrorCode, Frame, Request};

async fn call(client: &Client, request: Request) -> Result<Frame, ClientError> {
    client.call(&request).await
}

fn code_of(result: Result<Frame, ClientError>) -> Option<ErrorCode> {
    result.err().and_then(|e| e.code())
}

async fn create(client: &Client, name: &str, partitions: u32, storage: StorageKind) {
    call(
        client,
        Request::CreateStream(CreateStream {
            name: name.into(),
            partitions,
            settings: StreamSettings {
                storage: Some(storage),
                ..StreamSettings::default()
            },
        }),
    )
    .await
    .expect("create stream");
}

fn batch(values: &[&str]) -> Bytes {
    let mut b = BatchBuilder::default();
    for v in values {
        b.push(1_700_000_000_000, None, v.as_bytes(), &[]);
    }
    b.finish(-1, -1, -1)
}

async fn produce(
    client: &Client,
    stream: &str,
    partition: u32,
    acks: Acks,
    batch: Bytes,
) -> ProduceResponse {
    let frame = call(
        client,
        Request::Produce(ProduceRequest {
            stream: stream.into(),
            acks,
            batches: vec![ProduceBatch {
                selector: PartitionSelector::Explicit(partition),
                batch,
            }],
        }),
    )
    .await
    .expect("produce");
    ProduceResponse::decode(&frame.payload).expect("produce response")
}

async fn fetch(
    client: &Client,
    stream: &str,
    partition: u32,
    from: OffsetSpec,
    wait_ms: u32,
) -> Result<FetchResponse, ClientError> {
    let frame = call(
        client,
        Request::Fetch(FetchRequest {
            stream: stream.into(),
            partition,
            from,
            max_bytes: 1 << 20,
            max_wait_ms: wait_ms,
        }),
    )
    .await?;
    Ok(FetchResponse::decode(&frame.payload).expect("fetch response"))
}

/// Every record value at or after `from` in a fetch response, with its offset.
fn values(resp: &FetchResponse, from: u64) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    for batch in resp.batches() {
        let header = memstream_protocol::batch::verify(&batch, Limits::UNLIMITED)
            .expect("served batches are valid");
        for record in RecordIter::new(&batch[BATCH_HEADER_LEN..], &header) {
            let record = record.unwrap();
            let offset = header.base_offset + u64::from(record.offset_delta);
            if offset >= from {
                out.push((
                    offset,
                    String::from_utf8(record.value_bytes().to_vec()).unwrap(),
                ));
            }
        }
    }
    out
}

#[tokio::test]
async fn create_list_describe_delete() {
    let server = TestServer::start(|_| {}).await;
    let client = Client::connect(server.addr).await.unwrap();
    create(&client, "orders.eu", 3, StorageKind::Disk).await;
    create(&client, "metrics", 1, StorageKind::Memory).await;

    let list =
        StreamList::decode(&call(&client, Request::ListStreams).await.unwrap().payload).unwrap();
    let names: Vec<_> = list
        .streams
        .iter()
        .map(|s| (s.name.as_str(), s.partitions, s.storage))
        .collect();
    assert_eq!(
        names,
        [
            ("metrics", 1, StorageKind::Memory),
            ("orders.eu", 3, StorageKind::Disk)
        ]
    );

    let desc = call(
        &client,
        Request::DescribeStream(StreamRef {
            name: "orders.eu".into(),
        }),
    )
    .await
    .unwrap();
    let desc = StreamDescription::decode(&desc.payload).unwrap();
    assert_eq!(desc.partitions.len(), 3);
    assert_eq!(desc.settings.storage, Some(StorageKind::Disk));
    assert!(desc.settings.fsync.is_some() && desc.settings.retention_bytes.is_some());

    call(
        &client,
        Request::DeleteStream(StreamRef {
            name: "orders.eu".into(),
        }),
    )
    .await
    .unwrap();
    let again = call(
        &client,
        Request::DescribeStream(StreamRef {
            name: "orders.eu".into(),
        }),
    )
    .await;
    assert_eq!(code_of(again), Some(ErrorCode::StreamNotFound));
    server.stop().await;
}

#[tokio::test]
async fn stream_admin_errors_have_their_codes() {
    let server = TestServer::start(|c| c.streams.max_partitions_per_stream = 8).await;
    let client = Client::connect(server.addr).await.unwrap();
    create(&client, "s", 1, StorageKind::Memory).await;
    let dup = call(
        &client,
        Request::CreateStream(CreateStream {
            name: "s".into(),
            partitions: 1,
            settings: StreamSettings::default(),
        }),
    )
    .await;
    assert_eq!(code_of(dup), Some(ErrorCode::StreamAlreadyExists));
    for bad in ["", "a..b", "has space", "star*"] {
        let r = call(
            &client,
            Request::CreateStream(CreateStream {
                name: bad.into(),
                partitions: 1,
                settings: StreamSettings::default(),
            }),
        )
        .await;
        assert_eq!(code_of(r), Some(ErrorCode::InvalidStreamName), "{bad:?}");
    }
    let many = call(
        &client,
        Request::CreateStream(CreateStream {
            name: "big".into(),
            partitions: 9,
            settings: StreamSettings::default(),
        }),
    )
    .await;
    assert_eq!(code_of(many), Some(ErrorCode::InvalidArgument));
    let delete = call(
        &client,
        Request::DeleteStream(StreamRef {
            name: "nope".into(),
        }),
    )
    .await;
    assert_eq!(code_of(delete), Some(ErrorCode::StreamNotFound));
    server.stop().await;
}

#[tokio::test]
async fn produce_then_fetch_in_order_per_partition() {
    let server = TestServer::start(|_| {}).await;
    let client = Client::connect(server.addr).await.unwrap();
    for storage in [StorageKind::Memory, StorageKind::Disk] {
        let name = format!("s-{storage:?}").to_lowercase();
        create(&client, &name, 2, storage).await;
        let mut expected = [Vec::new(), Vec::new()];
        for i in 0..20u32 {
            let p = i % 2;
            let vals: Vec<String> = (0..3).map(|j| format!("{i}-{j}")).collect();
            let refs: Vec<&str> = vals.iter().map(String::as_str).collect();
            let resp = produce(&client, &name, p, Acks::Written, batch(&refs)).await;
            let r = resp.results[0];
            assert_eq!((r.error_code, r.partition), (0, p));
            assert_eq!(r.base_offset, expected[p as usize].len() as u64);
            expected[p as usize].extend(vals);
        }
        for p in 0..2u32 {
            let mut got = Vec::new();
            let mut next = 0;
            loop {
                let resp = fetch(&client, &name, p, OffsetSpec::Offset(next), 0)
                    .await
                    .unwrap();
                if resp.batches.is_empty() {
                    break;
                }
                got.extend(values(&resp, next));
                next = resp.header.next_offset;
            }
            let offsets: Vec<u64> = got.iter().map(|(o, _)| *o).collect();
            assert_eq!(
                offsets,
                (0..expected[p as usize].len() as u64).collect::<Vec<_>>()
            );
            let vals: Vec<String> = got.into_iter().map(|(_, v)| v).collect();
            assert_eq!(vals, expected[p as usize]);
        }
        // Fetch from the middle of a batch skips nothing and repeats nothing.
        let resp = fetch(&client, &name, 0, OffsetSpec::Offset(4), 0)
            .await
            .unwrap();
        assert_eq!(values(&resp, 4).first().map(|(o, _)| *o), Some(4));
        let latest = fetch(&client, &name, 0, OffsetSpec::Latest, 0)
            .await
            .unwrap();
        assert!(latest.batches.is_empty());
        assert_eq!(latest.header.end_offset, 30);
    }
    server.stop().await;
}

#[tokio::test]
async fn produce_and_fetch_errors_have_their_codes() {
    let server = TestServer::start(|c| c.streams.max_message_bytes = 1000).await;
    let client = Client::connect(server.addr).await.unwrap();
    create(&client, "s", 1, StorageKind::Memory).await;
    let missing = call(
        &client,
        Request::Produce(ProduceRequest {
            stream: "nope".into(),
            acks: Acks::Written,
            batches: vec![],
        }),
    )
    .await;
    assert_eq!(code_of(missing), Some(ErrorCode::StreamNotFound));

    let results = |r: ProduceResponse| r.results[0].error_code;
    let no_partition = produce(&client, "s", 5, Acks::Written, batch(&["x"])).await;
    assert_eq!(results(no_partition), ErrorCode::PartitionNotFound.as_u16());
    let big = "x".repeat(2000);
    let too_big = produce(&client, "s", 0, Acks::Written, batch(&[&big])).await;
    assert_eq!(results(too_big), ErrorCode::MessageTooLarge.as_u16());
    // The limit is on the whole batch (Kafka's max.message.bytes): two records that each
    // fit are refused together, so no stored batch can outgrow a FETCH or PUSH frame.
    let half = "x".repeat(600);
    let two_fit_alone = produce(&client, "s", 0, Acks::Written, batch(&[&half, &half])).await;
    assert_eq!(results(two_fit_alone), ErrorCode::MessageTooLarge.as_u16());
    assert_eq!(
        results(produce(&client, "s", 0, Acks::Written, batch(&[&half])).await),
        0
    );
    let mut corrupt = batch(&["abc"]).to_vec();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 1;
    let bad_crc = produce(&client, "s", 0, Acks::Written, Bytes::from(corrupt)).await;
    assert_eq!(results(bad_crc), ErrorCode::BatchChecksum.as_u16());
    let garbage = produce(
        &client,
        "s",
        0,
        Acks::Written,
        Bytes::from_static(b"not a batch"),
    )
    .await;
    assert_eq!(results(garbage), ErrorCode::InvalidBatch.as_u16());

    let out_of_range = fetch(&client, "s", 0, OffsetSpec::Offset(99), 0).await;
    assert_eq!(
        out_of_range.err().and_then(|e| e.code()),
        Some(ErrorCode::OffsetOutOfRange)
    );
    let no_partition = fetch(&client, "s", 3, OffsetSpec::Earliest, 0).await;
    assert_eq!(
        no_partition.err().and_then(|e| e.code()),
        Some(ErrorCode::PartitionNotFound)
    );
    let no_stream = fetch(&client, "zz", 0, OffsetSpec::Earliest, 0).await;
    assert_eq!(
        no_stream.err().and_then(|e| e.code()),
        Some(ErrorCode::StreamNotFound)
    );
    server.stop().await;
}

#[tokio::test]
async fn retried_batches_are_stored_once() {
    let server = TestServer::start(|_| {}).await;
    let client = Client::connect(server.addr).await.unwrap();
    create(&client, "s", 1, StorageKind::Memory).await;
    let idempotent = |seq: i32, v: &str| {
        let mut b = BatchBuilder::default();
        b.push(0, None, v.as_bytes(), &[]);
        b.push(0, None, v.as_bytes(), &[]);
        b.finish(42, 0, seq)
    };
    let first = produce(&client, "s", 0, Acks::Written, idempotent(0, "a"))
        .await
        .results[0];
    let retry = produce(&client, "s", 0, Acks::Written, idempotent(0, "a"))
        .await
        .results[0];
    assert_eq!((first.error_code, retry.error_code), (0, 0));
    assert_eq!(retry.base_offset, first.base_offset);
    let next = produce(&client, "s", 0, Acks::Written, idempotent(2, "b"))
        .await
        .results[0];
    assert_eq!(next.base_offset, 2);
    let gap = produce(&client, "s", 0, Acks::Written, idempotent(9, "c"))
        .await
        .results[0];
    assert_eq!(gap.error_code, ErrorCode::OutOfOrderSequence.as_u16());
    let resp = fetch(&client, "s", 0, OffsetSpec::Earliest, 0)
        .await
        .unwrap();
    assert_eq!(values(&resp, 0).len(), 4, "the retry was not stored again");
    server.stop().await;
}

#[tokio::test]
async fn durability_reached_is_reported() {
    let server = TestServer::start(|_| {}).await;
    let client = Client::connect(server.addr).await.unwrap();
    create(&client, "mem", 1, StorageKind::Memory).await;
    create(&client, "disk", 1, StorageKind::Disk).await;
    let mem = produce(&client, "mem", 0, Acks::Durable, batch(&["m"]))
        .await
        .results[0];
    assert_eq!(
        mem.durability,
        Durability::Written,
        "memory streams cannot be durable"
    );
    let disk = produce(&client, "disk", 0, Acks::Durable, batch(&["d"]))
        .await
        .results[0];
    assert_eq!(disk.durability, Durability::Durable);
    let written = produce(&client, "disk", 0, Acks::Written, batch(&["w"]))
        .await
        .results[0];
    assert_eq!(written.durability, Durability::Written);
    server.stop().await;
}

#[tokio::test]
async fn long_poll_fetch_wakes_on_produce() {
    let server = TestServer::start(|_| {}).await;
    let client = Client::connect(server.addr).await.unwrap();
    create(&client, "s", 1, StorageKind::Memory).await;
    // One connection, one write: the server reads the FETCH first (nothing there: it waits),
    // then the PRODUCE, whose append wakes the FETCH. So the PRODUCE is answered first.
    let mut peer = common::Peer::connect(server.addr).await;
    peer.hello().await;
    let fetch = Request::Fetch(FetchRequest {
        stream: "s".into(),
        partition: 0,
        from: OffsetSpec::Latest,
        max_bytes: 1 << 20,
        max_wait_ms: 600_000,
    });
    let produce = Request::Produce(ProduceRequest {
        stream: "s".into(),
        acks: Acks::Written,
        batches: vec![ProduceBatch {
            selector: PartitionSelector::Explicit(0),
            batch: batch(&["wake"]),
        }],
    });
    let mut out = bytes::BytesMut::new();
    fetch.to_frame(10).encode(&mut out);
    produce.to_frame(11).encode(&mut out);
    peer.send_bytes(&out).await;
    let first = peer.read().await.expect("produce response");
    assert_eq!(first.correlation_id, 11);
    let second = peer.read().await.expect("fetch response");
    assert_eq!(second.correlation_id, 10);
    let resp = FetchResponse::decode(&second.payload).unwrap();
    assert_eq!(values(&resp, 0), [(0, "wake".to_owned())]);
    server.stop().await;
}

#[tokio::test]
async fn disk_streams_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = || {
        let mut cfg = common::test_config(dir.path());
        cfg.streams.storage = "disk".into();
        ConfigHandle::fixed(cfg)
    };
    let server = TestServer::start_with(config()).await;
    let client = Client::connect(server.addr).await.unwrap();
    create(&client, "keep", 2, StorageKind::Disk).await;
    create(&client, "gone", 1, StorageKind::Memory).await;
    produce(&client, "keep", 1, Acks::Durable, batch(&["a", "b"])).await;
    produce(&client, "gone", 0, Acks::Written, batch(&["x"])).await;
    drop(client);
    server.stop().await;

    let server = TestServer::start_with(config()).await;
    let client = Client::connect(server.addr).await.unwrap();
    let resp = fetch(&client, "keep", 1, OffsetSpec::Earliest, 0)
        .await
        .unwrap();
    assert_eq!(values(&resp, 0), [(0, "a".to_owned()), (1, "b".to_owned())]);
    // A memory stream keeps its definition, not its records.
    let mem = fetch(&client, "gone", 0, OffsetSpec::Earliest, 0)
        .await
        .unwrap();
    assert!(mem.batches.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn a_retry_across_a_restart_is_recognised_from_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let config = || ConfigHandle::fixed(common::test_config(dir.path()));
    let idempotent = |producer: i64, seq: i32, v: &str| {
        let mut b = BatchBuilder::default();
        b.push(0, None, v.as_bytes(), &[]);
        b.push(0, None, v.as_bytes(), &[]);
        b.finish(producer, 0, seq)
    };
    let server = TestServer::start_with(config()).await;
    let client = Client::connect(server.addr).await.unwrap();
    create(&client, "dedup", 1, StorageKind::Disk).await;
    for (producer, seq, v) in [(7, 0, "a"), (8, 0, "x"), (7, 2, "b")] {
        let r = produce(
            &client,
            "dedup",
            0,
            Acks::Durable,
            idempotent(producer, seq, v),
        )
        .await;
        assert_eq!(r.results[0].error_code, 0);
    }
    drop(client);
    server.stop().await;

    // After the restart the server knows both producers again from the stored batches.
    let server = TestServer::start_with(config()).await;
    let client = Client::connect(server.addr).await.unwrap();
    let retry = produce(&client, "dedup", 0, Acks::Durable, idempotent(7, 2, "b")).await;
    assert_eq!(
        (retry.results[0].error_code, retry.results[0].base_offset),
        (0, 4)
    );
    let retry = produce(&client, "dedup", 0, Acks::Durable, idempotent(8, 0, "x")).await;
    assert_eq!(
        (retry.results[0].error_code, retry.results[0].base_offset),
        (0, 2)
    );
    let gap = produce(&client, "dedup", 0, Acks::Durable, idempotent(7, 9, "c")).await;
    assert_eq!(
        gap.results[0].error_code,
        ErrorCode::OutOfOrderSequence.as_u16()
    );
    let next = produce(&client, "dedup", 0, Acks::Durable, idempotent(7, 4, "c")).await;
    assert_eq!(
        (next.results[0].error_code, next.results[0].base_offset),
        (0, 6)
    );
    let resp = fetch(&client, "dedup", 0, OffsetSpec::Earliest, 0)
        .await
        .unwrap();
    assert_eq!(values(&resp, 0).len(), 8, "nothing stored twice");
    server.stop().await;
}

#[tokio::test]
async fn the_client_admin_api_round_trips() {
    let server = TestServer::start(|_| {}).await;
    let client = Client::connect(server.addr).await.unwrap();
    let admin = client.admin();
    let settings = StreamSettings {
        storage: Some(StorageKind::Memory),
        retention_bytes: Some(1 << 20),
        ..StreamSettings::default()
    };
    admin.create_stream("a.b", 2, settings).await.unwrap();
    let listed = admin.list_streams().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].name.as_str(), listed[0].partitions), ("a.b", 2));
    let described = admin.describe_stream("a.b").await.unwrap();
    assert_eq!(described.settings.retention_bytes, Some(1 << 20));
    assert!(admin.list_groups().await.unwrap().is_empty());
    let missing = admin.describe_group("none").await.unwrap_err();
    assert_eq!(missing.code(), Some(ErrorCode::GroupNotFound));
    admin.delete_stream("a.b").await.unwrap();
    let gone = admin.describe_stream("a.b").await.unwrap_err();
    assert_eq!(gone.code(), Some(ErrorCode::StreamNotFound));
    server.stop().await;
}

#[tokio::test]
async fn compressed_batches_are_checked_within_the_decompression_limit() {
    let server = TestServer::start(|c| {
        c.streams.max_message_bytes = 10_000;
        c.streams.max_decompressed_batch_bytes = 50_000;
    })
    .await;
    let client = Client::connect(server.addr).await.unwrap();
    create(&client, "z", 1, StorageKind::Memory).await;
    let zstd = |records: usize| {
        let mut b = BatchBuilder::compressed(Compression::Zstd, 1024);
        for _ in 0..records {
            b.push(1_700_000_000_000, None, &[b'a'; 1000], &[]);
        }
        b.finish(-1, -1, -1)
    };
    // 40 KB of records in a batch of a few hundred bytes: stored compressed, as sent.
    let fits = zstd(40);
    assert!(fits.len() < 1_000);
    let ok = produce(&client, "z", 0, Acks::Written, fits.clone()).await;
    assert_eq!(ok.results[0].error_code, 0);
    let fetched = fetch(&client, "z", 0, OffsetSpec::Earliest, 0)
        .await
        .unwrap();
    let stored: Vec<Bytes> = fetched.batches().collect();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0][BATCH_HEADER_LEN..], fits[BATCH_HEADER_LEN..]);
    // 60 KB decompressed is over the limit, though the batch itself is small.
    let bomb = produce(&client, "z", 0, Acks::Written, zstd(60)).await;
    assert_eq!(
        bomb.results[0].error_code,
        ErrorCode::MessageTooLarge.as_u16()
    );
    server.stop().await;
}

#[tokio::test]
async fn producer_ids_come_from_the_server_and_producer_state_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let config = || {
        let mut cfg = common::test_config(dir.path());
        cfg.streams.max_producers_per_partition = 2;
        ConfigHandle::fixed(cfg)
    };
    let server = TestServer::start_with(config()).await;
    let client = Client::connect(server.addr).await.unwrap();
    async fn init(client: &Client) -> memstream_protocol::message::InitProducer {
        let frame = call(client, Request::InitProducer).await.unwrap();
        memstream_protocol::message::InitProducer::decode(&frame.payload).unwrap()
    }
    let a = init(&client).await;
    let b = init(&client).await;
    assert!(a.producer_id >= 0 && b.producer_id > a.producer_id);
    assert_eq!((a.producer_epoch, b.producer_epoch), (0, 0));

    create(&client, "p", 1, StorageKind::Memory).await;
    let batch = |producer: i64, seq: i32| {
        let mut b = BatchBuilder::default();
        b.push(0, None, b"v", &[]);
        b.finish(producer, 0, seq)
    };
    let code = |r: ProduceResponse| r.results[0].error_code;
    // An unknown producer must start at sequence 0.
    let late = produce(&client, "p", 0, Acks::Written, batch(a.producer_id, 5)).await;
    assert_eq!(code(late), ErrorCode::UnknownProducerId.as_u16());
    for producer in [a.producer_id, b.producer_id, 777] {
        let first = produce(&client, "p", 0, Acks::Written, batch(producer, 0)).await;
        assert_eq!(code(first), 0);
    }
    // Three producers, room for two: the least recently used (a) was forgotten.
    let a_next = produce(&client, "p", 0, Acks::Written, batch(a.producer_id, 1)).await;
    assert_eq!(code(a_next), ErrorCode::UnknownProducerId.as_u16());
    let b_next = produce(&client, "p", 0, Acks::Written, batch(b.producer_id, 1)).await;
    assert_eq!(code(b_next), 0);
    server.stop().await;

    // Ids are never handed out twice, across a restart.
    let server = TestServer::start_with(config()).await;
    let client = Client::connect(server.addr).await.unwrap();
    let c = init(&client).await;
    assert!(c.producer_id > b.producer_id, "{c:?} after {b:?}");
    server.stop().await;
}
