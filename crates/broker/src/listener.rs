//! The accept loop: admission against `network.max_connections`, then one task per connection.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use memstream_protocol::{ErrorCode, Frame};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::connection;
use crate::state::Shared;
use memstream_net::admission::Admission;

/// Pause after an accept error (for example EMFILE), so a persistent failure does not spin.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(50);

/// Accepts connections for one server.
pub(crate) struct Listener {
    listener: TcpListener,
    shared: Arc<Shared>,
    /// One permit per admitted connection, up to `network.max_connections`.
    admission: Admission,
    /// Refused connections still being told so; bounded by `network.max_connections`.
    rejecting: Arc<AtomicUsize>,
}

impl Listener {
    pub(crate) fn new(listener: TcpListener, shared: Arc<Shared>) -> Listener {
        let max = shared.config.load().network.max_connections as usize;
        Listener {
            listener,
            shared,
            admission: Admission::new(max),
            rejecting: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Accepts until shutdown; connection tasks go into `tasks`, which this loop also reaps.
    pub(crate) async fn run(self, tasks: &mut JoinSet<()>) {
        let shutdown = self.shared.shutdown.clone();
        loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => return,
                Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                    if let Err(e) = done {
                        if e.is_panic() {
                            tracing::error!(error = %e, "connection task panicked");
                        }
                    }
                }
                accepted = self.listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        tracing::trace!(%peer, "accepted");
                        self.admit(stream, tasks);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(ACCEPT_ERROR_BACKOFF).await;
                    }
                },
            }
        }
    }

    /// Serves `stream` if the server is under its connection limit, else refuses it with
    /// TOO_MANY_CONNECTIONS. The limit is read live, so a reload applies at the next accept.
    fn admit(&self, stream: TcpStream, tasks: &mut JoinSet<()>) {
        let max = self.shared.config.load().network.max_connections as usize;
        let Some(permit) = self.admission.admit(max) else {
            self.shared.metrics.connection_rejected();
            self.shared
                .metrics
                .protocol_error(ErrorCode::TooManyConnections);
            // Telling the peer why costs a task; at most `max` of them at a time.
            if self.rejecting.load(Ordering::Relaxed) < max {
                let guard = RejectGuard::new(self.rejecting.clone());
                let shared = self.shared.clone();
                tasks.spawn(async move {
                    let _guard = guard;
                    reject(stream, max, &shared).await;
                });
            }
            return;
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        self.shared.metrics.connection_opened();
        let shared = self.shared.clone();
        let open = OpenGuard(shared.clone());
        tasks.spawn(async move {
            let _open = open;
            let _permit = permit;
            let addr = stream.peer_addr().ok();
            let ip = addr.map(|a| a.ip());
            let tls_on = shared.tls.native.is_some();
            let registered = shared.connections.register(
                memstream_net::registry::Protocol::Native,
                addr,
                tls_on,
                crate::writer::now_ms(),
            );
            let Some(tls) = shared.tls.native.clone() else {
                let peer = connection::Peer {
                    ip,
                    ..connection::Peer::default()
                };
                let (reader, writer) = stream.into_split();
                connection::serve(reader, writer, peer, registered, shared).await;
                return;
            };
            let limit = Duration::from_millis(shared.config.load().network.handshake_timeout_ms);
            let handshake = tokio::select! {
                () = shared.shutdown.cancelled() => return,
                done = tokio::time::timeout(limit, tls.accept(stream)) => done,
            };
            match handshake {
                Ok(Ok((stream, cert_name))) => {
                    let peer = connection::Peer {
                        ip,
                        tls: true,
                        cert_name,
                    };
                    let (reader, writer) = tokio::io::split(stream);
                    connection::serve(reader, writer, peer, registered, shared).await;
                }
                Ok(Err(e)) => {
                    shared.metrics.handshake_failed();
                    tracing::warn!(peer = ?ip, error = %e, "TLS refused on the native listener (network.tls)");
                }
                Err(_) => {
                    shared.metrics.handshake_failed();
                    tracing::warn!(peer = ?ip, "no TLS handshake within network.handshake_timeout_ms");
                }
            }
        });
    }
}

/// Writes a TOO_MANY_CONNECTIONS error frame, closes, and lingers briefly for the peer.
async fn reject(mut stream: TcpStream, max: usize, shared: &Shared) {
    let linger = Duration::from_millis(shared.config.load().network.close_linger_ms);
    let message = format!("the server is at its limit of {max} connections");
    let mut buf = BytesMut::new();
    Frame::error(None, ErrorCode::TooManyConnections, &message).encode(&mut buf);
    let _ = tokio::time::timeout(linger, async {
        stream.write_all(&buf).await?;
        stream.shutdown().await?;
        connection::discard_until_eof(&mut stream).await;
        Ok::<(), std::io::Error>(())
    })
    .await;
}

/// Marks an admitted connection closed when its task ends, however it ends.
struct OpenGuard(Arc<Shared>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.metrics.connection_closed();
    }
}

/// Counts a rejection in progress.
struct RejectGuard(Arc<AtomicUsize>);

impl RejectGuard {
    fn new(count: Arc<AtomicUsize>) -> RejectGuard {
        count.fetch_add(1, Ordering::Relaxed);
        RejectGuard(count)
    }
}

impl Drop for RejectGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}
