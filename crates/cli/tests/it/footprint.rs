//! Server memory, measured on the real binary (Linux: VmRSS from /proc): a subscriber that
//! grants no credit does not make the server buffer what is produced, and an empty
//! memory-stream partition costs under a kibibyte.

use crate::common;

use common::start;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use memstream_client::Client;
use memstream_protocol::batch::BatchBuilder;
use memstream_protocol::message::{
    Acks, CreateStream, OffsetSpec, PartitionSelector, ProduceBatch, ProduceRequest,
    ProduceResponse, StorageKind, StreamDescription, StreamRef, StreamSettings, Subscribe,
    ALL_PARTITIONS,
};
use memstream_protocol::{Frame, FrameCodec, HelloRequest, Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_util::codec::Decoder;

const WAIT: Duration = Duration::from_secs(120);

/// Resident memory of `pid` in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kib * 1024
}

async fn call(client: &Client, request: Request) -> Frame {
    client.call(&request).await.expect("request")
}

fn memory_stream(name: &str, partitions: u32, retention_bytes: u64, segment_bytes: u64) -> Request {
    Request::CreateStream(CreateStream {
        name: name.into(),
        partitions,
        settings: StreamSettings {
            storage: Some(StorageKind::Memory),
            retention_bytes: Some(retention_bytes),
            segment_bytes: Some(segment_bytes),
            ..StreamSettings::default()
        },
    })
}

#[tokio::test]
async fn a_subscriber_without_credit_does_not_grow_server_memory() {
    const TOTAL: u64 = 1 << 30;
    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr) = start(dir.path()).await;
    let pid = server.id().unwrap();
    let admin = Client::connect(addr.as_str()).await.unwrap();
    call(&admin, memory_stream("flood", 1, 64 << 20, 8 << 20)).await;

    // The subscriber asks for everything from the start and grants no credit, ever.
    let mut subscriber = TcpStream::connect(addr.as_str()).await.unwrap();
    let mut out = BytesMut::new();
    HelloRequest::new(1, 1, "idle").to_frame(1).encode(&mut out);
    let mut subscribe = Request::Subscribe(Subscribe {
        pattern: "flood".into(),
        partition: ALL_PARTITIONS,
        from: OffsetSpec::Earliest,
        credit_bytes: 0,
        positions: Vec::new(),
    })
    .to_frame(2);
    subscribe.stream_id = 1;
    subscribe.encode(&mut out);
    subscriber.write_all(&out).await.unwrap();
    let mut buf = BytesMut::new();
    let mut codec = FrameCodec::new(u32::MAX);
    let mut answered = 0;
    while answered < 2 {
        subscriber.read_buf(&mut buf).await.unwrap();
        while let Some(frame) = codec.decode(&mut buf).unwrap() {
            assert!(!frame.is_error(), "{frame:?}");
            answered += 1;
        }
    }

    // One 256 KiB batch (256 records of 1 KiB), sent 4096 times by four producers.
    // Current timestamps, so that retention by age (7 days by default) keeps them.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let mut b = BatchBuilder::with_capacity(300 << 10);
    for _ in 0..256 {
        b.push(now_ms, None, &[0x5a; 1024], &[]);
    }
    let batch = b.finish(-1, -1, -1);
    let per_batch = batch.len() as u64;
    let batches = TOTAL / per_batch + 1;
    let before = rss(pid);
    let mut producers = Vec::new();
    for i in 0..4u64 {
        let client = Arc::new(Client::connect(addr.as_str()).await.unwrap());
        let batch = batch.clone();
        producers.push(tokio::spawn(async move {
            for _ in (i..batches).step_by(4) {
                let frame = call(
                    &client,
                    Request::Produce(ProduceRequest {
                        stream: "flood".into(),
                        acks: Acks::Written,
                        batches: vec![ProduceBatch {
                            selector: PartitionSelector::Explicit(0),
                            batch: batch.clone(),
                        }],
                    }),
                )
                .await;
                let result = ProduceResponse::decode(&frame.payload).unwrap().results[0];
                assert_eq!(result.error_code, 0);
            }
        }));
    }
    let mut peak = before;
    for p in producers {
        tokio::time::timeout(WAIT, p)
            .await
            .expect("producing finishes")
            .unwrap();
        peak = peak.max(rss(pid));
    }
    let after = rss(pid);
    peak = peak.max(after);
    let produced = batches * per_batch;
    let described = call(
        &admin,
        Request::DescribeStream(StreamRef {
            name: "flood".into(),
        }),
    )
    .await;
    let retained = StreamDescription::decode(&described.payload)
        .unwrap()
        .partitions
        .swap_remove(0);
    eprintln!("retained by the log: {retained:?}");
    // Retention by bytes holds: the log keeps 64 MiB and at most one more segment.
    assert!(retained.size_bytes <= (64 + 8) << 20);
    eprintln!(
        "produced {} MiB with a credit-less subscriber: server RSS {} MiB before, {} MiB after, peak seen {} MiB",
        produced >> 20,
        before >> 20,
        after >> 20,
        peak >> 20
    );
    assert!(produced >= TOTAL);
    // The log retains 64 MiB (plus a segment in flight); nothing is queued for the subscriber.
    assert!(
        peak.saturating_sub(before) < 256 << 20,
        "server memory grew by {} MiB",
        (peak - before) >> 20
    );
    // The subscriber received nothing beyond its SUBSCRIBE answer.
    let mut extra = [0u8; 1];
    let nothing = tokio::time::timeout(Duration::from_millis(1), subscriber.read(&mut extra)).await;
    assert!(
        nothing.is_err() && buf.is_empty(),
        "a push arrived without credit"
    );
    server.kill().await.unwrap();
}

#[tokio::test]
async fn an_empty_memory_partition_costs_under_a_kibibyte() {
    const STREAMS: u32 = 25;
    const PARTITIONS: u32 = 4000;
    let dir = tempfile::tempdir().unwrap();
    let (mut server, addr) = start(dir.path()).await;
    let pid = server.id().unwrap();
    let admin = Client::connect(addr.as_str()).await.unwrap();
    // Warm up allocator and code paths with one stream first.
    call(&admin, memory_stream("warm", PARTITIONS, 1 << 20, 1 << 20)).await;
    let before = rss(pid);
    for s in 0..STREAMS {
        call(
            &admin,
            memory_stream(&format!("empty-{s}"), PARTITIONS, 1 << 20, 1 << 20),
        )
        .await;
    }
    let after = rss(pid);
    let partitions = u64::from(STREAMS * PARTITIONS);
    let per_partition = after.saturating_sub(before) / partitions;
    eprintln!(
        "{partitions} empty memory partitions: server RSS {} KiB before, {} KiB after, {per_partition} bytes each",
        before >> 10,
        after >> 10
    );
    assert!(
        per_partition < 1024,
        "{per_partition} bytes per empty partition"
    );
    server.kill().await.unwrap();
}
