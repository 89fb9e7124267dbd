//! Property tests for [`FrameCodec`] and the message decoders.
//!
//! They guard the promises the rest of the server builds on: untrusted bytes never panic, the
//! decoder allocates nothing for a rejected frame and a bounded amount for any other (see
//! [`DECODE_BLOCK_MAX`]), a partial frame only ever asks for more bytes, input split anywhere
//! decodes like input that arrived at once, and every corruption is reported with its stable
//! wire code.
#![allow(unsafe_code)] // a counting global allocator, delegating to System

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::{Bytes, BytesMut};
use memstream_protocol::message::{
    Acks, CreateStream, FetchRequest, OffsetSpec, PartitionSelector, ProduceBatch, ProduceRequest,
    StreamRef, StreamSettings,
};
use memstream_protocol::{
    ErrorBody, ErrorCode, Flags, Frame, FrameCodec, FrameError, FrameHeader, HelloRequest,
    HelloResponse, Limits, Opcode, Request, RequestError, HEADER_LEN, PROTOCOL_VERSION,
};
use proptest::collection::vec;
use proptest::prelude::*;
use tokio_util::codec::{Decoder, Encoder};

/// Frame limit for the tests: small, so that arbitrary lengths often exceed it.
const LIMIT: u32 = 8 * 1024;

/// Largest payload a frame may carry under [`LIMIT`].
const PAYLOAD_MAX: usize = LIMIT as usize - HEADER_LEN;

fn codec() -> FrameCodec {
    FrameCodec::new(LIMIT)
}

fn arb_flags() -> impl Strategy<Value = Flags> {
    (0u16..=0b111).prop_map(|bits| Flags::from_bits(bits).expect("bits 0..=2 are defined"))
}

fn arb_frame_with(payload_max: usize) -> impl Strategy<Value = Frame> {
    (
        any::<u8>(),
        arb_flags(),
        any::<u32>(),
        any::<u64>(),
        any::<u64>(),
        vec(any::<u8>(), 0..=payload_max),
    )
        .prop_map(
            |(opcode, flags, stream_id, correlation_id, timestamp_ns, payload)| Frame {
                opcode,
                flags,
                stream_id,
                correlation_id,
                timestamp_ns,
                payload: Bytes::from(payload),
            },
        )
}

fn arb_frame() -> impl Strategy<Value = Frame> {
    arb_frame_with(4096)
}

fn encode(frame: &Frame) -> BytesMut {
    let mut buf = BytesMut::new();
    codec()
        .encode(frame.clone(), &mut buf)
        .expect("frame is within the limit");
    buf
}

fn encode_all(frames: &[Frame]) -> BytesMut {
    let mut buf = BytesMut::new();
    let mut codec = codec();
    for frame in frames {
        codec
            .encode(frame.clone(), &mut buf)
            .expect("frame is within the limit");
    }
    buf
}

/// A header with a correct header checksum; the payload checksum is whatever `header` says.
fn header_bytes(header: FrameHeader) -> [u8; HEADER_LEN] {
    let mut raw = [0u8; HEADER_LEN];
    header.encode(&mut raw);
    raw
}

/// Rewrites the header checksum of `buf` so that only the other fields are wrong.
fn reseal_header(buf: &mut [u8]) {
    let crc = crc32c::crc32c(&buf[0..36]);
    buf[36..40].copy_from_slice(&crc.to_le_bytes());
}

/// Decodes every whole frame in `buf`; panics on a decode error.
fn decode_all(codec: &mut FrameCodec, buf: &mut BytesMut) -> Vec<Frame> {
    let mut out = Vec::new();
    while let Some(frame) = codec.decode(buf).expect("valid input") {
        out.push(frame);
    }
    out
}

/// The system allocator, recording the largest block each thread asks for, so a test can see
/// what one decode call allocates (tests run on several threads at once).
struct CountingAlloc;

thread_local! {
    static LARGEST_BLOCK: Cell<usize> = const { Cell::new(0) };
}

fn note_block(size: usize) {
    // `try_with`: allocations during thread teardown are not ours to count.
    let _ = LARGEST_BLOCK.try_with(|largest| largest.set(largest.get().max(size)));
}

// SAFETY: every call is forwarded unchanged to `System`; only sizes are recorded.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_block(layout.size());
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_block(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_block(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAlloc = CountingAlloc;

/// Runs `f` and returns its result with the largest block allocated on this thread meanwhile.
fn largest_block_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST_BLOCK.with(|largest| largest.set(0));
    let out = f();
    (out, LARGEST_BLOCK.with(Cell::get))
}

/// What one decode call may allocate at most: one frame.
///
/// A decoder that trusted the announced length before checking it would allocate up to 4 GiB
/// here; one that grew its buffer by doubling could allocate twice the limit.
const DECODE_BLOCK_MAX: usize = HEADER_LEN + LIMIT as usize;

/// One decode call, checking what it allocates.
fn decode_bounded(codec: &mut FrameCodec, buf: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
    let (result, largest) = largest_block_during(|| codec.decode(buf));
    assert!(
        largest <= DECODE_BLOCK_MAX,
        "decode allocated a block of {largest} bytes (bound {DECODE_BLOCK_MAX}, buffer len {}, \
         result {:?})",
        buf.len(),
        result.as_ref().map(|f| f.as_ref().map(Frame::encoded_len)),
    );
    assert!(buf.len() <= buf.capacity());
    if let Ok(Some(frame)) = &result {
        assert!(frame.encoded_len() <= LIMIT as usize);
    }
    result
}

/// Input that is mostly well-formed, so that the decoder gets past the header checks: encoded
/// frames (some announcing large payloads), with a few bytes overwritten and the tail cut.
fn arb_structured_input() -> impl Strategy<Value = Vec<u8>> {
    let announced = prop_oneof![
        0u32..=64,
        (PAYLOAD_MAX as u32 - 64)..=PAYLOAD_MAX as u32 + 64,
        any::<u32>(),
    ];
    let frame = prop_oneof![arb_frame_with(256), arb_frame_with(PAYLOAD_MAX)];
    let piece = (frame, announced, any::<bool>());
    (
        vec(piece, 1..6),
        vec((any::<usize>(), any::<u8>()), 0..3),
        any::<usize>(),
    )
        .prop_map(|(pieces, flips, cut)| {
            let mut out = Vec::new();
            for (frame, announced, lie) in pieces {
                if lie {
                    // A checksum-valid header announcing `announced` bytes, then the payload.
                    let mut header = frame.header();
                    header.payload_len = announced;
                    out.extend_from_slice(&header_bytes(header));
                    out.extend_from_slice(&frame.payload);
                } else {
                    out.extend_from_slice(&encode(&frame));
                }
            }
            for (at, xor) in flips {
                let at = at % out.len();
                out[at] ^= xor;
            }
            out.truncate(cut % (out.len() + 1));
            out
        })
}

fn arb_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![vec(any::<u8>(), 0..64 * 1024), arb_structured_input()]
}

fn arb_name(max_chars: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("\\PC{{0,{max_chars}}}")).expect("valid regex")
}

fn arb_hello_request() -> impl Strategy<Value = HelloRequest> {
    // 63 chars of at most 4 bytes each stay within NAME_BYTES_MAX.
    (any::<u8>(), any::<u8>(), arb_name(63))
        .prop_map(|(a, b, name)| HelloRequest::new(a.min(b), a.max(b), name))
}

fn arb_hello_response() -> impl Strategy<Value = HelloResponse> {
    (
        any::<u8>(),
        arb_name(63),
        arb_name(63),
        any::<u64>(),
        (any::<u32>(), any::<u64>(), any::<u64>(), any::<u64>()),
        proptest::collection::vec("[A-Z0-9-]{1,20}", 0..4),
    )
        .prop_map(
            |(version, server_name, server_version, server_id, (a, b, c, d), auth_mechanisms)| {
                HelloResponse {
                    version,
                    server_name,
                    server_version,
                    server_id,
                    limits: Limits {
                        max_frame_bytes: a,
                        max_in_flight_requests: b,
                        max_write_queue_bytes: c,
                        idle_timeout_ms: d,
                    },
                    auth_mechanisms,
                }
            },
        )
}

fn arb_error_body() -> impl Strategy<Value = ErrorBody> {
    // 256 chars of at most 4 bytes each stay within ERROR_MESSAGE_BYTES_MAX.
    (any::<u16>(), arb_name(256)).prop_map(|(code, message)| ErrorBody { code, message })
}

fn arb_request() -> impl Strategy<Value = Request> {
    prop_oneof![
        arb_hello_request().prop_map(Request::Hello),
        vec(any::<u8>(), 0..512).prop_map(|p| Request::Ping(Bytes::from(p))),
        ("[A-Z0-9-]{1,20}", vec(any::<u8>(), 0..512)).prop_map(|(mechanism, data)| {
            Request::Auth(memstream_protocol::message::AuthRequest {
                mechanism,
                data: Bytes::from(data),
            })
        }),
        arb_error_body().prop_map(Request::Goodbye),
        (
            arb_name(60),
            any::<u32>(),
            proptest::option::of(any::<u64>())
        )
            .prop_map(|(name, partitions, retention_ms)| Request::CreateStream(
                CreateStream {
                    name,
                    partitions,
                    settings: StreamSettings {
                        retention_ms,
                        ..StreamSettings::default()
                    },
                }
            )),
        arb_name(60).prop_map(|name| Request::DeleteStream(StreamRef { name })),
        Just(Request::ListStreams),
        (arb_name(60), vec(vec(any::<u8>(), 0..300), 0..4)).prop_map(|(stream, batches)| {
            Request::Produce(ProduceRequest {
                stream,
                acks: Acks::Written,
                batches: batches
                    .into_iter()
                    .enumerate()
                    .map(|(i, b)| ProduceBatch {
                        selector: PartitionSelector::Explicit(i as u32),
                        batch: Bytes::from(b),
                    })
                    .collect(),
            })
        }),
        (
            arb_name(60),
            any::<u32>(),
            any::<u64>(),
            any::<u32>(),
            any::<u32>()
        )
            .prop_map(
                |(stream, partition, offset, max_bytes, max_wait_ms)| Request::Fetch(
                    FetchRequest {
                        stream,
                        partition,
                        from: OffsetSpec::Offset(offset),
                        max_bytes,
                        max_wait_ms,
                    }
                )
            ),
    ]
}

/// The frame a client sends for `request`.
fn request_frame(request: &Request, correlation_id: u64) -> Frame {
    request.to_frame(correlation_id)
}

proptest! {
    #[test]
    fn frames_round_trip(frame in arb_frame()) {
        let mut buf = encode(&frame);
        prop_assert_eq!(buf.len(), frame.encoded_len());
        let mut codec = codec();
        prop_assert_eq!(codec.decode(&mut buf).unwrap(), Some(frame));
        prop_assert!(buf.is_empty());
        prop_assert_eq!(codec.decode(&mut buf).unwrap(), None);
    }

    #[test]
    fn encoder_refuses_frames_over_the_limit(extra in 1usize..1024) {
        let frame = Frame::request(Opcode::Ping, 1, Bytes::from(vec![0; PAYLOAD_MAX + extra]));
        let mut buf = BytesMut::new();
        let err = codec().encode(frame, &mut buf).unwrap_err();
        prop_assert_eq!(err.code(), ErrorCode::FrameTooLarge);
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn every_strict_truncation_asks_for_more(frame in arb_frame_with(1024)) {
        let whole = encode(&frame);
        for cut in 0..whole.len() {
            let mut codec = codec();
            let mut buf = BytesMut::from(&whole[..cut]);
            prop_assert_eq!(codec.decode(&mut buf).unwrap(), None, "cut at {}", cut);
            // The rest arrives: the same decoder finishes the frame.
            buf.extend_from_slice(&whole[cut..]);
            prop_assert_eq!(codec.decode(&mut buf).unwrap(), Some(frame.clone()));
            prop_assert!(buf.is_empty());
        }
    }

    #[test]
    fn input_split_anywhere_decodes_like_input_at_once(
        frames in vec(arb_frame_with(512), 1..8),
        splits in vec(any::<usize>(), 0..16),
    ) {
        let whole = encode_all(&frames);
        let at_once = decode_all(&mut codec(), &mut whole.clone());
        prop_assert_eq!(&at_once, &frames);

        let mut cuts: Vec<usize> = splits.iter().map(|s| s % (whole.len() + 1)).collect();
        cuts.push(whole.len());
        cuts.sort_unstable();
        let mut codec = codec();
        let mut buf = BytesMut::new();
        let mut fed = 0;
        let mut incremental = Vec::new();
        for cut in cuts {
            buf.extend_from_slice(&whole[fed..cut]);
            fed = cut;
            incremental.extend(decode_all(&mut codec, &mut buf));
        }
        prop_assert_eq!(incremental, at_once);
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn payload_corruption_is_a_payload_checksum_error(
        frame in arb_frame_with(1024).prop_filter("needs a payload", |f| !f.payload.is_empty()),
        at in any::<usize>(),
        xor in 1u8..,
    ) {
        let mut buf = encode(&frame);
        let at = HEADER_LEN + at % frame.payload.len();
        buf[at] ^= xor;
        let err = codec().decode(&mut buf).unwrap_err();
        prop_assert!(matches!(err, FrameError::PayloadChecksum { .. }), "{err:?}");
        prop_assert_eq!(err.code(), ErrorCode::PayloadChecksum);
        prop_assert_eq!(err.code().as_u16(), 4);
        // The header was sound, so the error frame can answer the request.
        let header = err.trusted_header().expect("header is trusted");
        prop_assert_eq!(header.correlation_id, frame.correlation_id);
    }

    #[test]
    fn header_corruption_is_reported_by_field(
        frame in arb_frame_with(64),
        at in 0..HEADER_LEN,
        xor in 1u8..,
    ) {
        let mut buf = encode(&frame);
        buf[at] ^= xor;
        let err = codec().decode(&mut buf).unwrap_err();
        let (expected, number) = match at {
            0..=3 => (ErrorCode::BadMagic, 1),
            4 => (ErrorCode::UnsupportedVersion, 2),
            _ => (ErrorCode::HeaderChecksum, 3),
        };
        prop_assert_eq!(err.code(), expected, "byte {} xor {:#04x}: {:?}", at, xor, err);
        prop_assert_eq!(err.code().as_u16(), number);
        // Nothing was consumed: the error is decided from the header alone.
        prop_assert_eq!(buf.len(), frame.encoded_len());
    }

    #[test]
    fn checks_run_magic_then_version_then_checksum(
        frame in arb_frame_with(64),
        magic in any::<[u8; 4]>(),
        version in any::<u8>(),
        crc_xor in 1u32..,
    ) {
        let mut buf = encode(&frame);
        buf[0..4].copy_from_slice(&magic);
        buf[4] = version;
        let stored = u32::from_le_bytes([buf[36], buf[37], buf[38], buf[39]]) ^ crc_xor;
        buf[36..40].copy_from_slice(&stored.to_le_bytes());
        let err = codec().decode(&mut buf).unwrap_err();
        let expected = if magic != *b"MSTR" {
            ErrorCode::BadMagic
        } else if version != PROTOCOL_VERSION {
            ErrorCode::UnsupportedVersion
        } else {
            ErrorCode::HeaderChecksum
        };
        prop_assert_eq!(err.code(), expected);
        prop_assert!(err.trusted_header().is_none());
    }

    #[test]
    fn reserved_flags_are_rejected_before_the_length(
        frame in arb_frame_with(64),
        reserved in 1u16..=(u16::MAX >> 3),
        oversized in any::<bool>(),
    ) {
        let mut buf = encode(&frame);
        let flags = frame.flags.bits() | (reserved << 3);
        buf[6..8].copy_from_slice(&flags.to_le_bytes());
        if oversized {
            buf[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        }
        reseal_header(&mut buf);
        let err = codec().decode(&mut buf).unwrap_err();
        prop_assert!(matches!(err, FrameError::ReservedFlags { .. }), "{err:?}");
        prop_assert_eq!(err.code(), ErrorCode::ReservedFlags);
        prop_assert_eq!(err.code().as_u16(), 11);
        let header = err.trusted_header().expect("header is trusted");
        prop_assert_eq!(header.correlation_id, frame.correlation_id);
    }

    #[test]
    fn huge_announced_length_is_rejected_without_reserving(
        frame in arb_frame_with(0),
        payload_len in (PAYLOAD_MAX as u32 + 1)..,
    ) {
        let mut header = frame.header();
        header.payload_len = payload_len;
        let mut buf = BytesMut::from(&header_bytes(header)[..]);
        let capacity = buf.capacity();
        let mut codec = codec();
        let (result, largest) = largest_block_during(|| codec.decode(&mut buf));
        let err = result.unwrap_err();
        prop_assert_eq!(largest, 0, "the decoder allocated for a rejected frame");
        prop_assert!(matches!(err, FrameError::TooLarge { .. }), "{err:?}");
        prop_assert_eq!(err.code(), ErrorCode::FrameTooLarge);
        prop_assert_eq!(err.code().as_u16(), 5);
        prop_assert_eq!(buf.capacity(), capacity, "the decoder reserved for a rejected frame");
        prop_assert_eq!(buf.len(), HEADER_LEN);
    }

    #[test]
    fn request_decoding_round_trips(request in arb_request(), correlation_id in any::<u64>()) {
        let frame = request_frame(&request, correlation_id);
        let mut buf = encode(&frame);
        let decoded = codec().decode(&mut buf).unwrap().expect("a whole frame");
        prop_assert_eq!(Request::decode(&decoded), Ok(request));
    }

    #[test]
    fn request_decode_never_panics(frame in arb_frame_with(600)) {
        let result = Request::decode(&frame);
        // Connection (0x00), PUSH and GROUP_REBALANCE (server to client) are opcodes but never
        // requests.
        let known = matches!(
            Opcode::from_u8(frame.opcode),
            Some(op) if op != Opcode::Connection && op != Opcode::Push && op != Opcode::GroupRebalance
        );
        if frame.is_response() {
            prop_assert_eq!(
                result,
                Err(RequestError::UnexpectedResponse { opcode: frame.opcode })
            );
        } else if !known {
            prop_assert_eq!(result, Err(RequestError::UnknownOpcode { opcode: frame.opcode }));
        } else if let Err(e) = result {
            prop_assert_eq!(e.code(), ErrorCode::MalformedPayload);
        }
    }

    #[test]
    fn auth_response_decode_never_panics(bytes in vec(any::<u8>(), 0..300)) {
        let _ = memstream_protocol::message::AuthResponse::decode(&bytes);
    }

    #[test]
    fn hello_request_round_trips(hello in arb_hello_request()) {
        let mut buf = BytesMut::new();
        hello.encode(&mut buf);
        prop_assert_eq!(HelloRequest::decode(&buf), Ok(hello));
    }

    #[test]
    fn long_client_names_are_cut_on_a_char_boundary(name in arb_name(400)) {
        let mut buf = BytesMut::new();
        HelloRequest::new(1, 1, name.clone()).encode(&mut buf);
        let decoded = HelloRequest::decode(&buf).unwrap();
        prop_assert!(decoded.client_name.len() <= 255);
        prop_assert!(name.starts_with(&decoded.client_name));
        if name.len() <= 255 {
            prop_assert_eq!(decoded.client_name, name);
        }
    }

    #[test]
    fn hello_request_decode_never_panics(bytes in vec(any::<u8>(), 0..300)) {
        if let Ok(hello) = HelloRequest::decode(&bytes) {
            // The encoding is canonical: what decodes re-encodes to the same bytes.
            let mut buf = BytesMut::new();
            hello.encode(&mut buf);
            prop_assert_eq!(&buf[..], &bytes[..]);
        }
    }

    #[test]
    fn hello_response_round_trips(hello in arb_hello_response()) {
        let mut buf = BytesMut::new();
        hello.encode(&mut buf);
        prop_assert_eq!(HelloResponse::decode(&buf), Ok(hello));
    }

    #[test]
    fn hello_response_decode_never_panics(bytes in vec(any::<u8>(), 0..600)) {
        if let Ok(hello) = HelloResponse::decode(&bytes) {
            // Not canonical (unknown limit ids are skipped), but stable once re-encoded.
            let mut buf = BytesMut::new();
            hello.encode(&mut buf);
            prop_assert_eq!(HelloResponse::decode(&buf), Ok(hello));
        }
    }

    #[test]
    fn error_body_round_trips(body in arb_error_body()) {
        let mut buf = BytesMut::new();
        body.encode(&mut buf);
        prop_assert_eq!(ErrorBody::decode(&buf), Ok(body));
    }

    #[test]
    fn error_body_decode_never_panics(bytes in vec(any::<u8>(), 0..1100)) {
        if let Ok(body) = ErrorBody::decode(&bytes) {
            let mut buf = BytesMut::new();
            body.encode(&mut buf);
            prop_assert_eq!(&buf[..], &bytes[..]);
        }
    }
}

proptest! {
    // Inputs up to 64 KiB: fewer cases keep the file fast in debug builds.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_input_never_panics_nor_over_reserves(
        input in arb_input(),
        chunk in prop_oneof![Just(usize::MAX), 1usize..128, 128usize..9000],
    ) {
        let mut codec = codec();
        let mut buf = BytesMut::new();
        'feed: for piece in input.chunks(chunk.min(input.len()).max(1)) {
            buf.extend_from_slice(piece);
            loop {
                match decode_bounded(&mut codec, &mut buf) {
                    Ok(Some(_)) => continue,
                    Ok(None) => break,
                    // Frame errors are fatal: the connection would close here.
                    Err(_) => break 'feed,
                }
            }
        }
    }
}

#[test]
fn largest_allowed_frame_is_accepted() {
    let frame = Frame::request(Opcode::Ping, 1, Bytes::from(vec![7; PAYLOAD_MAX]));
    let mut buf = encode(&frame);
    assert_eq!(buf.len(), LIMIT as usize);
    assert_eq!(codec().decode(&mut buf).unwrap(), Some(frame));
}

#[test]
fn one_byte_over_the_limit_is_rejected_from_the_header() {
    let mut header = Frame::request(Opcode::Ping, 1, Bytes::new()).header();
    header.payload_len = PAYLOAD_MAX as u32 + 1;
    let mut buf = BytesMut::from(&header_bytes(header)[..]);
    let err = codec().decode(&mut buf).unwrap_err();
    assert!(
        matches!(err, FrameError::TooLarge { frame_len, max_frame_bytes: LIMIT, .. }
            if frame_len == u64::from(LIMIT) + 1),
        "{err:?}"
    );
}

#[test]
fn header_crc_flip_is_a_header_checksum_error() {
    let mut buf = encode(&Frame::request(Opcode::Ping, 3, Bytes::from_static(b"abc")));
    buf[38] ^= 0x10;
    let err = codec().decode(&mut buf).unwrap_err();
    assert!(matches!(err, FrameError::HeaderChecksum { .. }), "{err:?}");
    assert_eq!(err.code(), ErrorCode::HeaderChecksum);
}

/// The decoder allocates at most one frame per call, whatever the buffer held before.
///
/// Regression: `BytesMut::reserve` rounds a reallocation up to twice the old capacity. Here a
/// 5000-byte buffer holds one whole frame and the first 4820 bytes of a frame announcing 8000;
/// reserving through it allocated a 10000-byte block, more than the 8232-byte frame limit.
#[test]
fn decode_allocates_at_most_one_frame() {
    let mut input = encode(&Frame::request(Opcode::Ping, 1, Bytes::from(vec![1; 100]))).to_vec();
    let big = encode(&Frame::request(Opcode::Ping, 2, Bytes::from(vec![2; 8000])));
    input.extend_from_slice(&big[..5000 - input.len()]);
    let mut buf = BytesMut::from(&input[..]);
    let mut codec = codec();
    let (first, _) = largest_block_during(|| codec.decode(&mut buf));
    assert!(first.unwrap().is_some());
    let (second, largest) = largest_block_during(|| codec.decode(&mut buf));
    assert!(second.unwrap().is_none());
    assert!(
        largest <= HEADER_LEN + LIMIT as usize,
        "decode allocated a block of {largest} bytes for an 8000-byte payload"
    );
}
