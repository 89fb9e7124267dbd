//! The remaining named limits, each shown to be enforced: admin connections and request
//! timeout, the close linger, and the shutdown timeout.

use crate::common;

use bytes::{Bytes, BytesMut};
use common::{eventually, Peer, TestServer, WAIT};
use memstream_broker::ShutdownReport;
use memstream_protocol::{ErrorCode, Frame, Opcode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the peer closes; returns what arrived.
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut out = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut out))
        .await
        .expect("the server closes the connection")
        .ok();
    out
}

#[tokio::test]
async fn admin_request_timeout_closes_a_silent_client() {
    let server = TestServer::start(|c| c.admin.request_timeout_ms = 100).await;
    let mut slow = TcpStream::connect(server.admin).await.unwrap();
    slow.write_all(b"GET /metr").await.unwrap();
    let answer = read_until_closed(&mut slow).await;
    assert!(answer.is_empty(), "no response to an unfinished request");
    server.stop().await;
}

#[tokio::test]
async fn admin_max_connections_turns_away_the_extra_one() {
    let server = TestServer::start(|c| {
        c.admin.max_connections = 1;
        c.admin.request_timeout_ms = 600_000;
    })
    .await;
    // Holds the only admin slot with an unfinished request.
    let mut holder = TcpStream::connect(server.admin).await.unwrap();
    holder.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
    let mut extra = TcpStream::connect(server.admin).await.unwrap();
    let _ = extra.write_all(b"GET /health HTTP/1.1\r\n\r\n").await;
    let refused = String::from_utf8(read_until_closed(&mut extra).await).unwrap();
    assert!(
        refused.starts_with("HTTP/1.1 503 Service Unavailable"),
        "{refused}"
    );
    assert!(
        refused.contains("\"code\":\"TOO_MANY_CONNECTIONS\""),
        "{refused}"
    );
    // The held connection is still served.
    holder
        .write_all(b"connection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = String::from_utf8(read_until_closed(&mut holder).await).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    server.stop().await;
}

#[tokio::test]
async fn close_linger_bounds_how_long_a_closed_connection_is_kept() {
    let server = TestServer::start(|c| c.network.close_linger_ms = 50).await;
    let mut peer = Peer::connect(server.addr).await;
    peer.send_bytes(&[0u8; 40]).await;
    peer.expect_error(ErrorCode::BadMagic).await;
    peer.expect_closed().await;
    // We keep our side open and never close it; the server stops waiting after the linger.
    let metrics = server.handle.clone();
    eventually("the connection to be released", || {
        metrics.metrics().connections_active() == 0
    })
    .await;
    drop(peer);
    server.stop().await;
}

#[tokio::test]
async fn shutdown_timeout_cuts_off_a_client_that_never_reads() {
    let server = TestServer::start(|c| {
        c.server.shutdown_timeout_ms = 200;
        c.network.max_write_queue_bytes = 1 << 20;
    })
    .await;
    let mut peer = Peer::connect(server.addr).await;
    peer.hello().await;
    let mut burst = BytesMut::new();
    for id in 2..20_000u64 {
        Frame::request(Opcode::Ping, id, Bytes::from_static(&[3; 1000])).encode(&mut burst);
    }
    let (_read, mut write) = peer.stream.into_split();
    // The server stops reading once its queue is full, so this write never finishes.
    let pusher = tokio::spawn(async move {
        let _ = write.write_all(&burst).await;
        write
    });
    let handle = server.handle.clone();
    eventually("the connection to be stuck on a full queue", || {
        handle
            .metrics()
            .render()
            .contains("memstream_frames_in_total")
            && frames_in(&handle) > 1000
    })
    .await;
    handle.shutdown();
    let report = tokio::time::timeout(WAIT, server.task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report, ShutdownReport::TimedOut { aborted: 1 });
    pusher.abort();
}

fn frames_in(handle: &memstream_broker::ServerHandle) -> u64 {
    handle
        .metrics()
        .render()
        .lines()
        .find_map(|l| l.strip_prefix("memstream_frames_in_total ")?.parse().ok())
        .unwrap_or(0)
}
