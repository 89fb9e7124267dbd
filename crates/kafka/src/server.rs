//! The Kafka listener: binds, accepts within `kafka.max_connections`, and runs one task per
//! connection until shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use memstream_engine::Engine;
use memstream_net::admission::Admission;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::metrics::KafkaMetrics;
use crate::settings::Settings;

/// What every Kafka connection shares.
pub struct Context {
    /// The engine the front-end translates to.
    pub engine: Engine,
    /// Live configuration.
    pub settings: Arc<dyn Settings>,
    /// Cancelled when the server shuts down.
    pub shutdown: CancellationToken,
    /// Counters.
    pub metrics: Arc<KafkaMetrics>,
    /// This broker's node id in Metadata.
    pub node_id: i32,
    /// The cluster id in Metadata and DescribeCluster.
    pub cluster_id: String,
    /// The address the listener is bound to (advertised when `kafka.advertised_listener` is
    /// empty).
    pub bound: SocketAddr,
    /// `[kafka.tls]`, when it sets a certificate: the listener is SSL (or SASL_SSL).
    pub tls: Option<Arc<memstream_net::tls::ServerTls>>,
    /// Every open connection of the server (the admin API lists and closes them).
    pub connections: Arc<memstream_net::registry::Registry>,
}

impl Context {
    /// The `(host, port)` clients are told to connect to.
    pub fn advertised(&self) -> (String, i32) {
        let configured = self.settings.kafka().advertised_listener;
        if let Some((host, port)) = configured.rsplit_once(':') {
            if let Ok(port) = port.parse::<u16>() {
                return (host.trim_matches(['[', ']']).to_owned(), i32::from(port));
            }
        }
        (self.bound.ip().to_string(), i32::from(self.bound.port()))
    }
}

/// A bound Kafka listener.
pub struct KafkaListener {
    listener: TcpListener,
}

impl KafkaListener {
    /// Wraps a bound socket.
    pub fn new(listener: TcpListener) -> KafkaListener {
        KafkaListener { listener }
    }

    /// The bound socket.
    pub fn listener(&self) -> &TcpListener {
        &self.listener
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts connections until `ctx.shutdown`, spawning each into `tasks`.
    pub async fn run(self, ctx: Arc<Context>, tasks: &mut JoinSet<()>) {
        let admission = Admission::new(ctx.settings.kafka().max_connections as usize);
        loop {
            let accepted = tokio::select! {
                () = ctx.shutdown.cancelled() => return,
                accepted = self.listener.accept() => accepted,
            };
            let (socket, peer) = match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "kafka accept failed");
                    continue;
                }
            };
            let limit = ctx.settings.kafka().max_connections as usize;
            let Some(permit) = admission.admit(limit) else {
                ctx.metrics.connection_refused();
                tracing::warn!(%peer, limit, "kafka.max_connections reached; connection refused");
                continue;
            };
            let _ = socket.set_nodelay(true);
            let ctx = ctx.clone();
            tasks.spawn(async move {
                let _permit = permit;
                let Some(tls) = ctx.tls.clone() else {
                    crate::connection::serve(socket, peer, None, false, ctx).await;
                    return;
                };
                let limit = std::time::Duration::from_millis(ctx.settings.handshake_timeout_ms());
                let handshake = tokio::select! {
                    () = ctx.shutdown.cancelled() => return,
                    done = tokio::time::timeout(limit, tls.accept(socket)) => done,
                };
                match handshake {
                    Ok(Ok((stream, cert_name))) => {
                        crate::connection::serve(stream, peer, cert_name, true, ctx).await;
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(%peer, error = %e, "TLS refused on the Kafka listener (kafka.tls): configure security.protocol=SSL or SASL_SSL");
                    }
                    Err(_) => tracing::warn!(%peer, "no TLS handshake within network.handshake_timeout_ms"),
                }
            });
        }
    }
}
