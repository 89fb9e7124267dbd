//! The PRODUCE test vector in `docs/protocol.md`: a frame carrying a record batch written by a
//! Kafka client (IBM/sarama's `record_test.go`, `recordBatchTestCases`, "uncompressed
//! record"), checked byte for byte. The block follows `<!-- batch-vector: NAME -->` and uses
//! the same hex-and-comments format as the frame vectors (`golden.rs`).

use std::fmt::Write as _;

use bytes::{Bytes, BytesMut};
use memstream_protocol::batch::{records, verify, Limits as BatchLimits, RecordIter};
use memstream_protocol::message::{Acks, PartitionSelector, ProduceBatch, ProduceRequest};
use memstream_protocol::{Frame, FrameCodec, Request, HEADER_LEN};
use tokio_util::codec::{Decoder, Encoder};

const DOC_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/protocol.md");
const NAME: &str = "produce-kafka-batch";

/// Sarama's uncompressed single-record batch, as its test encodes it.
const SARAMA_BATCH: [u8; 82] = [
    0, 0, 0, 0, 0, 0, 0, 0, // first offset
    0, 0, 0, 70, // length
    0, 0, 0, 0, // partition leader epoch
    2, // version
    84, 121, 97, 253, // CRC
    0, 0, // attributes
    0, 0, 0, 0, // last offset delta
    0, 0, 1, 88, 141, 205, 89, 56, // first timestamp
    0, 0, 0, 0, 0, 0, 0, 0, // max timestamp
    0, 0, 0, 0, 0, 0, 0, 0, // producer id
    0, 0, // producer epoch
    0, 0, 0, 0, // first sequence
    0, 0, 0, 1, // number of records
    40, 0, 10, 0, 8, 1, 2, 3, 4, 6, 5, 6, 7, 2, 6, 8, 9, 10, 4, 11, 12,
];

fn frame() -> Frame {
    Request::Produce(ProduceRequest {
        stream: "orders".into(),
        acks: Acks::Written,
        batches: vec![ProduceBatch {
            selector: PartitionSelector::Explicit(0),
            batch: Bytes::from_static(&SARAMA_BATCH),
        }],
    })
    .to_frame(3)
}

fn encode(frame: &Frame) -> Vec<u8> {
    let mut buf = BytesMut::new();
    FrameCodec::new(u32::MAX)
        .encode(frame.clone(), &mut buf)
        .expect("small");
    buf.to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The documented block: hex digits outside `#` comments.
fn documented() -> Option<Vec<u8>> {
    let doc = std::fs::read_to_string(DOC_PATH).expect("docs/protocol.md");
    let marker = format!("<!-- batch-vector: {NAME} -->");
    let after = &doc[doc.find(&marker)? + marker.len()..];
    let start = after.find("```hex\n")? + "```hex\n".len();
    let end = start + after[start..].find("```")?;
    let digits: String = after[start..end]
        .lines()
        .flat_map(|l| l.split('#').next().unwrap_or("").chars())
        .filter(|c| !c.is_whitespace())
        .collect();
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(digits.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The block as it belongs in the doc, one field a line.
fn annotated(bytes: &[u8]) -> String {
    let mut out = format!("<!-- batch-vector: {NAME} -->\n```hex\n");
    let mut at = 0;
    let mut field = |len: usize, comment: &str| {
        let _ = writeln!(out, "{:<32} # {comment}", hex(&bytes[at..at + len]));
        at += len;
    };
    for (len, comment) in [
        (
            HEADER_LEN / 2,
            "frame header: MSTR, v1, PRODUCE 0x20, flags, stream 0, len",
        ),
        (
            HEADER_LEN / 2,
            "correlation_id 3, timestamp_ns 0, payload_crc, header_crc",
        ),
        (2, "stream_len 6"),
        (6, "stream \"orders\""),
        (1, "acks 1 written"),
        (2, "batch_count 1"),
        (1, "selector 0 explicit"),
        (4, "partition 0"),
        (4, "batch_len 82"),
        (8, "batch: base_offset 0 (big-endian from here)"),
        (4, "batch_length 70"),
        (4, "partition_leader_epoch 0"),
        (1, "magic 2"),
        (4, "crc 0x547961fd"),
        (2, "attributes 0: no compression"),
        (4, "last_offset_delta 0"),
        (8, "base_timestamp 1479847795000"),
        (8, "max_timestamp 0"),
        (8, "producer_id 0"),
        (2, "producer_epoch 0"),
        (4, "base_sequence 0"),
        (4, "record_count 1"),
        (1, "record length 20 (zig-zag 40)"),
        (1, "attributes"),
        (1, "timestamp_delta 5"),
        (1, "offset_delta 0"),
        (5, "key_length 4, key 01020304"),
        (4, "value_length 3, value 050607"),
        (1, "header_count 1"),
        (4, "header name_length 3, name 08090a"),
        (3, "header value_length 2, value 0b0c"),
    ] {
        field(len, comment);
    }
    out.push_str("```\n");
    out
}

#[test]
fn the_kafka_batch_vector_is_what_the_encoder_writes() {
    let bytes = encode(&frame());
    let Some(doc) = documented() else {
        panic!(
            "docs/protocol.md lacks the vector; add:\n\n{}",
            annotated(&bytes)
        );
    };
    assert!(
        doc == bytes,
        "the vector differs from the encoder; replace it with:\n\n{}",
        annotated(&bytes)
    );
}

#[test]
fn the_documented_frame_decodes_to_a_valid_kafka_batch() {
    let bytes = documented().expect("the vector is in the doc");
    let mut buf = BytesMut::from(&bytes[..]);
    let frame = FrameCodec::new(1 << 20).decode(&mut buf).unwrap().unwrap();
    assert!(buf.is_empty());
    let Ok(Request::Produce(produce)) = Request::decode(&frame) else {
        panic!("a PRODUCE request");
    };
    assert_eq!(
        (produce.stream.as_str(), produce.batches.len()),
        ("orders", 1)
    );
    let batch = &produce.batches[0].batch;
    assert_eq!(&batch[..], &SARAMA_BATCH[..]);
    let h = verify(batch, BatchLimits::UNLIMITED).expect("sarama's batch verifies");
    let body = records(batch, &h, 1 << 20).unwrap();
    let r = RecordIter::new(&body, &h).next().unwrap().unwrap();
    assert_eq!(
        (r.key, r.value),
        (Some(&[1, 2, 3, 4][..]), Some(&[5, 6, 7][..]))
    );
}
