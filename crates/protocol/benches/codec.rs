//! Codec benchmarks: the header alone, and whole frames through `FrameCodec`.
//!
//! Run with `cargo bench -p memstream-protocol --bench codec`. Whole-frame figures are per
//! frame with `Throughput::Bytes` of the encoded frame, so they read as bytes per second of
//! wire traffic; at 64 KiB they are dominated by the CRC32C of the payload.

use std::hint::black_box;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use memstream_protocol::{Flags, Frame, FrameCodec, FrameHeader, Opcode, HEADER_LEN};
use tokio_util::codec::{Decoder, Encoder};

/// Payload sizes measured.
const PAYLOAD_SIZES: [usize; 3] = [64, 1024, 64 * 1024];

/// Codec limit: comfortably above the largest frame measured.
const MAX_FRAME_BYTES: u32 = 1 << 20;

fn frame(payload_len: usize) -> Frame {
    let payload: Vec<u8> = (0..payload_len).map(|i| (i % 251) as u8).collect();
    Frame {
        flags: Flags::RESPONSE,
        correlation_id: 42,
        timestamp_ns: 1_700_000_000_000_000_000,
        ..Frame::request(Opcode::Ping, 0, Bytes::from(payload))
    }
}

fn encoded(frame: &Frame) -> BytesMut {
    let mut buf = BytesMut::with_capacity(frame.encoded_len());
    frame.encode(&mut buf);
    buf
}

fn header(c: &mut Criterion) {
    let header = frame(1024).header();
    let mut raw = [0u8; HEADER_LEN];
    header.encode(&mut raw);

    let mut group = c.benchmark_group("header");
    group.throughput(Throughput::Bytes(HEADER_LEN as u64));
    group.bench_function("encode", |b| {
        let mut out = [0u8; HEADER_LEN];
        b.iter(|| {
            black_box(&header).encode(&mut out);
            black_box(&out);
        });
    });
    group.bench_function("decode", |b| {
        b.iter(|| FrameHeader::decode(black_box(&raw), MAX_FRAME_BYTES).expect("valid header"));
    });
    group.finish();
}

fn frame_decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame_decode");
    for size in PAYLOAD_SIZES {
        let bytes = encoded(&frame(size));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &bytes, |b, bytes| {
            let mut codec = FrameCodec::new(MAX_FRAME_BYTES);
            // The copy into a fresh read buffer is setup, not measured.
            b.iter_batched(
                || bytes.clone(),
                |mut buf| {
                    codec
                        .decode(&mut buf)
                        .expect("valid frame")
                        .expect("whole frame")
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

fn frame_encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame_encode");
    for size in PAYLOAD_SIZES {
        let frame = frame(size);
        group.throughput(Throughput::Bytes(frame.encoded_len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &frame, |b, frame| {
            let mut codec = FrameCodec::new(MAX_FRAME_BYTES);
            // One write buffer, cleared each time, as a connection's writer reuses its own.
            let mut out = BytesMut::with_capacity(frame.encoded_len());
            b.iter(|| {
                out.clear();
                codec
                    .encode(black_box(frame.clone()), &mut out)
                    .expect("frame within the limit");
                black_box(&out);
            });
        });
    }
    group.finish();
}

criterion_group!(benches, header, frame_decode, frame_encode);
criterion_main!(benches);
