//! Structured logging to stderr, text or JSON, with a level that can change live.

use std::io::IsTerminal;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, EnvFilter, Registry};

/// Changes the active log filter.
pub struct LevelHandle(reload::Handle<EnvFilter, Registry>);

impl LevelHandle {
    /// Applies `level` (an `EnvFilter` directive such as `info` or `memstream_broker=debug`).
    pub fn set(&self, level: &str) -> anyhow::Result<()> {
        let filter = EnvFilter::try_new(level)?;
        self.0.modify(|f| *f = filter)?;
        Ok(())
    }
}

/// Installs the global subscriber. `RUST_LOG`, when set, wins over `log.level` at start-up.
pub fn init(level: &str, format: &str) -> anyhow::Result<LevelHandle> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directive) if !directive.is_empty() => EnvFilter::try_new(directive)?,
        _ => EnvFilter::try_new(level)?,
    };
    let (filter, handle) = reload::Layer::new(filter);
    let registry = tracing_subscriber::registry().with(filter);
    // Colour only for people: logs piped to a file or collector stay plain text.
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if format == "json" {
        registry.with(fmt.json()).try_init()?;
    } else {
        registry.with(fmt).try_init()?;
    }
    Ok(LevelHandle(handle))
}
