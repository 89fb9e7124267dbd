//! Server behaviour over real TCP: pipelining, GOODBYE, graceful shutdown, admin HTTP, and
//! configuration reloads that change limits live.

use crate::common;

use bytes::{Bytes, BytesMut};
use common::{read_to_end, read_until, Peer, TestServer};
use memstream_broker::config::{self, ConfigHandle, ConfigSources};
use memstream_broker::ShutdownReport;
use memstream_protocol::{ErrorBody, ErrorCode, Frame, Opcode};

#[tokio::test]
async fn pipelined_requests_are_answered_by_correlation_id() {
    let server = TestServer::start(|_| {}).await;
    let mut peer = Peer::connect(server.addr).await;
    let hello = peer.hello().await;
    assert_eq!(hello.version, 1);
    assert_eq!(hello.server_name, "memstream");
    assert_eq!(hello.limits.max_frame_bytes, 1 << 20);
    // 500 requests in one write, each with its own payload.
    let mut burst = BytesMut::new();
    for id in 1..=500u64 {
        Frame::request(Opcode::Ping, id, Bytes::from(id.to_le_bytes().to_vec())).encode(&mut burst);
    }
    peer.send_bytes(&burst).await;
    for id in 1..=500u64 {
        let pong = peer.read().await.expect("pong");
        assert!(pong.is_response());
        assert_eq!(pong.opcode, Opcode::Ping.as_u8());
        assert_eq!(pong.correlation_id, id);
        assert_eq!(&pong.payload[..], &id.to_le_bytes());
    }
    server.stop().await;
}

#[tokio::test]
async fn client_goodbye_is_acknowledged_then_closed() {
    let server = TestServer::start(|_| {}).await;
    let mut peer = Peer::connect(server.addr).await;
    peer.hello().await;
    peer.send(&Frame::request(Opcode::Ping, 2, Bytes::new()))
        .await;
    peer.send(&Frame::request(Opcode::Goodbye, 3, Bytes::new()))
        .await;
    let frames = read_to_end(&mut peer).await;
    let ids: Vec<u64> = frames.iter().map(|f| f.correlation_id).collect();
    assert_eq!(ids, [2, 3]);
    assert_eq!(frames[1].opcode, Opcode::Goodbye.as_u8());
    server.stop().await;
}

#[tokio::test]
async fn the_client_library_handshakes_and_pipelines() {
    let server = TestServer::start(|_| {}).await;
    let client = std::sync::Arc::new(
        memstream_client::Client::connect(server.addr)
            .await
            .unwrap(),
    );
    let mut tasks = Vec::new();
    for i in 0..50u32 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            let payload = Bytes::from(i.to_le_bytes().to_vec());
            assert_eq!(client.ping(payload.clone()).await.unwrap(), payload);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    std::sync::Arc::into_inner(client)
        .unwrap()
        .close()
        .await
        .unwrap();
    server.stop().await;
}

#[tokio::test]
async fn graceful_shutdown_answers_what_was_read_then_says_goodbye() {
    let server = TestServer::start(|_| {}).await;
    let mut peer = Peer::connect(server.addr).await;
    peer.hello().await;
    let mut burst = BytesMut::new();
    for id in 1..=2000u64 {
        Frame::request(Opcode::Ping, id, Bytes::from_static(&[7; 100])).encode(&mut burst);
    }
    peer.send_bytes(&burst).await;
    // Requests are in flight once the first answer is back; shut down now.
    let first = peer.read().await.expect("first pong");
    assert_eq!(first.correlation_id, 1);
    server.handle.shutdown();
    let (answered, goodbye) = read_until(&mut peer, |f| f.opcode == Opcode::Goodbye.as_u8()).await;
    let body = ErrorBody::decode(&goodbye.payload).expect("goodbye body");
    assert_eq!(body.known_code(), Some(ErrorCode::ShuttingDown));
    assert_eq!(goodbye.correlation_id, 0);
    // After GOODBYE: only answers to requests already read, then the close.
    let after = read_to_end(&mut peer).await;
    let ids: Vec<u64> = std::iter::once(&first)
        .chain(&answered)
        .chain(&after)
        .map(|f| f.correlation_id)
        .collect();
    let expected: Vec<u64> = (1..=ids.len() as u64).collect();
    assert_eq!(
        ids, expected,
        "every request read is answered once, in order"
    );
    assert!(after.iter().all(|f| f.is_response() && !f.is_error()));
    let report = tokio::time::timeout(common::WAIT, server.task)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report, ShutdownReport::Graceful);
}

#[tokio::test]
async fn admin_serves_metrics_and_health() {
    let server = TestServer::start(|_| {}).await;
    server.assert_serving().await;
    let mut bad = Peer::connect(server.addr).await;
    bad.send_bytes(&[0u8; 40]).await;
    bad.expect_error(ErrorCode::BadMagic).await;
    bad.expect_closed().await;

    let (status, body) = server.admin_get("/health").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert_eq!(body, "ok\n");
    let (status, metrics) = server.admin_get("/metrics").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    let value = |name: &str| -> u64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing from\n{metrics}"))
    };
    assert!(value("memstream_connections_total") >= 2);
    assert!(value("memstream_frames_in_total") >= 2);
    assert!(value("memstream_frames_out_total") >= 2);
    assert!(value("memstream_bytes_in_total") >= 80);
    assert!(value("memstream_bytes_out_total") >= 80);
    assert!(value("memstream_handshakes_total") >= 1);
    assert_eq!(
        value("memstream_protocol_errors_total{code=\"1\",name=\"BAD_MAGIC\"}"),
        1
    );
    assert!(metrics.contains("# TYPE memstream_connections_active gauge"));
    assert!(metrics.contains("memstream_handshake_failures_total"));

    let (status, _) = server.admin_get("/nope").await;
    assert_eq!(status, "HTTP/1.1 404 Not Found");
    server.stop().await;
}

#[tokio::test]
async fn admin_survives_garbage() {
    let server = TestServer::start(|_| {}).await;
    let mut s = tokio::net::TcpStream::connect(server.admin).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    s.write_all(&common::pseudo_random_bytes(7, 20_000))
        .await
        .ok();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(common::WAIT, s.read_to_end(&mut out)).await;
    let (status, _) = server.admin_get("/health").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    server.stop().await;
}

/// A server whose configuration comes from a file we can rewrite.
async fn server_with_file(toml: &str) -> (TestServer, tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("memstream.toml");
    std::fs::write(&path, toml).unwrap();
    let data = dir.path().join("data");
    let sources = ConfigSources {
        file: Some(path.clone()),
        env: Vec::new(),
        overrides: vec![
            config::Override {
                key: "server.listen".into(),
                value: "127.0.0.1:0".into(),
                flag: "--listen".into(),
            },
            config::Override {
                key: "admin.listen".into(),
                value: "127.0.0.1:0".into(),
                flag: "--admin-listen".into(),
            },
            config::Override {
                key: "kafka.listen".into(),
                value: "127.0.0.1:0".into(),
                flag: "--kafka-listen".into(),
            },
            config::Override {
                key: "server.data_dir".into(),
                value: data.display().to_string(),
                flag: "--data-dir".into(),
            },
        ],
    };
    let loaded = config::load(&sources).expect("valid test config");
    let server = TestServer::start_with(ConfigHandle::new(loaded, sources)).await;
    (server, dir, path)
}

#[tokio::test]
async fn reload_lowering_max_connections_applies_at_the_next_accept() {
    let (server, _dir, path) = server_with_file("[network]\nmax_connections = 10\n").await;
    let mut a = Peer::connect(server.addr).await;
    a.hello().await;
    let mut b = Peer::connect(server.addr).await;
    b.hello().await;

    std::fs::write(&path, "[network]\nmax_connections = 2\n").unwrap();
    let report = server.handle.reload_config().expect("valid reload");
    assert!(
        report
            .applied
            .iter()
            .any(|k| k == "network.max_connections"),
        "{report:?}"
    );
    assert_eq!(server.handle.config().load().network.max_connections, 2);

    let mut over = Peer::connect(server.addr).await;
    over.expect_error(ErrorCode::TooManyConnections).await;
    over.expect_closed().await;
    // Existing connections are not cut.
    a.send(&Frame::request(Opcode::Ping, 5, Bytes::new())).await;
    assert_eq!(a.read().await.expect("pong").correlation_id, 5);
    server.stop().await;
}

#[tokio::test]
async fn a_reload_that_would_strand_stored_batches_is_refused() {
    // The defaults' streams may hold batches of up to 1 MiB - 1 KiB; a file that halves the
    // frame limit (and the default message limit with it) would leave such batches unsendable.
    let (server, _dir, path) = server_with_file("").await;
    let client = memstream_client::Client::connect(server.addr)
        .await
        .unwrap();
    client
        .admin()
        .create_stream("big", 1, Default::default())
        .await
        .unwrap();
    std::fs::write(
        &path,
        "[network]\nmax_frame_bytes = 524288\n[streams]\nmax_message_bytes = 500000\n",
    )
    .unwrap();
    let err = server
        .handle
        .reload_config()
        .expect_err("the stream's batches would not fit");
    let text = err.to_string();
    assert!(
        text.contains("network.max_frame_bytes") && text.contains("`big`"),
        "{text}"
    );
    assert_eq!(
        server.handle.config().load().network.max_frame_bytes,
        1 << 20
    );
    // Without that stream the same file applies.
    client.admin().delete_stream("big").await.unwrap();
    let report = server
        .handle
        .reload_config()
        .expect("nothing is stranded now");
    assert!(report
        .applied
        .iter()
        .any(|k| k == "network.max_frame_bytes"));
    server.stop().await;
}

#[tokio::test]
async fn an_invalid_reload_is_rejected_and_the_running_config_kept() {
    let (server, _dir, path) = server_with_file("[network]\nmax_connections = 10\n").await;
    std::fs::write(&path, "[network]\nmax_connections = \"lots\"\n").unwrap();
    let err = server
        .handle
        .reload_config()
        .expect_err("invalid file must be rejected");
    assert!(err.to_string().contains("network.max_connections"), "{err}");
    std::fs::write(&path, "[network]\nmax_conections = 3\n").unwrap();
    let err = server
        .handle
        .reload_config()
        .expect_err("unknown key must be rejected");
    assert!(err.to_string().contains("max_conections"), "{err}");
    assert_eq!(server.handle.config().load().network.max_connections, 10);
    server.assert_serving().await;
    server.stop().await;
}

#[tokio::test]
async fn a_changed_file_is_picked_up_without_a_signal() {
    let (server, _dir, path) =
        server_with_file("[server]\nconfig_poll_ms = 20\n[network]\nidle_timeout_ms = 60000\n")
            .await;
    let mut changes = server.handle.config().subscribe();
    std::fs::write(
        &path,
        "[server]\nconfig_poll_ms = 20\n[network]\nidle_timeout_ms = 250\n",
    )
    .unwrap();
    tokio::time::timeout(common::WAIT, changes.changed())
        .await
        .expect("the watcher notices the new file")
        .unwrap();
    assert_eq!(server.handle.config().load().network.idle_timeout_ms, 250);
    // And the new idle timeout is live for connections.
    let mut peer = Peer::connect(server.addr).await;
    peer.hello().await;
    peer.expect_error(ErrorCode::IdleTimeout).await;
    server.stop().await;
}
