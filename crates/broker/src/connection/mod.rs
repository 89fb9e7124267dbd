//! One client connection: the read loop, pipelining, timeouts and an orderly close.
//!
//! The request path through this module:
//! [`serve`] -> `Connection::read_frame` -> `Request::decode` -> `handler::apply` ->
//! `Connection::write_frame` -> the `writer` task -> socket.
//!
//! Requests are pipelined: the reader keeps decoding frames while earlier responses wait for
//! room in the write queue, up to `network.max_in_flight_requests` requests read but not yet
//! answered; at the limit it stops reading, so TCP flow control pushes back on the client.
//!
//! **Invariant:** a frame-level or handshake error is answered with one error frame, after the
//! responses to every request read before it, and then the connection closes. Nothing a peer
//! sends reaches a panic: the decoder and request parsers are checked, and every other
//! connection keeps being served.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::FuturesUnordered;
use futures_util::{Future, StreamExt};
use memstream_protocol::{ErrorCode, Frame, FrameCodec, FrameError, Opcode, Request};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::time::Instant;
use tokio_util::codec::FramedRead;
use tokio_util::task::AbortOnDropHandle;

mod timing;

use crate::handler::{self, Action, ConnLimits, Context, Response, Session};
use crate::metrics::Metrics;
use crate::state::Shared;
use crate::writer::{self, Closed, WriteQueue};
use timing::Done;

type InFlight = Pin<Box<dyn Future<Output = Result<(), Closed>> + Send>>;

/// Why the read loop stopped.
#[derive(Debug)]
enum End {
    /// The peer closed its side (EOF) or the socket failed.
    PeerGone,
    /// The peer broke the protocol; this error frame is the last thing it gets.
    Fatal(Frame, ErrorCode),
    /// The peer said GOODBYE; its response is queued.
    Goodbye,
    /// The server is shutting down.
    Shutdown,
    /// An administrator closed the connection (admin API).
    Closed,
    /// The handshake or idle timeout expired.
    Timeout(ErrorCode),
    /// The writer stopped (the socket failed while writing).
    WriterGone,
}

/// Who is on the other end of a connection, as the listener knows it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Peer {
    /// The client's address, when the transport has one.
    pub ip: Option<std::net::IpAddr>,
    /// Whether the connection is TLS.
    pub tls: bool,
    /// The verified client certificate's name (mutual TLS).
    pub cert_name: Option<String>,
}

/// Serves one accepted connection until it closes. `reader` and `writer` are its two halves.
pub(crate) async fn serve<R, W>(
    reader: R,
    writer: W,
    peer: Peer,
    registered: memstream_net::registry::Registered,
    shared: Arc<Shared>,
) where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    let cfg = shared.config.load();
    let limits = ConnLimits {
        max_frame_bytes: cfg.network.max_frame_bytes,
        max_in_flight_requests: cfg.network.max_in_flight_requests,
        max_write_queue_bytes: cfg.network.max_write_queue_bytes,
        idle_timeout_ms: cfg.network.idle_timeout_ms,
    };
    let entry = registered.conn().clone();
    let (queue, write_task) = writer::channel_counted(
        writer,
        cfg.network.max_write_queue_bytes,
        cfg.network.write_coalesce_bytes,
        shared.metrics.clone(),
        Some(entry.clone()),
    );
    // Aborted with the connection task, so a writer stuck on a dead peer never outlives it.
    let write_task = AbortOnDropHandle::new(tokio::spawn(write_task));
    // Until the client has logged in, frames are held to the smaller unauthenticated limit.
    let first_limit = match shared.engine.access.enabled() {
        true => limits
            .max_frame_bytes
            .min(cfg.auth.max_unauthenticated_request_bytes),
        false => limits.max_frame_bytes,
    };
    let mut conn = Connection {
        frames: FramedRead::new(reader, FrameCodec::new(first_limit)),
        queue,
        in_flight: FuturesUnordered::new(),
        session: Session {
            peer: peer.ip,
            tls: peer.tls,
            cert_name: peer.cert_name,
            ..Session::default()
        },
        limits,
        shared,
        entry,
    };
    let end = conn.run().await;
    conn.close(end, write_task).await;
    drop(registered);
}

struct Connection<R> {
    frames: FramedRead<R, FrameCodec>,
    queue: WriteQueue,
    /// Responses that are waiting for room in the write queue.
    in_flight: FuturesUnordered<InFlight>,
    session: Session,
    limits: ConnLimits,
    shared: Arc<Shared>,
    /// This connection in the server's registry (the admin API's `connections`).
    entry: Arc<memstream_net::registry::Conn>,
}

impl<R: AsyncRead + Unpin> Connection<R> {
    /// The read loop: decode frames, dispatch requests, watch timeouts and shutdown.
    async fn run(&mut self) -> End {
        let accepted = Instant::now();
        let mut last_activity = accepted;
        let shutdown = self.shared.shutdown.clone().cancelled_owned();
        tokio::pin!(shutdown);
        // One timer, re-armed lazily: activity only moves `last_activity`, and when the timer
        // fires early it is pushed to the real deadline.
        let timer = tokio::time::sleep_until(self.deadline(accepted, last_activity));
        tokio::pin!(timer);
        loop {
            let can_read = self.in_flight.len() < self.limits.max_in_flight_requests as usize;
            tokio::select! {
                biased;
                () = &mut shutdown => return End::Shutdown,
                () = self.entry.closed() => return End::Closed,
                Some(sent) = self.in_flight.next(), if !self.in_flight.is_empty() => {
                    if sent.is_err() {
                        return End::WriterGone;
                    }
                    last_activity = Instant::now();
                }
                next = read_frame(&mut self.frames, &self.shared.metrics), if can_read => {
                    last_activity = Instant::now();
                    match next {
                        Ok(Some(frame)) => {
                            if let Some(end) = self.on_frame(frame) {
                                return end;
                            }
                            // The deadline only moves later with activity, except when the
                            // handshake completes or a reload shortens a timeout.
                            let deadline = self.deadline(accepted, last_activity);
                            if deadline < timer.deadline() {
                                timer.as_mut().reset(deadline);
                            }
                        }
                        Ok(None) => return End::PeerGone,
                        Err(end) => return end,
                    }
                }
                () = &mut timer, if self.in_flight.is_empty() => {
                    let deadline = self.deadline(accepted, last_activity);
                    if deadline > Instant::now() {
                        timer.as_mut().reset(deadline);
                        continue;
                    }
                    return if !self.session.ready() {
                        End::Timeout(ErrorCode::HandshakeTimeout)
                    } else {
                        End::Timeout(ErrorCode::IdleTimeout)
                    };
                }
            }
        }
    }

    /// When the connection times out if nothing else happens: the handshake deadline until
    /// HELLO succeeds, then the idle deadline. Both read the live configuration.
    fn deadline(&self, accepted: Instant, last_activity: Instant) -> Instant {
        let cfg = self.shared.config.load();
        if !self.session.ready() {
            accepted + Duration::from_millis(cfg.network.handshake_timeout_ms)
        } else {
            last_activity + Duration::from_millis(cfg.network.idle_timeout_ms)
        }
    }

    /// Checks handshake state, decodes the request and runs its handler.
    fn on_frame(&mut self, frame: Frame) -> Option<End> {
        if self.session.version.is_none() && frame.opcode != Opcode::Hello.as_u8() {
            self.shared.metrics.handshake_failed();
            let code = ErrorCode::HandshakeRequired;
            let error = Frame::error_response(&frame, code, "HELLO must be the first frame");
            return Some(End::Fatal(error, code));
        }
        let before_login = matches!(
            Opcode::from_u8(frame.opcode),
            Some(Opcode::Hello | Opcode::Auth | Opcode::Ping | Opcode::Goodbye)
        );
        if !self.session.ready() && !before_login {
            let access = &self.shared.engine.access;
            access
                .counters
                .failures
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            tracing::warn!(peer = ?self.session.peer, client = %self.session.client_name, "request before authentication; closing the connection");
            let code = ErrorCode::AuthenticationRequired;
            let error = Frame::error_response(
                &frame,
                code,
                "this server requires authentication: log in with AUTH after HELLO (memstream --user NAME --password-file FILE)",
            );
            return Some(End::Fatal(error, code));
        }
        let was_ready = self.session.ready();
        let request = match Request::decode(&frame) {
            Ok(request) => request,
            Err(e) => {
                let code = e.code();
                let error = Frame::error_response(&frame, code, &e.to_string());
                if self.session.version.is_none() {
                    self.shared.metrics.handshake_failed();
                    return Some(End::Fatal(error, code));
                }
                self.shared.metrics.protocol_error(code);
                self.write_frame(error.into());
                return None;
            }
        };
        let ctx = Context {
            shared: &self.shared,
            limits: &self.limits,
            queue: &self.queue,
        };
        let opcode = Opcode::from_u8(frame.opcode);
        self.entry.request_in(frame.encoded_len());
        let started = Instant::now();
        let done = Done {
            opcode: frame.opcode,
            request_id: (self.entry.id, frame.correlation_id),
            started,
        };
        let action = handler::apply(request, &frame, &mut self.session, &ctx);
        match opcode {
            Some(Opcode::Hello | Opcode::Auth) => {
                self.entry.set_client(&self.session.client_name);
                if let Some(principal) = &self.session.principal {
                    self.entry.set_principal(&principal.principal().to_string());
                }
            }
            Some(Opcode::Subscribe | Opcode::Unsubscribe) => {
                let count = u32::try_from(self.session.subscriptions.len()).unwrap_or(u32::MAX);
                self.entry
                    .subscriptions
                    .store(count, std::sync::atomic::Ordering::Relaxed);
            }
            _ => {}
        }
        if !was_ready && self.session.ready() {
            // Logged in (or HELLO with security off): the full frame limit from now on.
            *self.frames.decoder_mut() = FrameCodec::new(self.limits.max_frame_bytes);
        }
        match action {
            Action::Reply(response) => {
                done.finish(&self.shared, response.frame.is_error());
                self.write_frame(response);
                None
            }
            Action::Later(pending) => {
                let queue = self.queue.clone();
                let shared = self.shared.clone();
                self.in_flight.push(Box::pin(async move {
                    match pending.await {
                        Some(response) => {
                            done.finish(&shared, response.frame.is_error());
                            queue.send(response).await
                        }
                        None => {
                            done.finish(&shared, false);
                            Ok(())
                        }
                    }
                }));
                None
            }
            Action::NoReply => {
                done.finish(&self.shared, false);
                None
            }
            Action::ReplyAndClose(response) => {
                done.finish(&self.shared, response.is_error());
                self.write_frame(response.into());
                Some(End::Goodbye)
            }
            Action::Fatal(error, code) => {
                done.finish(&self.shared, true);
                Some(End::Fatal(error, code))
            }
        }
    }

    /// Queues a response; when the queue is full it waits as an in-flight request.
    fn write_frame(&mut self, response: Response) {
        if let Err(response) = self.queue.try_send(response) {
            let queue = self.queue.clone();
            self.in_flight
                .push(Box::pin(async move { queue.send(response).await }));
        }
    }

    /// Sends the last frames, answers what is in flight, flushes, closes, then drains the
    /// peer's unread input for a moment so the last frame is not lost to a TCP reset.
    async fn close(self, end: End, mut write_task: AbortOnDropHandle<std::io::Result<()>>)
    where
        R: Send + 'static,
    {
        let Connection {
            frames,
            queue,
            mut in_flight,
            session,
            shared,
            ..
        } = self;
        let cfg = shared.config.load();
        let linger = Duration::from_millis(cfg.network.close_linger_ms);
        let budget = match end {
            End::Shutdown => Duration::from_millis(cfg.server.shutdown_timeout_ms),
            _ => linger,
        };
        tracing::debug!(client = %session.client_name, reason = ?end, "closing connection");
        let peer_gone = matches!(end, End::PeerGone | End::WriterGone);
        let (first, last) = match end {
            End::Shutdown => (
                Some(Frame::goodbye(
                    ErrorCode::ShuttingDown,
                    "server shutting down",
                )),
                None,
            ),
            End::Closed => {
                tracing::info!(client = %session.client_name, peer = ?session.peer, "connection closed by an administrator");
                (
                    Some(Frame::goodbye(
                        ErrorCode::ShuttingDown,
                        "closed by an administrator (admin API)",
                    )),
                    None,
                )
            }
            End::Fatal(frame, code) => {
                shared.metrics.protocol_error(code);
                (None, Some(frame))
            }
            End::Timeout(code) => {
                shared.metrics.protocol_error(code);
                if code == ErrorCode::HandshakeTimeout {
                    shared.metrics.handshake_failed();
                }
                let message = match code {
                    ErrorCode::HandshakeTimeout => {
                        "no HELLO (or no successful AUTH) within the handshake timeout"
                    }
                    _ => "connection idle for longer than the idle timeout",
                };
                (None, Some(Frame::error(None, code, message)))
            }
            End::PeerGone | End::Goodbye | End::WriterGone => (None, None),
        };
        let flushed = tokio::time::timeout(budget, async {
            if let Some(frame) = first {
                queue.send_control(frame)?;
            }
            while let Some(sent) = in_flight.next().await {
                sent?;
            }
            if let Some(frame) = last {
                queue.send_control(frame)?;
            }
            drop(queue);
            Ok::<(), Closed>(())
        })
        .await;
        let wrote = match flushed {
            Ok(Ok(())) => tokio::time::timeout(linger, &mut write_task).await.is_ok(),
            _ => false,
        };
        if !wrote {
            write_task.abort();
            return;
        }
        if !peer_gone {
            let mut reader = frames.into_inner();
            let _ = tokio::time::timeout(linger, discard_until_eof(&mut reader)).await;
        }
    }
}

/// Reads the next whole frame. `Ok(None)` is a clean end of input; frame-level errors
/// become a fatal [`End`].
async fn read_frame<R: AsyncRead + Unpin>(
    frames: &mut FramedRead<R, FrameCodec>,
    metrics: &Metrics,
) -> Result<Option<Frame>, End> {
    match frames.next().await {
        None => Ok(None),
        Some(Ok(frame)) => {
            metrics.frame_in(frame.encoded_len());
            Ok(Some(frame))
        }
        Some(Err(FrameError::Io(e))) => {
            tracing::debug!(error = %e, "read failed");
            Err(End::PeerGone)
        }
        Some(Err(e)) => {
            let code = e.code();
            if let FrameError::BadMagic { found } = &e {
                if memstream_net::tls::looks_like_tls(found) {
                    tracing::warn!("a TLS client connected to the native listener, which has no TLS: set network.tls.cert_file to serve TLS, or connect without TLS");
                }
            }
            tracing::debug!(error = %e, "frame rejected");
            Err(End::Fatal(
                Frame::error(e.trusted_header(), code, &e.to_string()),
                code,
            ))
        }
    }
}

/// Reads and drops input until the peer closes or the read fails.
pub(crate) async fn discard_until_eof<R: AsyncRead + Unpin>(reader: &mut R) {
    let mut scratch = [0u8; 4096];
    while let Ok(n) = reader.read(&mut scratch).await {
        if n == 0 {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, ConfigHandle};
    use crate::metrics::Metrics;
    use crate::state::ServerInfo;
    use bytes::{Bytes, BytesMut};
    use memstream_protocol::{ErrorBody, HelloRequest};
    use tokio::io::{AsyncWriteExt, DuplexStream};
    use tokio_util::sync::CancellationToken;

    fn shared(tweak: impl FnOnce(&mut Config)) -> Arc<Shared> {
        let mut cfg = Config::default();
        tweak(&mut cfg);
        let dir = tempfile::tempdir().expect("tempdir");
        let streams = crate::streams::Streams::open(dir.path(), 1, 1000).expect("streams");
        Arc::new(Shared {
            config: ConfigHandle::fixed(cfg),
            engine: memstream_engine::Engine {
                streams: Arc::new(streams),
                groups: Arc::new(crate::groups::Groups::open(dir.path()).expect("groups")),
                access: Arc::new(memstream_engine::access::Access::disabled()),
            },
            metrics: Arc::new(Metrics::default()),
            kafka_metrics: Arc::default(),
            shutdown: CancellationToken::new(),
            info: ServerInfo {
                name: "memstream",
                version: "test",
                node_id: 1,
                started: std::time::Instant::now(),
                started_ms: 0,
                listeners: crate::state::Listeners::default(),
            },
            tls: crate::state::TlsSet::default(),
            connections: Arc::default(),
            rates: Default::default(),
        })
    }

    /// Starts `serve` on one end of an in-memory pipe of `pipe_bytes` and returns the other.
    fn start(shared: &Arc<Shared>, pipe_bytes: usize) -> DuplexStream {
        let (client, server) = tokio::io::duplex(pipe_bytes);
        let (r, w) = tokio::io::split(server);
        let registered =
            shared
                .connections
                .register(memstream_net::registry::Protocol::Native, None, false, 0);
        tokio::spawn(serve(r, w, Peer::default(), registered, shared.clone()));
        client
    }

    fn requests(pings: u64) -> BytesMut {
        let mut out = BytesMut::new();
        HelloRequest::new(1, 1, "unit").to_frame(1).encode(&mut out);
        for id in 2..2 + pings {
            Frame::request(Opcode::Ping, id, Bytes::from_static(&[0; 24])).encode(&mut out);
        }
        out
    }

    async fn read_all(client: impl AsyncRead + Unpin) -> Vec<Frame> {
        FramedRead::new(client, FrameCodec::new(u32::MAX))
            .map(|f| f.expect("valid frames"))
            .collect()
            .await
    }

    fn frames_in(shared: &Shared) -> u64 {
        let text = shared.metrics.render();
        text.lines()
            .find_map(|l| l.strip_prefix("memstream_frames_in_total ")?.parse().ok())
            .expect("frames_in metric")
    }

    /// Paused time: sleeping lets every task run until all are blocked, so what we observe
    /// afterwards is the quiescent state, not a race.
    async fn settle() {
        tokio::time::sleep(Duration::from_secs(30)).await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_does_not_read_stops_the_server_reading() {
        let shared = shared(|c| {
            c.network.max_in_flight_requests = 4;
            c.network.max_write_queue_bytes = 256;
        });
        let client = start(&shared, 128);
        let (read_half, mut write_half) = tokio::io::split(client);
        let burst = requests(1000);
        let writer = tokio::spawn(async move {
            write_half.write_all(&burst).await.unwrap();
            write_half
        });
        settle().await;
        let stalled = frames_in(&shared);
        assert!(stalled < 100, "server kept reading: {stalled} frames");
        settle().await;
        assert_eq!(frames_in(&shared), stalled, "reading must stay stopped");
        assert!(!writer.is_finished(), "the client must be pushed back");

        // Once the client reads, everything is answered in order.
        let reader = tokio::spawn(async move {
            let mut frames = FramedRead::new(read_half, FrameCodec::new(u32::MAX));
            let mut ids = Vec::new();
            while ids.len() < 1001 {
                ids.push(frames.next().await.unwrap().unwrap().correlation_id);
            }
            ids
        });
        let ids = reader.await.unwrap();
        assert_eq!(ids, (1..=1001).collect::<Vec<u64>>());
        writer.await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_flushes_queued_answers_after_goodbye() {
        let shared = shared(|c| {
            c.network.max_in_flight_requests = 4;
            c.network.max_write_queue_bytes = 256;
        });
        let client = start(&shared, 128);
        let (read_half, mut write_half) = tokio::io::split(client);
        let burst = requests(50);
        tokio::spawn(async move {
            let _ = write_half.write_all(&burst).await;
            // Keep the write half open so the server sees no EOF.
            std::future::pending::<()>().await;
        });
        settle().await;
        let read = frames_in(&shared);
        shared.shutdown.cancel();
        let frames = read_all(read_half).await;
        let goodbye = frames
            .iter()
            .position(|f| f.opcode == Opcode::Goodbye.as_u8())
            .expect("GOODBYE");
        let body = ErrorBody::decode(&frames[goodbye].payload).unwrap();
        assert_eq!(body.known_code(), Some(ErrorCode::ShuttingDown));
        let answered: Vec<u64> = frames
            .iter()
            .filter(|f| f.opcode != Opcode::Goodbye.as_u8())
            .map(|f| f.correlation_id)
            .collect();
        // Every request the server had read is answered exactly once, in order.
        assert_eq!(answered, (1..=read).collect::<Vec<u64>>());
    }
}
