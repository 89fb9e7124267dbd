//! Hot reload: the [`ConfigHandle`] every part of the server reads its configuration through,
//! and [`watch_file`], which polls the config file and reloads when its bytes change.
//!
//! A reload re-reads the file with the environment and flags captured at startup, validates the
//! result, and applies only the keys that can change under a running server; a changed
//! restart-only key keeps its running value and is reported. A rejected file leaves the running
//! configuration untouched. Readers never block: [`ConfigHandle::load`] is one atomic load.

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::sync::watch;

use super::error::ConfigError;
use super::load::{check, deserialise, load, ConfigSources, Loaded};
use super::schema::{self, Apply, KEYS};
use super::Config;

/// Shared access to the running configuration. Cloning is cheap (one `Arc`).
#[derive(Clone, Debug)]
pub struct ConfigHandle {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    current: ArcSwap<Config>,
    /// Where each running value came from (`section.field` keys).
    origins: ArcSwap<std::collections::BTreeMap<String, super::Origin>>,
    sources: ConfigSources,
    /// Made by [`ConfigHandle::fixed`]: there is nothing to reload from.
    fixed: bool,
    changed: watch::Sender<Arc<Config>>,
    /// Serialises reloads so two of them cannot interleave their read-compare-store.
    reloading: Mutex<()>,
    /// The running server's own check of a reloaded configuration against state the
    /// configuration cannot see (the limits of stored streams).
    guard: Mutex<Option<Guard>>,
}

#[derive(Clone)]
struct Guard(Arc<ReloadGuard>);

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReloadGuard")
    }
}

/// A check of a configuration about to be applied: `Err((key, reason))` refuses it.
pub type ReloadGuard = dyn Fn(&Config) -> Result<(), (&'static str, String)> + Send + Sync;

/// What a successful reload did, as `section.field` keys in schema order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReloadReport {
    /// Live keys whose new value is now in force.
    pub applied: Vec<String>,
    /// Restart-only keys whose value changed in the file but which keep their running value.
    pub needs_restart: Vec<String>,
}

/// One key whose value differs between the running and the newly loaded configuration.
struct Change {
    key: &'static schema::Key,
    running: toml::Value,
    loaded: toml::Value,
}

/// Whether a running server applies a change to `key` (`section.field`) on reload. False for
/// the restart-only keys and for names that are not keys. The table is in `schema.rs`.
pub fn is_reloadable(key: &str) -> bool {
    schema::find(key).is_some_and(|key| key.apply == Apply::Live)
}

impl ConfigHandle {
    /// A handle serving `loaded`, which reloads from `sources` (normally the ones `loaded` came
    /// from).
    pub fn new(loaded: Loaded, sources: ConfigSources) -> ConfigHandle {
        ConfigHandle::build(loaded.config, loaded.origins, sources, false)
    }

    /// A handle with no sources: [`reload`](Self::reload) changes nothing. For tests.
    pub fn fixed(config: Config) -> ConfigHandle {
        ConfigHandle::build(
            config,
            std::collections::BTreeMap::new(),
            ConfigSources::default(),
            true,
        )
    }

    fn build(
        config: Config,
        origins: std::collections::BTreeMap<String, super::Origin>,
        sources: ConfigSources,
        fixed: bool,
    ) -> ConfigHandle {
        let config = Arc::new(config);
        let (changed, _) = watch::channel(Arc::clone(&config));
        ConfigHandle {
            inner: Arc::new(Inner {
                current: ArcSwap::new(config),
                origins: ArcSwap::from_pointee(origins),
                sources,
                fixed,
                changed,
                reloading: Mutex::new(()),
                guard: Mutex::new(None),
            }),
        }
    }

    /// Installs the check every reload must also pass (one per handle; a later call replaces
    /// it).
    pub fn set_reload_guard(&self, guard: Arc<ReloadGuard>) {
        *self
            .inner
            .guard
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(Guard(guard));
    }

    /// A snapshot of the running configuration; lock-free.
    pub fn load(&self) -> Arc<Config> {
        self.inner.current.load_full()
    }

    /// Where the running value of `key` (`section.field`) came from.
    pub fn origin(&self, key: &str) -> super::Origin {
        self.inner
            .origins
            .load()
            .get(key)
            .cloned()
            .unwrap_or(super::Origin::Default)
    }

    /// Every key with its running value (as TOML) and whether it changes live, in schema
    /// order.
    pub fn entries(&self) -> Vec<(&'static str, toml::Value, bool)> {
        let table = schema::to_table(&self.load());
        KEYS.iter()
            .filter_map(|k| {
                schema::get(&table, k).map(|v| (k.name, v.clone(), k.apply == Apply::Live))
            })
            .collect()
    }

    /// A receiver notified after each reload that changed a value.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Config>> {
        self.inner.changed.subscribe()
    }

    /// The sources reloads read from.
    pub fn sources(&self) -> &ConfigSources {
        &self.inner.sources
    }

    /// Re-reads the file (the environment and flags are those captured at startup) and applies
    /// the changed live keys. On error the running configuration is kept and the error logged.
    /// Reads the file synchronously: it is small and local.
    pub fn reload(&self) -> Result<ReloadReport, ConfigError> {
        if self.inner.fixed {
            return Ok(ReloadReport::default());
        }
        let _serialised = self
            .inner
            .reloading
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let result = self.reload_serialised();
        if let Err(err) = &result {
            tracing::error!(error = %err, "configuration reload rejected; keeping the running configuration");
        }
        result
    }

    fn reload_serialised(&self) -> Result<ReloadReport, ConfigError> {
        let loaded = load(&self.inner.sources)?;
        let running = self.load();
        let changes = diff(&running, &loaded.config);
        let mut report = ReloadReport::default();
        let mut next = schema::to_table(&running);
        for change in &changes {
            match change.key.apply {
                Apply::Live => {
                    schema::set(&mut next, change.key, change.loaded.clone());
                    report.applied.push(change.key.name.to_owned());
                }
                Apply::Restart => report.needs_restart.push(change.key.name.to_owned()),
            }
        }
        let next = deserialise(next, self.inner.sources.file.as_deref())?;
        // The loaded config is valid; this guards rules that mix live and restart-only keys.
        check(&next, &loaded.origins)?;
        let guard = self
            .inner
            .guard
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if let Some(Err((key, reason))) = guard.map(|g| (g.0)(&next)) {
            let table = schema::to_table(&next);
            let value = KEYS
                .iter()
                .find(|k| k.name == key)
                .and_then(|k| schema::get(&table, k))
                .map(schema::show)
                .unwrap_or_default();
            return Err(ConfigError::Invalid {
                key: key.to_owned(),
                value,
                reason,
                origin: loaded
                    .origins
                    .get(key)
                    .cloned()
                    .unwrap_or(super::Origin::Default),
            });
        }
        if !report.applied.is_empty() {
            let next = Arc::new(next);
            let mut origins = self.inner.origins.load().as_ref().clone();
            for key in &report.applied {
                let origin = loaded
                    .origins
                    .get(key)
                    .cloned()
                    .unwrap_or(super::Origin::Default);
                origins.insert(key.clone(), origin);
            }
            self.inner.origins.store(Arc::new(origins));
            self.inner.current.store(Arc::clone(&next));
            self.inner.changed.send_replace(next);
        }

        for change in &changes {
            let key = change.key.name;
            let running = schema::show(&change.running);
            let loaded = schema::show(&change.loaded);
            match change.key.apply {
                Apply::Live => {
                    tracing::info!(key, old = %running, new = %loaded, "configuration key applied")
                }
                Apply::Restart => tracing::warn!(
                    key,
                    running = %running,
                    configured = %loaded,
                    "configuration key changed but needs a restart; keeping the running value"
                ),
            }
        }
        // Logged after the new configuration is in force, so a reader of the log knows it is.
        if changes.is_empty() {
            tracing::debug!("configuration reloaded; nothing changed");
        } else {
            tracing::info!(
                applied = report.applied.len(),
                needs_restart = report.needs_restart.len(),
                "configuration reloaded"
            );
        }
        Ok(report)
    }
}

/// The keys whose values differ, in schema order.
fn diff(running: &Config, loaded: &Config) -> Vec<Change> {
    let running = schema::to_table(running);
    let loaded = schema::to_table(loaded);
    KEYS.iter()
        .filter_map(|key| {
            let old = schema::get(&running, key)?;
            let new = schema::get(&loaded, key)?;
            (old != new).then(|| Change {
                key,
                running: old.clone(),
                loaded: new.clone(),
            })
        })
        .collect()
}

/// Polls the config file every `server.config_poll_ms` (re-read from the running
/// configuration each round) and calls [`ConfigHandle::reload`] when its bytes differ from the
/// bytes last seen. The first round always reloads, which picks up a change made between the
/// initial load and the start of the watch (a no-op otherwise). A missing or unreadable file is
/// logged once and the running configuration kept. Returns when `shutdown` resolves; with no
/// config file it only waits for that.
pub async fn watch_file(handle: ConfigHandle, shutdown: impl Future<Output = ()>) {
    let mut shutdown = pin!(shutdown);
    let Some(path) = handle.sources().file.clone() else {
        shutdown.await;
        return;
    };
    let mut seen: Option<Vec<u8>> = None;
    let mut unreadable = false;
    loop {
        match std::fs::read(&path) {
            Ok(bytes) => {
                if unreadable {
                    tracing::info!(path = %path.display(), "config file readable again");
                    unreadable = false;
                }
                if seen.as_deref() != Some(bytes.as_slice()) {
                    seen = Some(bytes);
                    // `reload` logs its own outcome.
                    let _ = handle.reload();
                }
            }
            Err(err) => {
                if !unreadable {
                    tracing::warn!(
                        path = %path.display(),
                        error = %err,
                        "cannot read config file; keeping the running configuration"
                    );
                    unreadable = true;
                }
            }
        }
        let poll = Duration::from_millis(handle.load().server.config_poll_ms.max(1));
        tokio::select! {
            biased;
            () = &mut shutdown => return,
            () = tokio::time::sleep(poll) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_only_keys() {
        let restart: Vec<&str> = KEYS
            .iter()
            .filter(|k| !is_reloadable(k.name))
            .map(|k| k.name)
            .collect();
        assert_eq!(
            restart,
            [
                "server.listen",
                "server.data_dir",
                "server.node_id",
                "network.tls.cert_file",
                "network.tls.key_file",
                "network.tls.client_ca_file",
                "streams.sync_threads",
                "kafka.enabled",
                "kafka.listen",
                "kafka.tls.cert_file",
                "kafka.tls.key_file",
                "kafka.tls.client_ca_file",
                "admin.listen",
                "admin.max_request_body_bytes",
                "admin.tls.cert_file",
                "admin.tls.key_file",
                "admin.tls.client_ca_file",
                "auth.enabled",
                "auth.allow_insecure_remote",
                "auth.max_tracked_addresses",
                "auth.max_users",
                "auth.max_acls",
                "auth.max_tokens",
                "auth.max_cached_decisions",
                "log.format"
            ]
        );
        assert!(is_reloadable("network.max_connections"));
        assert!(is_reloadable("log.level"));
        assert!(is_reloadable("streams.storage"));
        assert!(!is_reloadable("network.nonsense"));
    }

    #[test]
    fn diff_lists_changed_keys_in_schema_order() {
        let running = Config::default();
        let mut loaded = Config::default();
        loaded.log.level = "debug".into();
        loaded.server.listen = "127.0.0.1:1".into();
        let keys: Vec<&str> = diff(&running, &loaded).iter().map(|c| c.key.name).collect();
        assert_eq!(keys, ["server.listen", "log.level"]);
        assert!(diff(&running, &running).is_empty());
    }

    #[test]
    fn fixed_handle_reload_changes_nothing() {
        let handle = ConfigHandle::fixed(Config::default());
        let rx = handle.subscribe();
        assert_eq!(handle.reload().unwrap(), ReloadReport::default());
        assert!(!rx.has_changed().unwrap());
        assert_eq!(*handle.load(), Config::default());
    }
}
