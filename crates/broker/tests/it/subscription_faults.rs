//! Subscriptions against conditions that do not change by themselves: a batch that needs
//! most of the credit window, a corrupt batch in a sealed segment. Each must end in delivery
//! or in one clear error, never in a stall or a busy loop.

use crate::common;

use std::sync::Arc;

use bytes::Bytes;
use common::{TestServer, WAIT};
use memstream_client::{Client, Subscription};
use memstream_protocol::batch::BatchBuilder;
use memstream_protocol::message::{
    Acks, CreateStream, FetchRequest, FetchResponse, OffsetSpec, PartitionSelector, ProduceBatch,
    ProduceRequest, StorageKind, StreamSettings,
};
use memstream_protocol::{ErrorCode, Request};

async fn create(client: &Client, name: &str, storage: StorageKind) {
    let request = Request::CreateStream(CreateStream {
        name: name.into(),
        partitions: 1,
        settings: StreamSettings {
            storage: Some(storage),
            ..StreamSettings::default()
        },
    });
    client.call(&request).await.expect("create");
}

/// Appends one batch holding one record of `len` bytes of `fill`.
async fn append(client: &Client, stream: &str, len: usize, fill: u8) {
    let mut b = BatchBuilder::with_capacity(len + 100);
    b.push(1_700_000_000_000, None, &vec![fill; len], &[]);
    let request = Request::Produce(ProduceRequest {
        stream: stream.into(),
        acks: Acks::Written,
        batches: vec![ProduceBatch {
            selector: PartitionSelector::Explicit(0),
            batch: b.finish(-1, -1, -1),
        }],
    });
    let frame = client.call(&request).await.expect("produce");
    let response = memstream_protocol::message::ProduceResponse::decode(&frame.payload).unwrap();
    assert_eq!(response.results[0].error_code, 0, "append of {len} bytes");
}

#[tokio::test]
async fn a_batch_larger_than_the_credit_left_is_still_delivered() {
    // Default limits: a 1 MiB frame, a credit window of one frame. After a 400 KB record the
    // window has ~600 KB left, less than the 900 KB batch that follows.
    let server = TestServer::start(|_| {}).await;
    let client = Arc::new(Client::connect(server.addr).await.unwrap());
    create(&client, "big", StorageKind::Memory).await;
    append(&client, "big", 400_000, b'a').await;
    append(&client, "big", 900_000, b'b').await;
    let mut sub = Subscription::start(client.clone(), "big", OffsetSpec::Earliest, 0)
        .await
        .unwrap();
    for (offset, len) in [(0, 400_000), (1, 900_000)] {
        let record = tokio::time::timeout(WAIT, sub.next())
            .await
            .expect("the record arrives")
            .unwrap()
            .unwrap();
        assert_eq!((record.offset, record.value.len()), (offset, len));
    }
    server.stop().await;
}

#[tokio::test]
async fn a_corrupt_sealed_batch_stops_its_partition_with_corrupt_data() {
    let server = TestServer::start(|c| c.streams.segment_bytes = 1 << 20).await;
    let data_dir = server.handle.config().load().server.data_dir.clone();
    let client = Arc::new(Client::connect(server.addr).await.unwrap());
    create(&client, "disk", StorageKind::Disk).await;
    // Three batches of 300 KB fill the first 1 MiB segment; the fourth and fifth roll it.
    for i in 0..5u8 {
        append(&client, "disk", 300_000, b'0' + i).await;
    }
    let segment = data_dir
        .join("streams")
        .join("disk")
        .join("00000")
        .join("00000000000000000000.log");
    let mut bytes = std::fs::read(&segment).expect("the first segment is a file");
    let second = 300_100; // inside the second batch's value
    bytes[second] ^= 0x01;
    std::fs::write(&segment, &bytes).unwrap();

    let mut sub = Subscription::start(client.clone(), "disk", OffsetSpec::Earliest, 0)
        .await
        .unwrap();
    let first = tokio::time::timeout(WAIT, sub.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.offset, 0);
    let err = tokio::time::timeout(WAIT, sub.next())
        .await
        .expect("the error arrives, not a stall")
        .unwrap()
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::CorruptData), "{err}");
    assert!(
        err.to_string().contains("disk/0 stopped at offset 1"),
        "{err}"
    );

    // The records after it are there for a consumer that skips past it by offset.
    let fetch = Request::Fetch(FetchRequest {
        stream: "disk".into(),
        partition: 0,
        from: OffsetSpec::Offset(2),
        max_bytes: 1 << 20,
        max_wait_ms: 0,
    });
    let frame = client
        .call(&fetch)
        .await
        .expect("fetch past the corrupt batch");
    let fetched = FetchResponse::decode(&frame.payload).unwrap();
    let batches: Vec<Bytes> = fetched.batches().collect();
    assert!(!batches.is_empty());
    let h = memstream_protocol::batch::BatchHeader::parse(&batches[0]).unwrap();
    assert_eq!(h.base_offset, 2);
    // `stream describe` shows where: from offset 1, with the segment, byte and reason.
    let described = client.admin().describe_stream("disk").await.unwrap();
    let corrupt = &described.partitions[0].corrupt;
    assert_eq!(corrupt.len(), 1, "{corrupt:?}");
    assert_eq!(corrupt[0].from_offset, 1);
    assert!(
        corrupt[0].description.contains("00000000000000000000.log")
            && corrupt[0].description.contains("checksum"),
        "{corrupt:?}"
    );
    // And the server still answers: nothing loops on the corrupt batch.
    client.admin().list_streams().await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn no_frame_exceeds_the_limit_a_client_announced() {
    let server = TestServer::start(|_| {}).await;
    let options = memstream_client::ClientOptions {
        max_frame_bytes: Some(65_536),
        ..memstream_client::ClientOptions::default()
    };
    let client = Arc::new(Client::connect_with(server.addr, options).await.unwrap());
    create(&client, "wide", StorageKind::Memory).await;
    append(&client, "wide", 1_000, b's').await;
    append(&client, "wide", 100_000, b'L').await;
    // FETCH: the small batch comes; the large one is refused, not sent over the limit.
    let fetch = |offset| {
        Request::Fetch(FetchRequest {
            stream: "wide".into(),
            partition: 0,
            from: OffsetSpec::Offset(offset),
            max_bytes: 1 << 20,
            max_wait_ms: 0,
        })
    };
    let small = client.call(&fetch(0)).await.expect("fits");
    let fetched = FetchResponse::decode(&small.payload).unwrap();
    assert_eq!(fetched.batches().count(), 1);
    let err = client.call(&fetch(1)).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::MessageTooLarge), "{err}");
    assert!(err.to_string().contains("offset 1"), "{err}");
    // PUSH: the same, as a PUSH+ERROR after the record that fits.
    let mut sub = Subscription::start(client.clone(), "wide", OffsetSpec::Earliest, 0)
        .await
        .unwrap();
    let first = tokio::time::timeout(WAIT, sub.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.value.len(), 1_000);
    let err = tokio::time::timeout(WAIT, sub.next())
        .await
        .expect("an error, not a stall")
        .unwrap()
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::MessageTooLarge), "{err}");
    server.stop().await;
}
