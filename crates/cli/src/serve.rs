//! `memstream serve`: load configuration, start the server, handle signals.
//!
//! SIGINT or SIGTERM starts a graceful shutdown; a second one exits at once with status 130.
//! SIGHUP reloads the configuration. The process exits 0 after a graceful shutdown and 1 when
//! `server.shutdown_timeout_ms` ran out first.

use std::process::ExitCode;
use std::sync::Arc;

use memstream_broker::config::{self, Config, ConfigHandle};
use memstream_broker::{Server, ServerHandle, ShutdownReport};
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::watch;

use crate::logging::{self, LevelHandle};
use crate::ServerArgs;

/// Runs the server until it is shut down.
pub fn run(args: &ServerArgs) -> anyhow::Result<ExitCode> {
    let sources = args.sources();
    let loaded = config::load(&sources)?;
    let levels = logging::init(&loaded.config.log.level, &loaded.config.log.format)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("memstream")
        .build()?;
    runtime.block_on(async move {
        let config = ConfigHandle::new(loaded, sources);
        // Follow reloads from here on: nothing can reload before this point.
        let level = config.load().log.level.clone();
        tokio::spawn(follow_log_level(config.subscribe(), level, levels));
        let server = Server::bind(config.clone()).await?;
        // Handlers are installed before the server announces itself, so a signal sent as soon
        // as the address is printed is never met by the default action (SIGHUP would kill).
        let signals = Signals::install()?;
        // Scripts and tests read these two lines to find the ports (for example with port 0).
        // A closed stdout must not stop the server, so write errors are ignored.
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "memstream listening on {}", server.local_addr());
            let _ = writeln!(out, "memstream admin listening on {}", server.admin_addr());
            if let Some(kafka) = server.kafka_addr() {
                let _ = writeln!(out, "memstream kafka listening on {kafka}");
            }
            let _ = out.flush();
        }
        tracing::info!(
            version = env!("CARGO_PKG_VERSION"),
            listen = %server.local_addr(),
            admin = %server.admin_addr(),
            "memstream started"
        );
        let handle = server.handle();
        tokio::spawn(signals.handle(handle.clone()));
        let report = server.run().await;
        tracing::info!(?report, "memstream stopped");
        Ok(match report {
            ShutdownReport::Graceful => ExitCode::SUCCESS,
            ShutdownReport::TimedOut { .. } => ExitCode::FAILURE,
        })
    })
}

/// The signals the server reacts to.
struct Signals {
    terminate: Signal,
    interrupt: Signal,
    hangup: Signal,
}

impl Signals {
    fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }

    /// First SIGINT/SIGTERM: graceful shutdown. Second: exit now. SIGHUP: reload configuration.
    async fn handle(mut self, handle: ServerHandle) {
        let mut stopping = false;
        loop {
            tokio::select! {
                _ = self.terminate.recv() => {},
                _ = self.interrupt.recv() => {},
                _ = self.hangup.recv() => {
                    tracing::info!("SIGHUP: reloading configuration");
                    // The outcome is logged by the reload itself.
                    let _ = handle.reload_config();
                    continue;
                }
            }
            if stopping {
                eprintln!("memstream: second signal, exiting immediately");
                std::process::exit(130);
            }
            stopping = true;
            tracing::info!("signal received: shutting down gracefully (send again to exit now)");
            handle.shutdown();
        }
    }
}

/// Applies `log.level` whenever a reload changes it.
/// `current` is the level in force when `changes` was subscribed.
async fn follow_log_level(
    mut changes: watch::Receiver<Arc<Config>>,
    mut current: String,
    levels: LevelHandle,
) {
    while changes.changed().await.is_ok() {
        let level = changes.borrow_and_update().log.level.clone();
        if level != current {
            match levels.set(&level) {
                Ok(()) => tracing::info!(%level, "log level changed"),
                Err(e) => tracing::error!(%level, error = %e, "cannot apply log level"),
            }
            current = level;
        }
    }
}
