//! The server: binds its listeners, runs them, and shuts down gracefully.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::admin;
use crate::config::{Config, ConfigError, ConfigHandle, ReloadReport, MESSAGE_HEADROOM_BYTES};
use crate::groups::Groups;
use crate::listener::Listener;
use crate::metrics::Metrics;
pub(crate) use crate::state::{ServerInfo, Shared};
use crate::streams::Streams;
use memstream_engine::access::Access;
use memstream_engine::Engine;

/// Errors that stop the server from starting.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A listener could not bind its address.
    #[error("cannot listen on {addr} ({key}): {source}")]
    Bind {
        /// The configuration key of the address.
        key: &'static str,
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The stored streams or groups could not be opened.
    #[error("cannot open stored streams or groups: {0}")]
    Streams(String),
    /// The user, token or ACL store could not be opened.
    #[error("cannot open the security stores: {0}")]
    Access(memstream_auth::StoreError),
    /// A listener's certificate or key could not be loaded.
    #[error("{0}")]
    Tls(memstream_net::tls::TlsError),
    /// Another server holds the data directory, or its lock could not be taken.
    #[error("{0}")]
    Locked(crate::data_dir::LockError),
    /// The data directory could not be created.
    #[error("cannot create data directory {}: {source}", path.display())]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// How [`Server::run`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownReport {
    /// Every connection said goodbye, answered its in-flight requests and closed in time.
    Graceful,
    /// `server.shutdown_timeout_ms` ran out; this many tasks were cut off.
    TimedOut {
        /// Connection and admin tasks still running at the deadline.
        aborted: usize,
    },
}

/// A bound, not yet running server.
pub struct Server {
    listener: TcpListener,
    admin: TcpListener,
    /// The Kafka listener, when `kafka.enabled`.
    kafka: Option<memstream_kafka::KafkaListener>,
    shared: Arc<Shared>,
    /// Held until `run` returns: one server per data directory.
    lock: crate::data_dir::DataDirLock,
}

/// Controls a running server from elsewhere: shutdown, reload, metrics. Cheap to clone.
#[derive(Clone)]
pub struct ServerHandle {
    shared: Arc<Shared>,
}

/// Loads each listener's TLS certificate, when its section sets one.
fn load_tls(cfg: &Config) -> Result<crate::state::TlsSet, ServerError> {
    use memstream_net::tls::ServerTls;
    let load = |prefix: &'static str, files: &memstream_net::TlsConfig| {
        files
            .enabled()
            .then(|| ServerTls::load(prefix, files).map(Arc::new))
            .transpose()
            .map_err(ServerError::Tls)
    };
    Ok(crate::state::TlsSet {
        native: load("network.tls", &cfg.network.tls)?,
        kafka: load("kafka.tls", &cfg.kafka.tls)?,
        admin: load("admin.tls", &cfg.admin.tls)?,
    })
}

/// Applies each new configuration's `[auth]` keys to the engine's access rules.
async fn apply_reloads(shared: Arc<Shared>) {
    let mut changes = shared.config.subscribe();
    loop {
        tokio::select! {
            () = shared.shutdown.cancelled() => return,
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
        let cfg = changes.borrow_and_update().clone();
        shared.engine.access.reconfigure(&cfg.auth);
    }
}

/// How often each TLS listener's files are checked for a new certificate.
pub const TLS_RELOAD_CHECK: Duration = Duration::from_secs(5);

impl Server {
    /// Creates the data directory and binds the client and admin listeners.
    pub async fn bind(config: ConfigHandle) -> Result<Server, ServerError> {
        let cfg = config.load();
        let tls = load_tls(&cfg)?;
        std::fs::create_dir_all(&cfg.server.data_dir).map_err(|source| ServerError::DataDir {
            path: cfg.server.data_dir.clone(),
            source,
        })?;
        let bind = |key: &'static str, addr: String| async move {
            TcpListener::bind(&addr)
                .await
                .map_err(|source| ServerError::Bind { key, addr, source })
        };
        // Listeners first: a second server on the same ports fails before touching the data.
        let listener = bind("server.listen", cfg.server.listen.clone()).await?;
        let admin = bind("admin.listen", cfg.admin.listen.clone()).await?;
        let kafka = match cfg.kafka.enabled {
            true => Some(memstream_kafka::KafkaListener::new(
                bind("kafka.listen", cfg.kafka.listen.clone()).await?,
            )),
            false => None,
        };
        if !cfg.auth.enabled {
            let bound = [
                Some(&listener),
                Some(&admin),
                kafka.as_ref().map(|k| k.listener()),
            ];
            let open: Vec<String> = bound
                .into_iter()
                .flatten()
                .filter_map(|l| l.local_addr().ok())
                .filter(|a| !a.ip().is_loopback())
                .map(|a| a.to_string())
                .collect();
            if !open.is_empty() {
                tracing::warn!(
                    listeners = %open.join(", "),
                    "security is off (auth.enabled = false) on listeners reachable from other \
                     machines, as auth.allow_insecure_remote = true allows: anyone who can reach \
                     them can read, write and delete every stream"
                );
            }
        }
        let lock = crate::data_dir::DataDirLock::acquire(&cfg.server.data_dir)
            .map_err(ServerError::Locked)?;
        let streams = Arc::new(
            Streams::open(
                &cfg.server.data_dir,
                cfg.streams.sync_threads as usize,
                cfg.streams.max_producers_per_partition as usize,
            )
            .map_err(ServerError::Streams)?,
        );
        let groups = Groups::open(&cfg.server.data_dir).map_err(ServerError::Streams)?;
        let access =
            Access::open(Some(&cfg.server.data_dir), &cfg.auth).map_err(ServerError::Access)?;
        // Every stored batch must keep fitting the frames that carry it to consumers, so a
        // reload may not shrink the frame limit below any stream's batch limit.
        let weak = Arc::downgrade(&streams);
        config.set_reload_guard(Arc::new(move |next: &Config| {
            let Some((stream, limit)) = weak.upgrade().and_then(|s| s.largest_message_limit())
            else {
                return Ok(());
            };
            let room = u64::from(next.network.max_frame_bytes)
                .saturating_sub(u64::from(MESSAGE_HEADROOM_BYTES));
            if limit <= room {
                return Ok(());
            }
            Err((
                "network.max_frame_bytes",
                format!(
                    "stream `{stream}` stores batches of up to {limit} bytes (its \
                     max_message_bytes), which need frames of at least {} bytes",
                    limit + u64::from(MESSAGE_HEADROOM_BYTES)
                ),
            ))
        }));
        let shared = Arc::new(Shared {
            info: ServerInfo {
                name: "memstream",
                version: env!("CARGO_PKG_VERSION"),
                node_id: cfg.server.node_id,
                started: std::time::Instant::now(),
                started_ms: crate::writer::now_ms(),
                listeners: crate::state::Listeners {
                    native: listener.local_addr().ok(),
                    kafka: kafka.as_ref().and_then(|k| k.local_addr().ok()),
                    admin: admin.local_addr().ok(),
                },
            },
            config,
            engine: Engine {
                streams,
                groups: Arc::new(groups),
                access: Arc::new(access),
            },
            metrics: Arc::new(Metrics::default()),
            kafka_metrics: Arc::new(memstream_kafka::KafkaMetrics::default()),
            shutdown: CancellationToken::new(),
            tls,
            connections: Arc::default(),
            rates: Default::default(),
        });
        Ok(Server {
            listener,
            admin,
            kafka,
            shared,
            lock,
        })
    }

    /// The address clients connect to.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The address of the admin HTTP listener.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The address of the Kafka listener, when it is enabled.
    pub fn kafka_addr(&self) -> Option<SocketAddr> {
        self.kafka.as_ref().and_then(|k| k.local_addr().ok())
    }

    /// A handle to shut down or reload the server once it runs.
    pub fn handle(&self) -> ServerHandle {
        ServerHandle {
            shared: self.shared.clone(),
        }
    }

    /// Serves until [`ServerHandle::shutdown`], then closes every connection gracefully within
    /// `server.shutdown_timeout_ms`.
    pub async fn run(self) -> ShutdownReport {
        let Server {
            listener,
            admin,
            kafka,
            shared,
            lock: _held_until_return,
        } = self;
        let mut tasks = JoinSet::new();
        if shared.config.sources().file.is_some() {
            let watched = shared.config.clone();
            let stop = shared.shutdown.clone().cancelled_owned();
            tasks.spawn(crate::config::watch_file(watched, stop));
        }
        for tls in shared.tls.all() {
            let stop = shared.shutdown.clone().cancelled_owned();
            tasks.spawn(tls.clone().watch(TLS_RELOAD_CHECK, stop));
        }
        tasks.spawn(apply_reloads(shared.clone()));
        tasks.spawn(admin::run(admin, shared.clone()));
        if let Some(kafka) = kafka {
            let ctx = crate::kafka::context(&shared, &kafka);
            tracing::info!(listen = %ctx.bound, "accepting kafka connections");
            // The Kafka listener spawns its connections into a set of its own, drained with
            // the same shutdown deadline as the native ones.
            tasks.spawn(async move {
                let mut connections = JoinSet::new();
                kafka.run(ctx, &mut connections).await;
                while connections.join_next().await.is_some() {}
            });
        }
        tasks.spawn(retention(shared.clone()));
        tasks.spawn(crate::rates::run(shared.clone()));
        tasks.spawn(expire_group_members(shared.clone()));
        tracing::info!(
            listen = %listener.local_addr().map_or_else(|e| e.to_string(), |a| a.to_string()),
            "accepting connections"
        );
        Listener::new(listener, shared.clone())
            .run(&mut tasks)
            .await;

        let timeout = Duration::from_millis(shared.config.load().server.shutdown_timeout_ms);
        tracing::info!(
            tasks = tasks.len(),
            timeout_ms = timeout.as_millis() as u64,
            "shutting down"
        );
        let drained = tokio::time::timeout(timeout, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        // Every connection is closed or cut off: no append can race the final fsync.
        let streams = shared.engine.streams.clone();
        let _ = tokio::task::spawn_blocking(move || streams.shutdown()).await;
        let groups = shared.engine.groups.clone();
        let _ = tokio::task::spawn_blocking(move || groups.shutdown()).await;
        match drained {
            Ok(()) => ShutdownReport::Graceful,
            Err(_) => {
                let aborted = tasks.len();
                tasks.abort_all();
                tracing::warn!(
                    aborted,
                    "shutdown timeout reached, closing remaining connections"
                );
                ShutdownReport::TimedOut { aborted }
            }
        }
    }
}

/// Drops group members whose session timed out (checked every `groups.session_check_ms`),
/// and, about once a second, empty groups past `groups.offsets_retention_ms`, until
/// shutdown.
async fn expire_group_members(shared: Arc<Shared>) {
    let mut groups_checked = tokio::time::Instant::now();
    loop {
        let every = Duration::from_millis(shared.config.load().groups.session_check_ms.max(1));
        tokio::select! {
            () = shared.shutdown.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        shared
            .engine
            .groups
            .expire(tokio::time::Instant::now(), &shared.engine.streams);
        if groups_checked.elapsed() >= GROUP_EXPIRY_CHECK {
            groups_checked = tokio::time::Instant::now();
            let retention = shared.config.load().groups.offsets_retention_ms;
            shared.engine.groups.expire_empty(retention);
        }
    }
}

/// How often empty groups are checked against `groups.offsets_retention_ms`.
const GROUP_EXPIRY_CHECK: Duration = Duration::from_secs(1);

/// Applies stream retention every `streams.retention_check_ms` until shutdown.
async fn retention(shared: Arc<Shared>) {
    loop {
        let every = Duration::from_millis(shared.config.load().streams.retention_check_ms.max(1));
        tokio::select! {
            () = shared.shutdown.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
        let streams = shared.engine.streams.clone();
        let now = crate::writer::now_ms();
        let _ = tokio::task::spawn_blocking(move || streams.enforce_retention(now)).await;
    }
}

impl ServerHandle {
    /// Starts a graceful shutdown: stop accepting, GOODBYE to every connection, answer
    /// in-flight requests, flush, close. Idempotent.
    pub fn shutdown(&self) {
        self.shared.shutdown.cancel();
    }

    /// Re-reads the configuration sources and applies what can change live, and reloads
    /// every listener's TLS certificate (SIGHUP). A certificate that does not load is
    /// logged and the old one kept.
    pub fn reload_config(&self) -> Result<ReloadReport, ConfigError> {
        for tls in self.shared.tls.all() {
            let _ = tls.reload();
        }
        self.shared.config.reload()
    }

    /// The server's configuration.
    pub fn config(&self) -> &ConfigHandle {
        &self.shared.config
    }

    /// The server's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }
}
