//! Produce with acks = 0 and Fetch's rules, on raw sockets: whole batches from the middle of a
//! batch, the first batch past the byte limits, a long poll answered by a later produce, and
//! OFFSET_OUT_OF_RANGE.

use bytes::Bytes;
use memstream_kafka::KafkaConfig;
use memstream_kafka_wire::{ErrorCode, Reader};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use super::raw::{
    connect_with_topic, idempotent_batch, produce_result, produce_v3, request, response, server,
};

/// A Fetch v4 body for partition 0 of `topic`.
fn fetch_v4(topic: &str, offset: i64, partition_max_bytes: i32, max_wait_ms: i32) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend((-1i32).to_be_bytes()); // replica_id
    b.extend(max_wait_ms.to_be_bytes());
    b.extend(1i32.to_be_bytes()); // min_bytes
    b.extend((50i32 << 20).to_be_bytes()); // max_bytes
    b.push(0); // isolation_level
    b.extend(1i32.to_be_bytes());
    b.extend((topic.len() as i16).to_be_bytes());
    b.extend(topic.as_bytes());
    b.extend(1i32.to_be_bytes());
    b.extend(0i32.to_be_bytes()); // partition
    b.extend(offset.to_be_bytes());
    b.extend(partition_max_bytes.to_be_bytes());
    b
}

/// (error, high watermark, records) of the only partition of a Fetch v4 response.
fn fetched(body: Bytes) -> (ErrorCode, i64, Bytes) {
    let mut r = Reader::new(body, false);
    r.i32("throttle").unwrap();
    r.array_len("responses").unwrap();
    r.string("topic").unwrap();
    r.array_len("partitions").unwrap();
    r.i32("index").unwrap();
    let error = ErrorCode(r.i16("error").unwrap());
    let hw = r.i64("high_watermark").unwrap();
    r.i64("last_stable_offset").unwrap();
    assert_eq!(r.nullable_array_len("aborted").unwrap(), None);
    let records = r.nullable_bytes("records").unwrap().unwrap_or_default();
    r.finish().unwrap();
    (error, hw, records)
}

async fn produce(conn: &mut TcpStream, topic: &str, batch: &Bytes, id: i32) -> i64 {
    conn.write_all(&request(0, 3, id, &produce_v3(topic, batch)))
        .await
        .unwrap();
    let (error, base) = produce_result(response(conn).await.1);
    assert_eq!(error, ErrorCode::NONE);
    base
}

#[tokio::test]
async fn acks_zero_gets_no_response_and_is_appended() {
    let s = server(KafkaConfig::default()).await;
    let mut conn = connect_with_topic(&s, "a0").await;
    let mut body = produce_v3("a0", &idempotent_batch(-1, -1, 4));
    body[2..4].copy_from_slice(&0i16.to_be_bytes()); // acks = 0
    conn.write_all(&request(0, 3, 2, &body)).await.unwrap();
    conn.write_all(&request(1, 4, 3, &fetch_v4("a0", 0, 1 << 20, 0)))
        .await
        .unwrap();
    let (correlation, body) = response(&mut conn).await;
    assert_eq!(correlation, 3, "the acks=0 produce had no response");
    let (error, hw, _) = fetched(body);
    assert_eq!((error, hw), (ErrorCode::NONE, 4));
}

#[tokio::test]
async fn fetch_returns_whole_batches_and_waits_for_new_ones() {
    let s = server(KafkaConfig::default()).await;
    let mut conn = connect_with_topic(&s, "f").await;
    let (a, b) = (idempotent_batch(-1, -1, 3), idempotent_batch(-1, -1, 2));
    assert_eq!(produce(&mut conn, "f", &a, 2).await, 0);
    assert_eq!(produce(&mut conn, "f", &b, 3).await, 3);

    // From the middle of the first batch, with a limit smaller than it: the whole batch.
    conn.write_all(&request(1, 4, 4, &fetch_v4("f", 1, 1, 0)))
        .await
        .unwrap();
    let (error, hw, records) = fetched(response(&mut conn).await.1);
    assert_eq!((error, hw, records.len()), (ErrorCode::NONE, 5, a.len()));
    let header = memstream_batch::BatchHeader::parse(&records).unwrap();
    assert_eq!((header.base_offset, header.record_count), (0, 3));
    // With room for both: both, as stored.
    conn.write_all(&request(1, 4, 5, &fetch_v4("f", 0, 1 << 20, 0)))
        .await
        .unwrap();
    let (_, _, records) = fetched(response(&mut conn).await.1);
    assert_eq!(records.len(), a.len() + b.len());
    // Past the end: OFFSET_OUT_OF_RANGE, answered at once even with a long max_wait.
    conn.write_all(&request(1, 4, 6, &fetch_v4("f", 99, 1 << 20, 30_000)))
        .await
        .unwrap();
    assert_eq!(
        fetched(response(&mut conn).await.1).0,
        ErrorCode::OFFSET_OUT_OF_RANGE
    );
    // At the end, waiting up to 30 s: answered by the next produce (from another connection).
    conn.write_all(&request(1, 4, 7, &fetch_v4("f", 5, 1 << 20, 30_000)))
        .await
        .unwrap();
    let mut other = connect_with_topic(&s, "f").await;
    let c = idempotent_batch(-1, -1, 1);
    assert_eq!(produce(&mut other, "f", &c, 2).await, 5);
    let (correlation, body) = response(&mut conn).await;
    assert_eq!(correlation, 7);
    let (error, hw, records) = fetched(body);
    assert_eq!((error, hw, records.len()), (ErrorCode::NONE, 6, c.len()));
}
