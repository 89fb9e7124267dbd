//! One connection to a server: handshake, pipelining, responses matched by correlation id.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use memstream_protocol::{
    ErrorBody, Frame, FrameCodec, HelloRequest, HelloResponse, Opcode, Request, PROTOCOL_VERSION,
};
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::{FramedRead, FramedWrite};

use crate::error::ClientError;

/// Connection settings.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Name sent in HELLO, visible in server logs.
    pub client_name: String,
    /// How long any request waits for its response.
    pub request_timeout: Duration,
    /// Requests queued for the socket before `request` waits.
    pub send_queue_frames_max: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            client_name: format!("memstream-client/{}", env!("CARGO_PKG_VERSION")),
            request_timeout: Duration::from_secs(30),
            send_queue_frames_max: 1024,
        }
    }
}

type Waiters = Arc<Mutex<Pending>>;

#[derive(Default)]
struct Pending {
    waiters: HashMap<u64, oneshot::Sender<Frame>>,
    /// PUSH frames go to their subscription by stream id. Unbounded, but the server never
    /// sends a subscription more than the credit it granted.
    subscriptions: HashMap<u32, mpsc::UnboundedSender<Frame>>,
    /// Set once the connection is gone; later requests fail with it.
    closed: Option<Option<ErrorBody>>,
}

/// A connected, handshaken client. Cheap to share behind an `Arc`; every method takes `&self`,
/// so many tasks can pipeline requests over the one connection.
pub struct Client {
    outbound: mpsc::Sender<Frame>,
    waiters: Waiters,
    next_id: AtomicU64,
    next_stream: std::sync::atomic::AtomicU32,
    server: HelloResponse,
    options: ClientOptions,
}

impl Client {
    /// Connects with default options and completes the HELLO handshake.
    pub async fn connect(addr: impl ToSocketAddrs) -> Result<Client, ClientError> {
        Client::connect_with(addr, ClientOptions::default()).await
    }

    /// Connects with `options` and completes the HELLO handshake.
    pub async fn connect_with(
        addr: impl ToSocketAddrs,
        options: ClientOptions,
    ) -> Result<Client, ClientError> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (read, write) = stream.into_split();
        // Until HELLO tells us the server's limit, accept frames up to the protocol maximum.
        let mut reader = FramedRead::new(read, FrameCodec::new(u32::MAX));
        let mut writer = FramedWrite::new(write, FrameCodec::new(u32::MAX));

        let hello = HelloRequest::new(PROTOCOL_VERSION, PROTOCOL_VERSION, &options.client_name);
        writer.send(hello.to_frame(1)).await?;
        let reply = tokio::time::timeout(options.request_timeout, reader.next())
            .await
            .map_err(|_| ClientError::Timeout(options.request_timeout))?
            .ok_or(ClientError::Closed { reason: None })??;
        if reply.is_error() {
            return Err(error_from(&reply));
        }
        let server = HelloResponse::decode(&reply.payload)
            .map_err(|e| ClientError::Malformed(e.to_string()))?;
        *writer.encoder_mut() = FrameCodec::new(server.limits.max_frame_bytes);

        let waiters: Waiters = Arc::default();
        let (outbound, rx) = mpsc::channel(options.send_queue_frames_max.max(1));
        tokio::spawn(write_loop(writer, rx, waiters.clone()));
        tokio::spawn(read_loop(reader, waiters.clone()));
        Ok(Client {
            outbound,
            waiters,
            next_id: AtomicU64::new(2),
            next_stream: std::sync::atomic::AtomicU32::new(1),
            server,
            options,
        })
    }

    /// What the server said in its HELLO response: version, identity, limits.
    pub fn server(&self) -> &HelloResponse {
        &self.server
    }

    /// Sends a request and waits for its response (an error frame becomes
    /// [`ClientError::Server`]).
    pub async fn request(&self, opcode: Opcode, payload: Bytes) -> Result<Frame, ClientError> {
        self.request_on(0, opcode, payload).await
    }

    /// [`request`](Self::request) on logical stream `stream_id` (subscriptions).
    pub async fn request_on(
        &self,
        stream_id: u32,
        opcode: Opcode,
        payload: Bytes,
    ) -> Result<Frame, ClientError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        {
            let mut pending = self.waiters.lock().expect("waiters lock");
            if let Some(reason) = &pending.closed {
                return Err(ClientError::Closed {
                    reason: reason.clone(),
                });
            }
            pending.waiters.insert(id, tx);
        }
        let frame = Frame {
            stream_id,
            ..Frame::request(opcode, id, payload)
        };
        let sent = self.outbound.send(frame).await;
        if sent.is_err() {
            self.waiters
                .lock()
                .expect("waiters lock")
                .waiters
                .remove(&id);
            return Err(self.closed_error());
        }
        let timeout = self.options.request_timeout;
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(frame)) if frame.is_error() => Err(error_from(&frame)),
            Ok(Ok(frame)) => Ok(frame),
            Ok(Err(_)) => Err(self.closed_error()),
            Err(_) => {
                self.waiters
                    .lock()
                    .expect("waiters lock")
                    .waiters
                    .remove(&id);
                Err(ClientError::Timeout(timeout))
            }
        }
    }

    /// Sends a frame that gets no response when it succeeds (CREDIT).
    pub(crate) async fn send_only(
        &self,
        stream_id: u32,
        opcode: Opcode,
        payload: Bytes,
    ) -> Result<(), ClientError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let frame = Frame {
            stream_id,
            ..Frame::request(opcode, id, payload)
        };
        self.outbound
            .send(frame)
            .await
            .map_err(|_| self.closed_error())
    }

    /// Routes PUSH frames on `stream_id` to the returned receiver.
    pub(crate) fn route_pushes(&self, stream_id: u32) -> mpsc::UnboundedReceiver<Frame> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.waiters
            .lock()
            .expect("waiters lock")
            .subscriptions
            .insert(stream_id, tx);
        rx
    }

    /// Stops routing PUSH frames on `stream_id`.
    pub(crate) fn unroute_pushes(&self, stream_id: u32) {
        self.waiters
            .lock()
            .expect("waiters lock")
            .subscriptions
            .remove(&stream_id);
    }

    /// A fresh logical stream id for a subscription.
    pub(crate) fn next_stream_id(&self) -> u32 {
        self.next_stream.fetch_add(1, Ordering::Relaxed)
    }

    /// Sends a typed request and waits for its response frame.
    pub async fn call(&self, request: &Request) -> Result<Frame, ClientError> {
        let frame = request.to_frame(0);
        self.request(request.opcode(), frame.payload).await
    }

    /// Stream and group administration over this connection.
    pub fn admin(&self) -> crate::Admin<'_> {
        crate::Admin::new(self)
    }

    /// Round-trips `payload` through the server.
    pub async fn ping(&self, payload: Bytes) -> Result<Bytes, ClientError> {
        Ok(self.request(Opcode::Ping, payload).await?.payload)
    }

    /// Says GOODBYE and waits for the server's acknowledgement.
    pub async fn close(self) -> Result<(), ClientError> {
        self.request(Opcode::Goodbye, Bytes::new()).await.map(drop)
    }

    fn closed_error(&self) -> ClientError {
        let pending = self.waiters.lock().expect("waiters lock");
        ClientError::Closed {
            reason: pending.closed.clone().flatten(),
        }
    }
}

fn error_from(frame: &Frame) -> ClientError {
    match ErrorBody::decode(&frame.payload) {
        Ok(body) => ClientError::from_body(body),
        Err(e) => ClientError::Malformed(e.to_string()),
    }
}

/// Sends queued frames, flushing only when the queue is empty so bursts share syscalls.
async fn write_loop(
    mut writer: FramedWrite<tokio::net::tcp::OwnedWriteHalf, FrameCodec>,
    mut rx: mpsc::Receiver<Frame>,
    waiters: Waiters,
) {
    while let Some(frame) = rx.recv().await {
        if writer.feed(frame).await.is_err() {
            break;
        }
        while let Ok(frame) = rx.try_recv() {
            if writer.feed(frame).await.is_err() {
                break;
            }
        }
        if writer.flush().await.is_err() {
            break;
        }
    }
    fail_all(&waiters, None);
}

/// Routes responses to their waiters; an unsolicited GOODBYE or error closes the client.
async fn read_loop(
    mut reader: FramedRead<tokio::net::tcp::OwnedReadHalf, FrameCodec>,
    waiters: Waiters,
) {
    let mut reason = None;
    while let Some(Ok(frame)) = reader.next().await {
        if frame.opcode == Opcode::Push.as_u8() {
            let route = waiters
                .lock()
                .expect("waiters lock")
                .subscriptions
                .get(&frame.stream_id)
                .cloned();
            if let Some(route) = route {
                let _ = route.send(frame);
            }
            continue;
        }
        if frame.correlation_id == 0 && frame.opcode == Opcode::GroupRebalance.as_u8() {
            // Group members learn about rebalances from their heartbeats as well.
            continue;
        }
        if frame.correlation_id == 0 {
            // Unsolicited: GOODBYE or a connection-level error. Either way the server closes.
            reason = ErrorBody::decode(&frame.payload).ok();
            continue;
        }
        let waiter = waiters
            .lock()
            .expect("waiters lock")
            .waiters
            .remove(&frame.correlation_id);
        if let Some(waiter) = waiter {
            let _ = waiter.send(frame);
        }
    }
    fail_all(&waiters, reason);
}

fn fail_all(waiters: &Waiters, reason: Option<ErrorBody>) {
    let mut pending = waiters.lock().expect("waiters lock");
    if pending.closed.is_none() {
        pending.closed = Some(reason);
    }
    pending.waiters.clear();
    pending.subscriptions.clear();
}
