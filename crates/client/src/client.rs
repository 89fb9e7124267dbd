//! The client: a connection to a server with the HELLO handshake, pipelined requests matched
//! by correlation id, and reconnects with backoff when the connection drops.
//!
//! Reconnects are lazy: whoever finds the connection closed (the next request, a subscription
//! whose pushes stopped, a producer retrying a batch) opens a new one, with exponential backoff
//! and jitter, under a lock so that many callers cause one reconnect. Requests that were on the
//! wire when the connection dropped fail with [`ClientError::Closed`]: the client cannot know
//! whether the server applied them. The [`Producer`](crate::Producer) retries its batches
//! itself (idempotently) and [`Subscription`](crate::Subscription)s resume where they were.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use std::io::IoSlice;

use futures_util::{SinkExt, StreamExt};
use memstream_protocol::message::Rebalance;
use memstream_protocol::outbox::Outbox;
use memstream_protocol::{
    ErrorBody, Frame, FrameCodec, FrameError, HelloRequest, HelloResponse, Opcode, Request,
    HEADER_LEN, PROTOCOL_VERSION,
};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::{FramedRead, FramedWrite};
use tokio_util::sync::CancellationToken;

use crate::error::ClientError;

/// Connection settings.
///
/// ```
/// use std::time::Duration;
/// use memstream_client::ClientOptions;
///
/// let options = ClientOptions {
///     request_timeout: Duration::from_secs(5),
///     ..ClientOptions::default()
/// };
/// assert!(options.reconnect.enabled);
/// ```
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Name sent in HELLO, visible in server logs.
    pub client_name: String,
    /// How long any request waits for its response, reconnecting included.
    pub request_timeout: Duration,
    /// Requests queued for the socket before `request` waits.
    pub send_queue_frames_max: usize,
    /// What happens when the connection drops.
    pub reconnect: ReconnectPolicy,
    /// A subscription that has received nothing for this long checks, with a PING, that its
    /// connection still answers, and gives the connection up if it does not.
    pub keepalive_interval: Duration,
    /// The largest frame this client accepts, announced in HELLO; `None` (the default)
    /// accepts whatever the server's limit is. The server then never sends a larger frame: a
    /// stored batch that would need one is refused with MESSAGE_TOO_LARGE.
    pub max_frame_bytes: Option<u32>,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            client_name: format!("memstream-client/{}", env!("CARGO_PKG_VERSION")),
            request_timeout: Duration::from_secs(30),
            send_queue_frames_max: 1024,
            reconnect: ReconnectPolicy::default(),
            keepalive_interval: Duration::from_secs(15),
            max_frame_bytes: None,
        }
    }
}

/// Reconnecting after a dropped connection: exponential backoff with jitter, from
/// `backoff_initial` doubling up to `backoff_max`, for at most `give_up_after`.
///
/// ```
/// use std::time::Duration;
/// use memstream_client::{ClientOptions, ReconnectPolicy};
///
/// let patient = ClientOptions {
///     reconnect: ReconnectPolicy {
///         give_up_after: Duration::from_secs(600),
///         ..ReconnectPolicy::default()
///     },
///     ..ClientOptions::default()
/// };
/// let never = ClientOptions { reconnect: ReconnectPolicy::disabled(), ..ClientOptions::default() };
/// assert!(patient.reconnect.enabled && !never.reconnect.enabled);
/// ```
#[derive(Debug, Clone)]
pub struct ReconnectPolicy {
    /// Reconnect at all; when false a dropped connection stays closed.
    pub enabled: bool,
    /// Wait before the second attempt (the first is immediate).
    pub backoff_initial: Duration,
    /// Longest wait between attempts.
    pub backoff_max: Duration,
    /// Stop trying after this long; the caller gets the last error.
    pub give_up_after: Duration,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            enabled: true,
            backoff_initial: Duration::from_millis(20),
            backoff_max: Duration::from_secs(2),
            give_up_after: Duration::from_secs(60),
        }
    }
}

impl ReconnectPolicy {
    /// Never reconnect.
    pub fn disabled() -> ReconnectPolicy {
        ReconnectPolicy {
            enabled: false,
            ..ReconnectPolicy::default()
        }
    }
}

/// What one connection's reader routes, and whether it is still open.
#[derive(Default)]
struct Routes {
    waiters: HashMap<u64, oneshot::Sender<Frame>>,
    /// PUSH frames go to their subscription by stream id. Unbounded, but the server never
    /// sends a subscription more than the credit it granted.
    subscriptions: HashMap<u32, mpsc::UnboundedSender<Frame>>,
    /// GROUP_REBALANCE notices go to the group's member by group name.
    rebalances: HashMap<String, mpsc::UnboundedSender<u32>>,
    /// Set once the connection is gone; later requests fail with it.
    closed: Option<Option<ErrorBody>>,
}

type SharedRoutes = Arc<Mutex<Routes>>;

fn lock(routes: &SharedRoutes) -> std::sync::MutexGuard<'_, Routes> {
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
    server: Arc<HelloResponse>,
    /// Ends both socket tasks (and so the TCP connection) when the client gives up on it.
    abandon: CancellationToken,
}

impl Connection {
    async fn open(
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
        let (read, write) = stream.into_split();
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

    fn closed_error(&self) -> ClientError {
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

/// A connected, handshaken client. Share it behind an `Arc`; every method takes `&self`, so
/// many tasks pipeline requests over the one connection.
///
/// ```no_run
/// # async fn demo() -> Result<(), memstream_client::ClientError> {
/// let client = memstream_client::Client::connect("127.0.0.1:7878").await?;
/// let echoed = client.ping(bytes::Bytes::from_static(b"hi")).await?;
/// assert_eq!(&echoed[..], b"hi");
/// client.close().await?;
/// # Ok(()) }
/// ```
pub struct Client {
    addrs: Vec<SocketAddr>,
    options: ClientOptions,
    current: Mutex<Arc<Connection>>,
    reconnecting: tokio::sync::Mutex<()>,
    closing: AtomicBool,
    reconnects: AtomicU64,
    next_id: AtomicU64,
    next_stream: AtomicU32,
}

impl Client {
    /// Connects with default options and completes the HELLO handshake. The first connection
    /// is not retried: a server that is not there is reported at once.
    pub async fn connect(addr: impl ToSocketAddrs) -> Result<Client, ClientError> {
        Client::connect_with(addr, ClientOptions::default()).await
    }

    /// Connects with `options` and completes the HELLO handshake.
    pub async fn connect_with(
        addr: impl ToSocketAddrs,
        options: ClientOptions,
    ) -> Result<Client, ClientError> {
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host(addr).await?.collect();
        let conn = Connection::open(&addrs, &options).await?;
        Ok(Client {
            addrs,
            options,
            current: Mutex::new(Arc::new(conn)),
            reconnecting: tokio::sync::Mutex::new(()),
            closing: AtomicBool::new(false),
            reconnects: AtomicU64::new(0),
            next_id: AtomicU64::new(2),
            next_stream: AtomicU32::new(1),
        })
    }

    /// What the server said in its HELLO response on the current connection: version,
    /// identity, limits.
    pub fn server(&self) -> Arc<HelloResponse> {
        self.connection().server.clone()
    }

    /// The options this client was made with.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// How many times the client has reconnected since it was made.
    pub fn reconnects(&self) -> u64 {
        self.reconnects.load(Ordering::Relaxed)
    }

    /// The current connection, open or not.
    pub(crate) fn connection(&self) -> Arc<Connection> {
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The current connection, reconnecting first when it is closed (and the policy allows).
    pub(crate) async fn live_connection(&self) -> Result<Arc<Connection>, ClientError> {
        let conn = self.connection();
        if conn.is_closed() {
            return self.reconnect(&conn).await;
        }
        Ok(conn)
    }

    /// Replaces `dead` with a new connection, unless another caller already did. Retries with
    /// backoff until the policy gives up.
    pub(crate) async fn reconnect(
        &self,
        dead: &Arc<Connection>,
    ) -> Result<Arc<Connection>, ClientError> {
        let policy = &self.options.reconnect;
        if !policy.enabled || self.closing.load(Ordering::Relaxed) {
            return Err(dead.closed_error());
        }
        let _one_at_a_time = self.reconnecting.lock().await;
        let current = self.connection();
        if !Arc::ptr_eq(&current, dead) && !current.is_closed() {
            return Ok(current);
        }
        let started = tokio::time::Instant::now();
        let mut backoff = policy.backoff_initial;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match Connection::open(&self.addrs, &self.options).await {
                Ok(conn) => {
                    let conn = Arc::new(conn);
                    *self
                        .current
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = conn.clone();
                    self.reconnects.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(attempt, "reconnected");
                    return Ok(conn);
                }
                Err(e) => {
                    tracing::debug!(attempt, error = %e, "reconnect failed");
                    if started.elapsed() + backoff > policy.give_up_after
                        || self.closing.load(Ordering::Relaxed)
                    {
                        return Err(e);
                    }
                }
            }
            tokio::time::sleep(jitter(backoff)).await;
            backoff = (backoff * 2).min(policy.backoff_max);
        }
    }

    /// A fresh correlation id.
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Sends a request and waits for its response (an error frame becomes
    /// [`ClientError::Server`]). Reconnects first if the connection dropped; fails with
    /// [`ClientError::Timeout`] after the request timeout.
    pub async fn request(&self, opcode: Opcode, payload: Bytes) -> Result<Frame, ClientError> {
        self.request_on(0, opcode, payload).await
    }

    /// [`request`](Self::request) on logical stream `stream_id`.
    pub async fn request_on(
        &self,
        stream_id: u32,
        opcode: Opcode,
        payload: Bytes,
    ) -> Result<Frame, ClientError> {
        self.exchange(
            self.options.request_timeout,
            stream_id,
            opcode,
            payload,
            None,
        )
        .await
    }

    /// Sends a request (its payload continued by `tail`) on the live connection and waits for
    /// the answer, all within `timeout`. When the answer does not come in time the connection
    /// is abandoned (as Kafka's client does): a peer that stops answering must not hold
    /// requests and subscriptions forever.
    async fn exchange(
        &self,
        timeout: Duration,
        stream_id: u32,
        opcode: Opcode,
        payload: Bytes,
        tail: Option<Bytes>,
    ) -> Result<Frame, ClientError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let conn = tokio::time::timeout_at(deadline, self.live_connection())
            .await
            .unwrap_or(Err(ClientError::Timeout(timeout)))?;
        let answer = conn.request_with_tail(self.next_id(), stream_id, opcode, payload, tail);
        match tokio::time::timeout_at(deadline, answer).await {
            Ok(answer) => answer,
            Err(_) => {
                tracing::warn!(?timeout, "no answer in time; abandoning the connection");
                conn.abandon();
                Err(ClientError::Timeout(timeout))
            }
        }
    }

    /// Sends a frame (payload continued by `tail`) that gets no response when it succeeds.
    pub(crate) async fn send_only(
        &self,
        opcode: Opcode,
        payload: Bytes,
        tail: Option<Bytes>,
    ) -> Result<(), ClientError> {
        let timeout = self.options.request_timeout;
        let attempt = async {
            let conn = self.live_connection().await?;
            conn.send_only(self.next_id(), 0, opcode, payload, tail)
                .await
        };
        tokio::time::timeout(timeout, attempt)
            .await
            .unwrap_or(Err(ClientError::Timeout(timeout)))
    }

    /// [`request`](Self::request) whose payload continues with `tail`, sent from its own
    /// buffer.
    pub(crate) async fn request_with_tail(
        &self,
        opcode: Opcode,
        payload: Bytes,
        tail: Option<Bytes>,
    ) -> Result<Frame, ClientError> {
        self.exchange(self.options.request_timeout, 0, opcode, payload, tail)
            .await
    }

    /// A fresh logical stream id for a subscription.
    pub(crate) fn next_stream_id(&self) -> u32 {
        self.next_stream.fetch_add(1, Ordering::Relaxed)
    }

    /// Sends a typed request and waits for its response frame.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), memstream_client::ClientError> {
    /// use memstream_protocol::Request;
    /// let client = memstream_client::Client::connect("127.0.0.1:7878").await?;
    /// let response = client.call(&Request::ListStreams).await?;
    /// println!("{} bytes of stream list", response.payload.len());
    /// # Ok(()) }
    /// ```
    pub async fn call(&self, request: &Request) -> Result<Frame, ClientError> {
        let frame = checked(request, 0)?;
        self.request(request.opcode(), frame.payload).await
    }

    /// [`call`](Self::call) with its own timeout instead of the client's request timeout
    /// (for requests the server answers late on purpose, such as GROUP_JOIN).
    pub async fn call_with_timeout(
        &self,
        request: &Request,
        timeout: Duration,
    ) -> Result<Frame, ClientError> {
        let payload = checked(request, 0)?.payload;
        self.exchange(timeout, 0, request.opcode(), payload, None)
            .await
    }

    /// Stream and group administration over this client.
    pub fn admin(&self) -> crate::Admin<'_> {
        crate::Admin::new(self)
    }

    /// Round-trips `payload` through the server.
    pub async fn ping(&self, payload: Bytes) -> Result<Bytes, ClientError> {
        Ok(self.request(Opcode::Ping, payload).await?.payload)
    }

    /// Says GOODBYE and waits for the server's acknowledgement; no reconnect follows.
    pub async fn close(self) -> Result<(), ClientError> {
        self.closing.store(true, Ordering::Relaxed);
        let conn = self.connection();
        if conn.is_closed() {
            return Ok(());
        }
        let timeout = self.options.request_timeout;
        tokio::time::timeout(
            timeout,
            conn.request(self.next_id(), 0, Opcode::Goodbye, Bytes::new()),
        )
        .await
        .unwrap_or(Err(ClientError::Timeout(timeout)))
        .map(drop)
    }
}

/// `d` scaled by a random factor in [0.5, 1.0): reconnecting clients spread out.
fn jitter(d: Duration) -> Duration {
    let r = crate::producer::random_id() % 1000;
    d.mul_f64(0.5 + r as f64 / 2000.0)
}

pub(crate) fn error_from(frame: &Frame) -> ClientError {
    match ErrorBody::decode(&frame.payload) {
        Ok(body) => ClientError::from_body(body),
        Err(e) => ClientError::Malformed(e.to_string()),
    }
}

/// Most bytes gathered from the queue before they are written.
const WRITE_COALESCE_BYTES: usize = 256 << 10;
/// Most slices handed to one `write_vectored` call.
const IOVECS_MAX: usize = 64;

/// Sends queued frames: whatever is queued goes out together in vectored writes, record
/// batches straight from their buffers.
async fn write_loop(
    mut write: tokio::net::tcp::OwnedWriteHalf,
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
            written = write_all(&mut write, &mut outbox) => written,
            () = abandon.cancelled() => Ok(false),
        };
        if !matches!(written, Ok(true)) {
            break;
        }
    }
    fail_all(&routes, None);
}

/// Writes everything in `outbox`; `Ok(false)` when the peer stopped taking bytes.
async fn write_all(
    write: &mut tokio::net::tcp::OwnedWriteHalf,
    outbox: &mut Outbox,
) -> std::io::Result<bool> {
    while !outbox.is_empty() {
        let written = {
            let mut slices = [IoSlice::new(&[]); IOVECS_MAX];
            let used = outbox.slices(&mut slices);
            write.write_vectored(&slices[..used]).await?
        };
        if written == 0 {
            return Ok(false);
        }
        outbox.advance(written);
    }
    Ok(true)
}

/// Routes responses to their waiters, pushes to their subscriptions and rebalance notices to
/// their group members; an unsolicited GOODBYE or error closes the connection.
async fn read_loop(
    mut reader: FramedRead<tokio::net::tcp::OwnedReadHalf, FrameCodec>,
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
fn checked(request: &Request, correlation_id: u64) -> Result<Frame, ClientError> {
    request
        .to_checked_frame(correlation_id)
        .map_err(|e| match e {
            memstream_protocol::RequestError::Malformed { opcode, source } => {
                ClientError::InvalidArgument(format!("{opcode}: {source}"))
            }
            other => ClientError::InvalidArgument(other.to_string()),
        })
}
