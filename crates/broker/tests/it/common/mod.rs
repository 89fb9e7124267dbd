//! Shared test scaffolding: a real server on 127.0.0.1:0 and a raw frame-level peer.
#![allow(dead_code)] // each test binary uses a different subset

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use memstream_broker::config::{Config, ConfigHandle};
use memstream_broker::{Server, ServerHandle, ShutdownReport};
use memstream_protocol::{
    ErrorBody, ErrorCode, Frame, FrameCodec, HelloRequest, HelloResponse, Opcode,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_util::codec::Decoder;

/// Generous bound for any single wait in a test; never a pass/fail timing threshold.
pub const WAIT: Duration = Duration::from_secs(20);

/// A configuration for tests: ephemeral ports, a private data directory.
pub fn test_config(data_dir: &std::path::Path) -> Config {
    let mut cfg = Config::default();
    cfg.server.listen = "127.0.0.1:0".into();
    cfg.admin.listen = "127.0.0.1:0".into();
    cfg.kafka.listen = "127.0.0.1:0".into();
    cfg.server.data_dir = data_dir.to_path_buf();
    cfg
}

/// A running in-process server.
pub struct TestServer {
    pub addr: SocketAddr,
    pub admin: SocketAddr,
    pub handle: ServerHandle,
    pub task: JoinHandle<ShutdownReport>,
    _dir: Option<tempfile::TempDir>,
}

impl TestServer {
    /// Starts a server with `tweak` applied to the test configuration.
    pub async fn start(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cfg = test_config(dir.path());
        tweak(&mut cfg);
        let mut server = TestServer::start_with(ConfigHandle::fixed(cfg)).await;
        server._dir = Some(dir);
        server
    }

    /// Starts a server over an existing configuration handle.
    pub async fn start_with(config: ConfigHandle) -> TestServer {
        let server = Server::bind(config).await.expect("bind");
        let (addr, admin, handle) = (server.local_addr(), server.admin_addr(), server.handle());
        let task = tokio::spawn(server.run());
        TestServer {
            addr,
            admin,
            handle,
            task,
            _dir: None,
        }
    }

    /// Shuts down and returns how it went.
    pub async fn stop(self) -> ShutdownReport {
        self.handle.shutdown();
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("server stops")
            .expect("server task")
    }

    /// A PING round trip on a fresh, handshaken connection: proof the server still serves.
    pub async fn assert_serving(&self) {
        let mut peer = Peer::connect(self.addr).await;
        peer.hello().await;
        peer.send(&Frame::request(
            Opcode::Ping,
            77,
            Bytes::from_static(b"alive"),
        ))
        .await;
        let pong = peer.read().await.expect("PING response");
        assert!(pong.is_response() && !pong.is_error(), "{pong:?}");
        assert_eq!(pong.correlation_id, 77);
        assert_eq!(&pong.payload[..], b"alive");
    }

    /// GET `path` on the admin listener; returns (status line, body).
    pub async fn admin_get(&self, path: &str) -> (String, String) {
        let mut s = TcpStream::connect(self.admin).await.expect("admin connect");
        s.write_all(
            format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
        let mut out = String::new();
        tokio::time::timeout(WAIT, s.read_to_string(&mut out))
            .await
            .expect("admin answers")
            .expect("admin read");
        let (head, body) = out.split_once("\r\n\r\n").expect("http response");
        (
            head.lines().next().unwrap_or("").to_owned(),
            body.to_owned(),
        )
    }
}

/// A raw protocol peer: writes any bytes, decodes what comes back.
pub struct Peer {
    pub stream: TcpStream,
    buf: BytesMut,
    codec: FrameCodec,
}

impl Peer {
    pub async fn connect(addr: SocketAddr) -> Peer {
        Peer {
            stream: TcpStream::connect(addr).await.expect("connect"),
            buf: BytesMut::new(),
            codec: FrameCodec::new(u32::MAX),
        }
    }

    pub async fn send_bytes(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("write");
    }

    pub async fn send(&mut self, frame: &Frame) {
        let mut buf = BytesMut::new();
        frame.encode(&mut buf);
        self.send_bytes(&buf).await;
    }

    /// The next frame, or `None` at end of stream (a reset counts as the end too).
    pub async fn read(&mut self) -> Option<Frame> {
        tokio::time::timeout(WAIT, async {
            loop {
                if let Some(frame) = self
                    .codec
                    .decode(&mut self.buf)
                    .expect("server frames are valid")
                {
                    return Some(frame);
                }
                match self.stream.read_buf(&mut self.buf).await {
                    Ok(0) | Err(_) => return None,
                    Ok(_) => {}
                }
            }
        })
        .await
        .expect("server answers within the test bound")
    }

    /// Completes the handshake.
    pub async fn hello(&mut self) -> HelloResponse {
        self.send(&HelloRequest::new(1, 1, "test").to_frame(1))
            .await;
        let reply = self.read().await.expect("HELLO response");
        assert!(
            !reply.is_error(),
            "HELLO refused: {:?}",
            ErrorBody::decode(&reply.payload)
        );
        HelloResponse::decode(&reply.payload).expect("HELLO response payload")
    }

    /// Reads one frame and checks it is an error with `code`; returns it.
    pub async fn expect_error(&mut self, code: ErrorCode) -> Frame {
        let frame = self
            .read()
            .await
            .unwrap_or_else(|| panic!("expected {code}, got end of stream"));
        assert!(
            frame.is_response() && frame.is_error(),
            "expected an error frame, got {frame:?}"
        );
        let body = ErrorBody::decode(&frame.payload).expect("error body");
        assert_eq!(body.known_code(), Some(code), "message: {}", body.message);
        frame
    }

    /// The server closed the connection (after any frames already read).
    pub async fn expect_closed(&mut self) {
        if let Some(frame) = self.read().await {
            panic!("expected the connection to close, got {frame:?}");
        }
    }
}

/// Deterministic pseudo-random bytes (xorshift64*), so failures reproduce.
pub fn pseudo_random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.max(1);
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

/// Reads frames until `pred` matches one; returns it with what came before.
pub async fn read_until(peer: &mut Peer, pred: impl Fn(&Frame) -> bool) -> (Vec<Frame>, Frame) {
    let mut before = Vec::new();
    loop {
        let frame = peer.read().await.expect("frame before end of stream");
        if pred(&frame) {
            return (before, frame);
        }
        before.push(frame);
    }
}

/// Collects every frame until the end of stream.
pub async fn read_to_end(peer: &mut Peer) -> Vec<Frame> {
    let mut out = Vec::new();
    while let Some(f) = peer.read().await {
        out.push(f);
    }
    out
}

/// Waits until `cond` holds, polling the server's state on a short interval.
pub async fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while !cond() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A TCP proxy in front of a server, for fault injection: it can cut every connection at
/// once ([`sever`](Proxy::sever)) and swallow what the server sends ([`mute`](Proxy::mute)).
/// New connections after a sever work normally.
pub struct Proxy {
    pub addr: SocketAddr,
    state: std::sync::Arc<ProxyState>,
    _accept: tokio_util::task::AbortOnDropHandle<()>,
}

#[derive(Default)]
struct ProxyState {
    connections: std::sync::Mutex<Vec<tokio::task::AbortHandle>>,
    muted: std::sync::atomic::AtomicBool,
    swallowed: std::sync::atomic::AtomicU64,
    accepted: std::sync::atomic::AtomicU64,
}

impl Proxy {
    /// Listens on 127.0.0.1:0 and forwards each connection to `target`.
    pub async fn start(target: SocketAddr) -> Proxy {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = std::sync::Arc::new(ProxyState::default());
        let shared = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                shared.accepted.fetch_add(1, Ordering::Relaxed);
                let state = shared.clone();
                let task = tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(target).await else {
                        return;
                    };
                    let _ = client.set_nodelay(true);
                    let _ = server.set_nodelay(true);
                    let (mut client_read, mut client_write) = client.into_split();
                    let (mut server_read, mut server_write) = server.into_split();
                    let upstream = tokio::io::copy(&mut client_read, &mut server_write);
                    let downstream = async {
                        let mut buf = vec![0u8; 64 << 10];
                        loop {
                            let n = match server_read.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => n,
                            };
                            if state.muted.load(Ordering::SeqCst) {
                                state.swallowed.fetch_add(n as u64, Ordering::SeqCst);
                                continue;
                            }
                            if client_write.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    };
                    tokio::select! {
                        _ = upstream => {}
                        () = downstream => {}
                    }
                });
                shared.connections.lock().unwrap().push(task.abort_handle());
            }
        });
        Proxy {
            addr,
            state,
            _accept: tokio_util::task::AbortOnDropHandle::new(accept),
        }
    }

    /// Cuts every connection made so far (both sockets close).
    pub fn sever(&self) {
        for task in self.state.connections.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// From now on, bytes from the server are dropped instead of forwarded (or forwarded
    /// again, with `false`).
    pub fn mute(&self, muted: bool) {
        self.state
            .muted
            .store(muted, std::sync::atomic::Ordering::SeqCst);
    }

    /// Bytes from the server dropped while muted.
    pub fn swallowed(&self) -> u64 {
        self.state
            .swallowed
            .load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.state
            .accepted
            .load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// One HTTP/1.1 exchange with the admin listener (`connection: close`): the status code,
/// the response head and the body.
pub async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).await.expect("admin connect");
    let mut request = format!("{method} {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        request.push_str(&format!(
            "content-type: application/json\r\ncontent-length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body.unwrap_or_default());
    s.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut out))
        .await
        .expect("admin answers")
        .expect("admin read");
    let out = String::from_utf8(out).expect("utf-8 response");
    let (head, body) = out.split_once("\r\n\r\n").expect("http response");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status code");
    (status, head.to_owned(), body.to_owned())
}
