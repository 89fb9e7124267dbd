//! Every kind of bad input over real TCP gets its error code and closes only its connection;
//! the server keeps answering PING on other connections throughout.

use crate::common;

use bytes::{Bytes, BytesMut};
use common::{pseudo_random_bytes, Peer, TestServer};
use memstream_protocol::{ErrorCode, Flags, Frame, FrameHeader, HelloRequest, Opcode, HEADER_LEN};

fn header_bytes(h: &FrameHeader) -> [u8; HEADER_LEN] {
    let mut buf = [0u8; HEADER_LEN];
    h.encode(&mut buf);
    buf
}

fn ping_header(correlation_id: u64, payload: &[u8]) -> FrameHeader {
    let f = Frame::request(
        Opcode::Ping,
        correlation_id,
        Bytes::copy_from_slice(payload),
    );
    f.header()
}

/// Sends `bytes` on a fresh connection, expects `code` and a close, and checks that another
/// connection is still served.
async fn rejects(server: &TestServer, bytes: &[u8], code: ErrorCode) -> Frame {
    let mut peer = Peer::connect(server.addr).await;
    peer.send_bytes(bytes).await;
    let error = peer.expect_error(code).await;
    peer.expect_closed().await;
    server.assert_serving().await;
    assert!(server.handle.metrics().protocol_errors(code) >= 1);
    error
}

#[tokio::test]
async fn bad_magic() {
    let server = TestServer::start(|_| {}).await;
    let mut bytes = header_bytes(&ping_header(1, b""));
    bytes[0..4].copy_from_slice(b"HTTP");
    let error = rejects(&server, &bytes, ErrorCode::BadMagic).await;
    // The header could not be trusted: a connection-level error.
    assert_eq!((error.opcode, error.correlation_id), (0, 0));
    server.stop().await;
}

#[tokio::test]
async fn unsupported_header_version() {
    let server = TestServer::start(|_| {}).await;
    let mut bytes = header_bytes(&ping_header(1, b""));
    bytes[4] = 2;
    rejects(&server, &bytes, ErrorCode::UnsupportedVersion).await;
    server.stop().await;
}

#[tokio::test]
async fn reserved_flag_bits() {
    let server = TestServer::start(|_| {}).await;
    // Encode with a valid checksum over the reserved bit, so only the flag check can object.
    let mut bytes = header_bytes(&ping_header(5, b""));
    bytes[6] |= 0x80;
    let crc = crc32c(&bytes[0..36]);
    bytes[36..40].copy_from_slice(&crc.to_le_bytes());
    let error = rejects(&server, &bytes, ErrorCode::ReservedFlags).await;
    assert_eq!(error.correlation_id, 5, "a checksum-valid header is echoed");
    server.stop().await;
}

#[tokio::test]
async fn bad_header_checksum() {
    let server = TestServer::start(|_| {}).await;
    let mut bytes = header_bytes(&ping_header(1, b""));
    bytes[37] ^= 0xff;
    rejects(&server, &bytes, ErrorCode::HeaderChecksum).await;
    server.stop().await;
}

#[tokio::test]
async fn bad_payload_checksum() {
    let server = TestServer::start(|_| {}).await;
    let mut buf = BytesMut::new();
    Frame::request(Opcode::Ping, 9, Bytes::from_static(b"payload")).encode(&mut buf);
    let last = buf.len() - 1;
    buf[last] ^= 0x01;
    let error = rejects(&server, &buf, ErrorCode::PayloadChecksum).await;
    assert_eq!(error.correlation_id, 9);
    server.stop().await;
}

#[tokio::test]
async fn length_over_the_limit_is_refused_from_the_header() {
    let server = TestServer::start(|c| c.network.max_frame_bytes = 64 * 1024).await;
    // Announce 1 GiB and send none of it: the answer must come from the header alone, so the
    // server cannot have waited for, or allocated, the payload.
    let mut h = ping_header(3, b"");
    h.payload_len = 1 << 30;
    h.payload_crc = 0x1234_5678;
    let error = rejects(&server, &header_bytes(&h), ErrorCode::FrameTooLarge).await;
    assert_eq!(error.correlation_id, 3);
    server.stop().await;
}

#[tokio::test]
async fn unknown_opcode_is_answered_and_the_connection_goes_on() {
    let server = TestServer::start(|_| {}).await;
    let mut peer = Peer::connect(server.addr).await;
    peer.hello().await;
    let mut unknown = Frame::request(Opcode::Ping, 11, Bytes::new());
    unknown.opcode = 0xEE;
    peer.send(&unknown).await;
    let error = peer.expect_error(ErrorCode::UnknownOpcode).await;
    assert_eq!((error.opcode, error.correlation_id), (0xEE, 11));
    // A request-level error is not fatal: the same connection still answers.
    peer.send(&Frame::request(Opcode::Ping, 12, Bytes::new()))
        .await;
    assert_eq!(peer.read().await.expect("pong").correlation_id, 12);
    server.assert_serving().await;
    server.stop().await;
}

#[tokio::test]
async fn request_before_hello() {
    let server = TestServer::start(|_| {}).await;
    let mut buf = BytesMut::new();
    Frame::request(Opcode::Ping, 4, Bytes::new()).encode(&mut buf);
    let error = rejects(&server, &buf, ErrorCode::HandshakeRequired).await;
    assert_eq!(error.correlation_id, 4);
    server.stop().await;
}

#[tokio::test]
async fn unknown_opcode_before_hello_is_a_handshake_error() {
    let server = TestServer::start(|_| {}).await;
    let mut frame = Frame::request(Opcode::Ping, 4, Bytes::new());
    frame.opcode = 0x7F;
    let mut buf = BytesMut::new();
    frame.encode(&mut buf);
    rejects(&server, &buf, ErrorCode::HandshakeRequired).await;
    server.stop().await;
}

#[tokio::test]
async fn no_common_version() {
    let server = TestServer::start(|_| {}).await;
    let mut buf = BytesMut::new();
    HelloRequest::new(2, 9, "from the future")
        .to_frame(1)
        .encode(&mut buf);
    rejects(&server, &buf, ErrorCode::UnsupportedVersion).await;
    server.stop().await;
}

#[tokio::test]
async fn malformed_hello() {
    let server = TestServer::start(|_| {}).await;
    let mut buf = BytesMut::new();
    Frame::request(Opcode::Hello, 1, Bytes::from_static(&[1, 1, 200, 0, b'x'])).encode(&mut buf);
    rejects(&server, &buf, ErrorCode::MalformedPayload).await;
    server.stop().await;
}

#[tokio::test]
async fn a_second_hello_is_refused_without_closing() {
    let server = TestServer::start(|_| {}).await;
    let mut peer = Peer::connect(server.addr).await;
    peer.hello().await;
    peer.send(&HelloRequest::new(1, 1, "again").to_frame(2))
        .await;
    peer.expect_error(ErrorCode::AlreadyHandshaken).await;
    peer.send(&Frame::request(Opcode::Ping, 3, Bytes::new()))
        .await;
    assert_eq!(peer.read().await.expect("pong").correlation_id, 3);
    server.stop().await;
}

#[tokio::test]
async fn a_response_sent_as_a_request_is_refused() {
    let server = TestServer::start(|_| {}).await;
    let mut peer = Peer::connect(server.addr).await;
    peer.hello().await;
    let mut frame = Frame::request(Opcode::Ping, 5, Bytes::new());
    frame.flags = Flags::RESPONSE;
    peer.send(&frame).await;
    peer.expect_error(ErrorCode::UnexpectedResponse).await;
    server.stop().await;
}

#[tokio::test]
async fn one_mebibyte_of_random_bytes() {
    let server = TestServer::start(|_| {}).await;
    let noise = pseudo_random_bytes(0x5EED, 1 << 20);
    assert_ne!(&noise[0..4], b"MSTR");
    let peer = Peer::connect(server.addr).await;
    // Write from another task: the server stops reading after the first 40 bytes, so a
    // blocking write here could never finish.
    let (mut read_half, mut write_half) = peer.stream.into_split();
    let writer = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let _ = write_half.write_all(&noise).await;
        write_half
    });
    let mut back = Vec::new();
    use tokio::io::AsyncReadExt;
    tokio::time::timeout(common::WAIT, read_half.read_to_end(&mut back))
        .await
        .expect("server closes")
        .ok();
    let mut buf = BytesMut::from(&back[..]);
    use tokio_util::codec::Decoder;
    let frame = memstream_protocol::FrameCodec::new(u32::MAX)
        .decode(&mut buf)
        .expect("valid frame")
        .expect("an error frame before the close");
    let body = memstream_protocol::ErrorBody::decode(&frame.payload).unwrap();
    assert_eq!(body.known_code(), Some(ErrorCode::BadMagic));
    let _ = writer.await;
    server.assert_serving().await;
    server.stop().await;
}

#[tokio::test]
async fn half_a_header_then_silence_hits_the_handshake_timeout() {
    let server = TestServer::start(|c| c.network.handshake_timeout_ms = 200).await;
    let mut peer = Peer::connect(server.addr).await;
    let bytes = header_bytes(&ping_header(1, b""));
    peer.send_bytes(&bytes[..20]).await;
    peer.expect_error(ErrorCode::HandshakeTimeout).await;
    peer.expect_closed().await;
    server.assert_serving().await;
    server.stop().await;
}

#[tokio::test]
async fn half_a_header_after_hello_hits_the_idle_timeout() {
    let server = TestServer::start(|c| c.network.idle_timeout_ms = 200).await;
    let mut peer = Peer::connect(server.addr).await;
    peer.hello().await;
    let bytes = header_bytes(&ping_header(2, b""));
    peer.send_bytes(&bytes[..20]).await;
    peer.expect_error(ErrorCode::IdleTimeout).await;
    peer.expect_closed().await;
    server.stop().await;
}

#[tokio::test]
async fn more_connections_than_the_limit() {
    let server = TestServer::start(|c| c.network.max_connections = 2).await;
    let mut first = Peer::connect(server.addr).await;
    first.hello().await;
    let mut second = Peer::connect(server.addr).await;
    second.hello().await;
    for _ in 0..3 {
        let mut over = Peer::connect(server.addr).await;
        over.expect_error(ErrorCode::TooManyConnections).await;
        over.expect_closed().await;
    }
    assert_eq!(server.handle.metrics().connections_rejected(), 3);
    // The admitted connections are untouched.
    for (peer, id) in [(&mut first, 20), (&mut second, 21)] {
        peer.send(&Frame::request(Opcode::Ping, id, Bytes::new()))
            .await;
        assert_eq!(peer.read().await.expect("pong").correlation_id, id);
    }
    server.stop().await;
}

fn crc32c(bytes: &[u8]) -> u32 {
    // Bitwise CRC32C (Castagnoli, reflected 0x82F63B78): independent of the crate under test.
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
