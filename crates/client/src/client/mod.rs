//! The client: a connection to a server with the HELLO handshake, pipelined requests matched
//! by correlation id, and reconnects with backoff when the connection drops.
//!
//! Reconnects are lazy: whoever finds the connection closed (the next request, a subscription
//! whose pushes stopped, a producer retrying a batch) opens a new one, with exponential backoff
//! and jitter, under a lock so that many callers cause one reconnect. Requests that were on the
//! wire when the connection dropped fail with [`ClientError::Closed`]: the client cannot know
//! whether the server applied them. The [`Producer`](crate::Producer) retries its batches
//! itself (idempotently) and [`Subscription`](crate::Subscription)s resume where they were.
//!
//! Modules: `options` (client options and the reconnect policy), `connection` (one
//! connection: HELLO, the writer and reader tasks, routing of responses and pushes), and this
//! file (the `Client` handle: requests, reconnects).

mod connection;
mod login;
mod options;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;

use memstream_protocol::{ErrorBody, Frame, HelloResponse, Opcode, Request};
use tokio::net::ToSocketAddrs;

use crate::error::ClientError;

use connection::checked;
pub(crate) use connection::Connection;
pub use options::{ClientOptions, ClientTls, Credentials, ReconnectPolicy};

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
