//! `docs/storage.md` is checked against the code: its test vectors are rebuilt here.

use std::sync::Arc;

use bytes::BytesMut;
use memstream_batch::BatchBuilder;
use memstream_log::{FsyncPolicy, LogConfig, MemoryBackend, Partition, Syncer};

/// The batch of the document's test vector, as a producer sends it (base offset 0).
fn vector_batch() -> BytesMut {
    let mut b = BatchBuilder::default();
    b.push(1_700_000_000_000, Some(b"k"), b"hello", &[]);
    b.push(1_700_000_000_005, None, b"world", &[("h", b"v")]);
    BytesMut::from(&b.finish(-1, -1, -1)[..])
}

/// Lower-case hex, 16 bytes a line, bytes separated by spaces.
fn hex(bytes: &[u8]) -> String {
    bytes
        .chunks(16)
        .map(|line| {
            line.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The fenced block that follows `<!-- vector: NAME -->` in the document.
fn doc_block(name: &str) -> String {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/storage.md"
    ))
    .expect("docs/storage.md");
    let marker = format!("<!-- vector: {name} -->");
    let after = &doc[doc.find(&marker).unwrap_or_else(|| panic!("no {marker}")) + marker.len()..];
    let start = after.find("```text\n").expect("a text block") + "```text\n".len();
    let end = start + after[start..].find("```").expect("closed block");
    after[start..end].trim_end().to_string()
}

/// Three copies of the vector batch appended to an empty disk partition at offsets 0, 2, 4,
/// with an index entry every 100 bytes, and the segment rolled so its indexes are written.
fn vector_partition() -> MemoryBackend {
    let backend = MemoryBackend::new();
    let cfg = LogConfig {
        segment_bytes: 1 << 20,
        retention_bytes: 0,
        retention_ms: 0,
        index_interval_bytes: 100,
        fsync: FsyncPolicy::Never,
    };
    let (p, _) = Partition::open_with(Arc::new(backend.clone()), cfg, &Syncer::new(1)).unwrap();
    for _ in 0..3 {
        p.append(vector_batch(), 0).unwrap();
    }
    p.roll(0).unwrap();
    backend
}

#[test]
fn the_batch_test_vector_matches() {
    let backend = vector_partition();
    let log = backend.contents("00000000000000000000.log").unwrap();
    let batch_len = vector_batch().len();
    // The third batch, stamped with base offset 4.
    assert_eq!(hex(&log[2 * batch_len..]), doc_block("batch"));
}

#[test]
fn the_index_test_vectors_match() {
    let backend = vector_partition();
    let index = backend.contents("00000000000000000000.index").unwrap();
    let timeindex = backend.contents("00000000000000000000.timeindex").unwrap();
    assert_eq!(hex(&index), doc_block("index"));
    assert_eq!(hex(&timeindex), doc_block("timeindex"));
}
