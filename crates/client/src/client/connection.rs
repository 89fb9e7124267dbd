//! One connection to a server: the HELLO handshake, the writer and reader tasks, and routing
//! of responses (by correlation id), pushes (by stream id) and rebalance notices.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use futures_util::{SinkExt, StreamExt};
use memstream_protocol::message::Rebalance;
use memstream_protocol::outbox::Outbox;
use memstream_protocol::{
    ErrorBody, Frame, FrameCodec, FrameError, HelloRequest, HelloResponse, Opcode, Request,
    HEADER_LEN, PROTOCOL_VERSION,
};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::{FramedRead, FramedWrite};
use tokio_util::sync::CancellationToken;

use crate::error::ClientError;

use super::{error_from, ClientOptions};

/// The connection's halves, TCP or TLS.
type ReadHalf = Box<dyn tokio::io::AsyncRead + Send + Unpin>;
type WriteHalf = Box<dyn tokio::io::AsyncWrite + Send + Unpin>;

/// What one connection's reader routes, and whether it is still open.
#[derive(Default)]
pub(super) struct Routes {
    waiters: HashMap<u64, oneshot::Sender<Frame>>,
    /// PUSH frames go to their subscription by stream id. Unbounded, but the server never
    /// sends a subscription more than the credit it granted.
    subscriptions: HashMap<u32, mpsc::UnboundedSender<Frame>>,
    /// GROUP_REBALANCE notices go to the group's member by group name.
    rebalances: HashMap<String, mpsc::UnboundedSender<u32>>,
    /// Set once the connection is gone; later requests fail with it.
    closed: Option<Option<ErrorBody>>,
}

pub(super) type SharedRoutes = Arc<Mutex<Routes>>;

pub(super) fn lock(routes: &SharedRoutes) -> std::sync::MutexGuard<'_, Routes> {
    // A panic while holding this lock cannot leave the maps inconsistent (each operation is
    // one insert or remove), so a poisoned lock is still usable.
    routes
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A frame on its way out; `tail` continues its payload from its own buffer (a record batch,
/// sent without being copied into the payload).
struct Outgoing {
    frame: Frame,
    tail: Option<Bytes>,
}

/// One TCP connection after its handshake.
pub(crate) struct Connection {
    outbound: mpsc::Sender<Outgoing>,
    routes: SharedRoutes,
    pub(super) server: Arc<HelloResponse>,
    /// Ends both socket tasks (and so the TCP connection) when the client gives up on it.
    abandon: CancellationToken,
}

impl Connection {
    pub(super) async fn open(
        addrs: &[SocketAddr],
        options: &ClientOptions,
    ) -> Result<Connection, ClientError> {
        let mut last = None;
        for addr in addrs {
            match Connection::open_one(*addr, options).await {
                Ok(conn) => return Ok(conn),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            ClientError::from(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the address resolved to nothing",
            ))
        }))
    }

    async fn open_one(
        addr: SocketAddr,
        options: &ClientOptions,
    ) -> Result<Connection, ClientError> {
        let stream = tokio::time::timeout(options.request_timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| ClientError::Timeout(options.request_timeout))??;
        stream.set_nodelay(true)?;
        let (read, write): (ReadHalf, WriteHalf) = match &options.tls {
            None => {
                let (read, write) = stream.into_split();
                (Box::new(read), Box::new(write))
            }
            Some(tls) => {
                let name = tls
                    .server_name
                    .clone()
                    .unwrap_or_else(|| addr.ip().to_string());
                let handshake = memstream_net::tls::connect(tls.config.clone(), &name, stream);
                let stream = tokio::time::timeout(options.request_timeout, handshake)
                    .await
                    .map_err(|_| ClientError::Timeout(options.request_timeout))?
                    .map_err(|e| ClientError::Tls(format!("with {name}: {e}")))?;
                let (read, write) = tokio::io::split(stream);
                (Box::new(read), Box::new(write))
            }
        };
        // Until HELLO tells us the server's limit, accept only what a HELLO answer can be.
        let mut reader = FramedRead::new(read, FrameCodec::new(HELLO_REPLY_BYTES_MAX));
        let mut writer = FramedWrite::new(write, FrameCodec::new(u32::MAX));

        let hello = HelloRequest {
            max_frame_bytes: options.max_frame_bytes,
            ..HelloRequest::new(PROTOCOL_VERSION, PROTOCOL_VERSION, &options.client_name)
        };
        writer.send(checked(&Request::Hello(hello), 1)?).await?;
        let reply = tokio::time::timeout(options.request_timeout, reader.next())
            .await
            .map_err(|_| ClientError::Timeout(options.request_timeout))?
            .ok_or(ClientError::Closed { reason: None })?
            .map_err(|e| match e {
                FrameError::BadMagic { found } if &found == b"HTTP" => ClientError::Malformed(
                    "the server answered in HTTP: this is an admin (HTTP) port, not the \
                     MemoryStreamer port (server.listen)"
                        .into(),
                ),
                other => ClientError::from(other),
            })?;
        if reply.is_error() {
            return Err(error_from(&reply));
        }
        let server = HelloResponse::decode(&reply.payload)
            .map_err(|e| ClientError::Malformed(e.to_string()))?;
        if !server.auth_mechanisms.is_empty() {
            let login = super::login::login(&mut reader, &mut writer, &server, options);
            tokio::time::timeout(options.request_timeout, login)
                .await
                .map_err(|_| ClientError::Timeout(options.request_timeout))??;
        }
        // The server sends nothing larger than its own limit, or ours if we announced a
        // smaller one: hold it to that.
        let accepted = options
            .max_frame_bytes
            .map_or(server.limits.max_frame_bytes, |own| {
                own.min(server.limits.max_frame_bytes)
            });
        *reader.decoder_mut() = FrameCodec::new(accepted);

        let routes: SharedRoutes = Arc::default();
        let (outbound, rx) = mpsc::channel(options.send_queue_frames_max.max(1));
        let write = writer.into_inner();
        let abandon = CancellationToken::new();
        tokio::spawn(write_loop(write, rx, routes.clone(), abandon.clone()));
        tokio::spawn(read_loop(reader, routes.clone(), abandon.clone()));
        Ok(Connection {
            outbound,
            routes,
            server: Arc::new(server),
            abandon,
        })
    }

    /// Gives up on this connection (a request went unanswered for the whole timeout: the
    /// peer or the path is not working): fails what waits on it and closes the socket, so the
    /// next request reconnects and subscriptions resume elsewhere.
    pub(crate) fn abandon(&self) {
        fail_all(&self.routes, None);
        self.abandon.cancel();
    }

    /// Whether the connection is gone.
    pub(crate) fn is_closed(&self) -> bool {
        lock(&self.routes).closed.is_some()
    }

    /// The server's HELLO response.
    pub(crate) fn server(&self) -> &Arc<HelloResponse> {
        &self.server
    }

    /// Sends a request with correlation id `id` and waits for its response frame.
    pub(crate) async fn request(
        &self,
        id: u64,
        stream_id: u32,
        opcode: Opcode,
        payload: Bytes,
    ) -> Result<Frame, ClientError> {
        self.request_with_tail(id, stream_id, opcode, payload, None)
            .await
    }

    /// Refuses a frame the server would refuse for its size, before it is sent.
    fn check_size(&self, payload: &Bytes, tail: Option<&Bytes>) -> Result<(), ClientError> {
        let len = HEADER_LEN + payload.len() + tail.map_or(0, Bytes::len);
        let max = self.server.limits.max_frame_bytes as usize;
        if len > max {
            return Err(ClientError::InvalidArgument(format!(
                "a {len}-byte frame is over the server's frame limit of {max} bytes"
            )));
        }
        Ok(())
    }

    /// [`request`](Self::request) whose payload continues with `tail`.
    pub(crate) async fn request_with_tail(
        &self,
        id: u64,
        stream_id: u32,
        opcode: Opcode,
        payload: Bytes,
        tail: Option<Bytes>,
    ) -> Result<Frame, ClientError> {
        self.check_size(&payload, tail.as_ref())?;
        let (tx, rx) = oneshot::channel();
        {
            let mut routes = lock(&self.routes);
            if let Some(reason) = &routes.closed {
                return Err(ClientError::Closed {
                    reason: reason.clone(),
                });
            }
            routes.waiters.insert(id, tx);
        }
        // Removes the waiter however this future ends (response, error or cancellation).
        let _forget = Forget {
            routes: &self.routes,
            id,
        };
        let frame = Frame {
            stream_id,
            ..Frame::request(opcode, id, payload)
        };
        if self.outbound.send(Outgoing { frame, tail }).await.is_err() {
            return Err(self.closed_error());
        }
        match rx.await {
            Ok(frame) if frame.is_error() => Err(error_from(&frame)),
            Ok(frame) => Ok(frame),
            Err(_) => Err(self.closed_error()),
        }
    }

    /// Sends a frame that gets no response when it succeeds (CREDIT, PRODUCE with acks=none).
    pub(crate) async fn send_only(
        &self,
        id: u64,
        stream_id: u32,
        opcode: Opcode,
        payload: Bytes,
        tail: Option<Bytes>,
    ) -> Result<(), ClientError> {
        self.check_size(&payload, tail.as_ref())?;
        let frame = Frame {
            stream_id,
            ..Frame::request(opcode, id, payload)
        };
        self.outbound
            .send(Outgoing { frame, tail })
            .await
            .map_err(|_| self.closed_error())
    }

    /// Queues an empty-payload frame if the queue has room, without waiting: for
    /// best-effort notices from `Drop` (UNSUBSCRIBE). Its answer, if any, finds no waiter.
    pub(crate) fn try_send_only(&self, id: u64, stream_id: u32, opcode: Opcode) {
        let frame = Frame {
            stream_id,
            ..Frame::request(opcode, id, Bytes::new())
        };
        let _ = self.outbound.try_send(Outgoing { frame, tail: None });
    }

    /// Routes PUSH frames on `stream_id` to `to`.
    pub(crate) fn route_pushes(&self, stream_id: u32, to: mpsc::UnboundedSender<Frame>) {
        let mut routes = lock(&self.routes);
        if routes.closed.is_none() {
            routes.subscriptions.insert(stream_id, to);
        }
    }

    /// Stops routing PUSH frames on `stream_id`.
    pub(crate) fn unroute_pushes(&self, stream_id: u32) {
        lock(&self.routes).subscriptions.remove(&stream_id);
    }

    /// Routes GROUP_REBALANCE notices for `group` to `to` (the new generation's predecessor).
    pub(crate) fn route_rebalances(&self, group: &str, to: mpsc::UnboundedSender<u32>) {
        let mut routes = lock(&self.routes);
        if routes.closed.is_none() {
            routes.rebalances.insert(group.to_owned(), to);
        }
    }

    /// Stops routing GROUP_REBALANCE notices for `group`.
    pub(crate) fn unroute_rebalances(&self, group: &str) {
        lock(&self.routes).rebalances.remove(group);
    }

    pub(super) fn closed_error(&self) -> ClientError {
        ClientError::Closed {
            reason: lock(&self.routes).closed.clone().flatten(),
        }
    }
}

/// Drops a request's waiter when the request future ends.
struct Forget<'a> {
    routes: &'a SharedRoutes,
    id: u64,
}

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        lock(self.routes).waiters.remove(&self.id);
    }
}
/// Most bytes gathered from the queue before they are written.
const WRITE_COALESCE_BYTES: usize = 256 << 10;

/// Sends queued frames: whatever is queued goes out together in vectored writes, record
/// batches straight from their buffers.
async fn write_loop(
    mut write: WriteHalf,
    mut rx: mpsc::Receiver<Outgoing>,
    routes: SharedRoutes,
    abandon: CancellationToken,
) {
    let mut outbox = Outbox::new();
    loop {
        let first = tokio::select! {
            first = rx.recv() => first,
            () = abandon.cancelled() => None,
        };
        let Some(first) = first else {
            break;
        };
        let mut next = Some(first);
        while let Some(out) = next.take() {
            outbox.push(&out.frame, out.tail.as_slice());
            if outbox.len() < WRITE_COALESCE_BYTES {
                next = rx.try_recv().ok();
            }
        }
        let written = tokio::select! {
            written = memstream_net::write_outbox(&mut write, &mut outbox) => written.is_ok(),
            () = abandon.cancelled() => false,
        };
        if !written {
            break;
        }
    }
    fail_all(&routes, None);
}

/// Routes responses to their waiters, pushes to their subscriptions and rebalance notices to
/// their group members; an unsolicited GOODBYE or error closes the connection.
async fn read_loop(
    mut reader: FramedRead<ReadHalf, FrameCodec>,
    routes: SharedRoutes,
    abandon: CancellationToken,
) {
    let mut reason = None;
    loop {
        let frame = tokio::select! {
            frame = reader.next() => frame,
            () = abandon.cancelled() => None,
        };
        let Some(Ok(frame)) = frame else {
            break;
        };
        if frame.opcode == Opcode::Push.as_u8() {
            let route = lock(&routes).subscriptions.get(&frame.stream_id).cloned();
            if let Some(route) = route {
                let _ = route.send(frame);
            }
            continue;
        }
        if frame.correlation_id == 0 && frame.opcode == Opcode::GroupRebalance.as_u8() {
            if let Ok(notice) = Rebalance::decode(&frame.payload) {
                let route = lock(&routes).rebalances.get(&notice.group).cloned();
                if let Some(route) = route {
                    let _ = route.send(notice.generation);
                }
            }
            continue;
        }
        if frame.correlation_id == 0 {
            // Unsolicited: GOODBYE or a connection-level error. Either way the server closes.
            reason = ErrorBody::decode(&frame.payload).ok();
            continue;
        }
        let waiter = lock(&routes).waiters.remove(&frame.correlation_id);
        if let Some(waiter) = waiter {
            let _ = waiter.send(frame);
        }
    }
    fail_all(&routes, reason);
}

/// Marks the connection closed and drops every route, which wakes every waiter.
fn fail_all(routes: &SharedRoutes, reason: Option<ErrorBody>) {
    let mut routes = lock(routes);
    if routes.closed.is_none() {
        routes.closed = Some(reason);
    }
    routes.waiters.clear();
    routes.subscriptions.clear();
    routes.rebalances.clear();
}

/// Most bytes the first frame from a server may have: a HELLO response or an error frame,
/// both well under this.
const HELLO_REPLY_BYTES_MAX: u32 = 64 << 10;

/// `request` as a frame, or [`ClientError::InvalidArgument`] naming the field the server
/// would refuse (a name over 255 bytes, say) instead of sending it.
pub(super) fn checked(request: &Request, correlation_id: u64) -> Result<Frame, ClientError> {
    request
        .to_checked_frame(correlation_id)
        .map_err(|e| match e {
            memstream_protocol::RequestError::Malformed { opcode, source } => {
                ClientError::InvalidArgument(format!("{opcode}: {source}"))
            }
            other => ClientError::InvalidArgument(other.to_string()),
        })
}
