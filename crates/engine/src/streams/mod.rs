//! Streams: the registry of named, partitioned logs, their durable definitions, and the
//! operations handlers call (create, delete, list, describe, append; `alter` changes a
//! stream's settings live, `add_partitions` grows it).
//!
//! Files: `<data_dir>/streams/<name>/meta.toml` holds a stream's definition; disk partitions
//! live in `<data_dir>/streams/<name>/<partition:05>/` (see `docs/storage.md`).

mod alter;
mod error;
mod grow;
mod meta;
mod producer;
pub mod producer_ids;
mod settings;
mod stream;
mod types;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use memstream_log::{Partition, Syncer};
use memstream_names::validate_stream_name;

pub use error::StreamError;
pub use meta::StreamMeta;
pub use settings::Effective;
pub use stream::{AppendLimits, Appended, Stream, StreamPartition};
pub use types::{
    Alterable, Fsync, NewStream, PartitionState, Placement, SettingChange, SettingsOverrides,
    Storage, StreamInfo, StreamSummary,
};

use crate::config::StreamsConfig;

/// Every stream of the server.
pub struct Streams {
    root: PathBuf,
    syncer: Syncer,
    streams: RwLock<HashMap<String, Arc<Stream>>>,
    /// Serialises creates and deletes (which do disk I/O) without blocking lookups.
    admin: Mutex<()>,
    /// Bumped after every create and every growth, so subscriptions can pick up new streams
    /// and partitions.
    created: tokio::sync::watch::Sender<u64>,
    /// Idempotent producer ids handed out by INIT_PRODUCER.
    producer_ids: producer_ids::ProducerIds,
}

impl Streams {
    /// Opens every stored stream under `<data_dir>/streams`, recovering disk partitions.
    pub fn open(
        data_dir: &Path,
        sync_threads: usize,
        producers_max: usize,
    ) -> Result<Streams, String> {
        let root = data_dir.join("streams");
        let syncer = Syncer::new(sync_threads.max(1));
        let mut streams = HashMap::new();
        for meta in meta::load_all(&root)? {
            let logs = open_partitions(&root, &meta, 0..meta.partitions, &syncer)
                .map_err(|e| format!("stream `{}`: {e}", meta.name))?;
            tracing::info!(stream = %meta.name, partitions = meta.partitions, storage = ?meta.settings.storage, "stream opened");
            streams.insert(
                meta.name.clone(),
                Arc::new(Stream::new(meta, logs, producers_max)),
            );
        }
        let producer_ids = producer_ids::ProducerIds::open(data_dir)?;
        Ok(Streams {
            root,
            syncer,
            streams: RwLock::new(streams),
            admin: Mutex::new(()),
            created: tokio::sync::watch::Sender::new(0),
            producer_ids,
        })
    }

    /// A fresh idempotent producer id (and epoch 0); blocking now and then (it reserves ids
    /// durably in blocks).
    pub fn init_producer(&self) -> Result<i64, StreamError> {
        self.producer_ids.allocate()
    }

    /// Every stream whose name matches `pattern`, by name.
    pub fn matching(&self, pattern: &memstream_names::Pattern) -> Vec<Arc<Stream>> {
        let mut out: Vec<Arc<Stream>> = self
            .streams
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .filter(|s| pattern.matches(s.name()))
            .cloned()
            .collect();
        out.sort_by(|a, b| a.name().cmp(b.name()));
        out
    }

    /// Changes whenever a stream is created or gains partitions.
    pub fn watch_created(&self) -> tokio::sync::watch::Receiver<u64> {
        self.created.subscribe()
    }

    /// The stream called `name`.
    pub fn get(&self, name: &str) -> Result<Arc<Stream>, StreamError> {
        self.streams
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned()
            .ok_or_else(|| StreamError::NotFound(name.to_owned()))
    }

    /// Creates a stream; blocking (disk I/O): call from a blocking context.
    /// `max_frame_bytes` is the front-end's frame limit: a stream's batches must fit it.
    pub fn create(
        &self,
        req: &NewStream,
        cfg: &StreamsConfig,
        max_frame_bytes: u32,
    ) -> Result<Arc<Stream>, StreamError> {
        let _admin = self.admin.lock().unwrap_or_else(PoisonError::into_inner);
        let (partitions, settings) = self.check_create_locked(req, cfg, max_frame_bytes)?;
        let meta = StreamMeta {
            name: req.name.clone(),
            id: meta::new_stream_id(),
            partitions,
            settings,
            overrides: req.settings.clone(),
        };
        meta::save(&self.root, &meta).map_err(|source| StreamError::Storage {
            what: "write the definition of",
            path: meta::stream_dir(&self.root, &meta.name),
            source,
        })?;
        let logs = match open_partitions(&self.root, &meta, 0..meta.partitions, &self.syncer) {
            Ok(logs) => logs,
            Err(e) => {
                let _ = meta::remove(&self.root, &meta.name);
                return Err(e);
            }
        };
        let producers_max = cfg.max_producers_per_partition as usize;
        let stream = Arc::new(Stream::new(meta, logs, producers_max));
        self.streams
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(req.name.clone(), stream.clone());
        self.created.send_modify(|generation| *generation += 1);
        tracing::info!(stream = %req.name, partitions, "stream created");
        Ok(stream)
    }

    /// Everything [`create`](Self::create) checks, creating nothing: the partition count and
    /// the settings the stream would get, or why it would be refused (a request to validate
    /// only).
    pub fn check_create(
        &self,
        req: &NewStream,
        cfg: &StreamsConfig,
        max_frame_bytes: u32,
    ) -> Result<(u32, Effective), StreamError> {
        let _admin = self.admin.lock().unwrap_or_else(PoisonError::into_inner);
        self.check_create_locked(req, cfg, max_frame_bytes)
    }

    /// [`check_create`](Self::check_create) under the admin lock.
    fn check_create_locked(
        &self,
        req: &NewStream,
        limits: &StreamsConfig,
        max_frame_bytes: u32,
    ) -> Result<(u32, Effective), StreamError> {
        validate_stream_name(&req.name).map_err(|reason| StreamError::InvalidName {
            name: req.name.clone(),
            reason,
        })?;
        let partitions = if req.partitions == 0 {
            limits.partitions
        } else {
            req.partitions
        };
        crate::OutOfRange::check(
            "partitions",
            partitions.into(),
            (1, limits.max_partitions_per_stream.into()),
            "streams.max_partitions_per_stream",
        )?;
        let settings = Effective::resolve(&req.settings, limits, max_frame_bytes)?;
        let streams = self.streams.read().unwrap_or_else(PoisonError::into_inner);
        if streams.contains_key(&req.name) {
            return Err(StreamError::AlreadyExists(req.name.clone()));
        }
        if streams.len() >= limits.max_streams as usize {
            return Err(StreamError::LimitReached {
                limit: "streams.max_streams",
                max: limits.max_streams.into(),
            });
        }
        check_total(&streams, partitions, limits)?;
        Ok((partitions, settings))
    }

    /// Deletes a stream and its data; blocking (disk I/O). Returns the deleted stream's id.
    pub fn delete(&self, name: &str) -> Result<u64, StreamError> {
        let _admin = self.admin.lock().unwrap_or_else(PoisonError::into_inner);
        let stream = self
            .streams
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(name)
            .ok_or_else(|| StreamError::NotFound(name.to_owned()))?;
        meta::remove(&self.root, name).map_err(|source| StreamError::Storage {
            what: "remove",
            path: meta::stream_dir(&self.root, name),
            source,
        })?;
        for p in stream.partitions().iter() {
            match p.log.clone().destroy() {
                Ok(()) => {}
                // The stream's directory went first (above): nothing was left to remove.
                Err(memstream_log::LogError::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(stream = name, error = %e, "cannot remove partition files")
                }
            }
        }
        tracing::info!(stream = name, "stream deleted");
        Ok(stream.id())
    }

    /// The stream with the largest `max_message_bytes`, and that limit: the frames that carry
    /// its batches to consumers must keep room for it.
    pub fn largest_message_limit(&self) -> Option<(String, u64)> {
        let streams = self.streams.read().unwrap_or_else(PoisonError::into_inner);
        streams
            .values()
            .map(|s| (s.name().to_owned(), s.meta().settings.max_message_bytes))
            .max_by_key(|(_, limit)| *limit)
    }

    /// Every stream, by name.
    pub fn list(&self) -> Vec<StreamSummary> {
        let streams = self.streams.read().unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<StreamSummary> = streams
            .values()
            .map(|s| StreamSummary {
                name: s.name().to_owned(),
                partitions: s.partition_count(),
                storage: s.meta().settings.storage,
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// Prometheus text for the fsyncs of every disk partition: how many, and how many batches
    /// they made durable (their ratio is the group-commit size).
    pub fn render_sync_metrics(&self) -> String {
        use std::fmt::Write;
        let streams = self.streams.read().unwrap_or_else(PoisonError::into_inner);
        let mut names: Vec<&String> = streams.keys().collect();
        names.sort();
        let mut fsyncs = String::from(
            "# HELP memstream_log_fsyncs_total Completed fsyncs of a disk partition.\n\
             # TYPE memstream_log_fsyncs_total counter\n",
        );
        let mut batches = String::from(
            "# HELP memstream_log_fsync_batches_total Batches made durable by those fsyncs.\n\
             # TYPE memstream_log_fsync_batches_total counter\n",
        );
        for name in names {
            let stream = &streams[name];
            if stream.meta().settings.is_memory() {
                continue;
            }
            let label = name.replace('\\', "\\\\").replace('"', "\\\"");
            for (p, partition) in stream.partitions().iter().enumerate() {
                let stats = partition.log.sync_stats();
                let _ = writeln!(
                    fsyncs,
                    "memstream_log_fsyncs_total{{stream=\"{label}\",partition=\"{p}\"}} {}",
                    stats.fsyncs
                );
                let _ = writeln!(
                    batches,
                    "memstream_log_fsync_batches_total{{stream=\"{label}\",partition=\"{p}\"}} {}",
                    stats.batches
                );
            }
        }
        fsyncs + &batches
    }

    /// Settings and per-partition offsets of a stream.
    pub fn describe(&self, name: &str) -> Result<StreamInfo, StreamError> {
        let stream = self.get(name)?;
        Ok(StreamInfo {
            name: stream.name().to_owned(),
            id: stream.id(),
            settings: stream.meta().settings.clone(),
            partitions: stream
                .partitions()
                .iter()
                .enumerate()
                .map(|(i, p)| PartitionState {
                    partition: i as u32,
                    start_offset: p.log.start_offset(),
                    end_offset: p.log.end_offset(),
                    durable_offset: p.log.durable_offset(),
                    size_bytes: p.log.size_bytes(),
                    segments: p.log.segment_count(),
                    corrupt: p.log.corrupt_ranges(),
                })
                .collect(),
        })
    }

    /// Applies retention to every partition of every stream.
    pub fn enforce_retention(&self, now_ms: u64) {
        let streams: Vec<Arc<Stream>> = self
            .streams
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        for stream in streams {
            for (i, p) in stream.partitions().iter().enumerate() {
                match p.log.enforce_retention(now_ms) {
                    Ok(r) if r.segments_deleted > 0 => tracing::info!(
                        stream = stream.name(),
                        partition = i,
                        segments = r.segments_deleted,
                        bytes = r.bytes_deleted,
                        start_offset = r.new_start_offset,
                        "retention removed old segments"
                    ),
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(stream = stream.name(), partition = i, error = %e, "retention failed")
                    }
                }
                let dropped = p.drop_expired_producers();
                if dropped > 0 {
                    tracing::debug!(
                        stream = stream.name(),
                        partition = i,
                        dropped,
                        "producer states of deleted batches dropped"
                    );
                }
            }
        }
    }

    /// Flushes what the fsync threads still owe and stops them.
    pub fn shutdown(&self) {
        self.syncer.shutdown();
    }
}

/// Refuses `adding` partitions when the streams would then have more than
/// `streams.max_partitions_total` in all.
fn check_total(
    streams: &HashMap<String, Arc<Stream>>,
    adding: u32,
    limits: &StreamsConfig,
) -> Result<(), StreamError> {
    let total: u64 = streams
        .values()
        .map(|s| u64::from(s.partition_count()))
        .sum();
    if total.saturating_add(u64::from(adding)) > u64::from(limits.max_partitions_total) {
        return Err(StreamError::LimitReached {
            limit: "streams.max_partitions_total",
            max: limits.max_partitions_total.into(),
        });
    }
    Ok(())
}

/// Opens (creating when new) the partition logs `which` of a stream.
fn open_partitions(
    root: &Path,
    meta: &StreamMeta,
    which: std::ops::Range<u32>,
    syncer: &Syncer,
) -> Result<Vec<Partition>, StreamError> {
    let config = meta.settings.log_config();
    which
        .map(|p| {
            if meta.settings.is_memory() {
                return Ok(Partition::open_memory(config.clone()));
            }
            let dir = meta::partition_dir(root, &meta.name, p);
            std::fs::create_dir_all(&dir).map_err(|source| StreamError::Storage {
                what: "create",
                path: dir.clone(),
                source,
            })?;
            let (log, report) = Partition::open_disk(&dir, config.clone(), syncer)?;
            if let Some((segment, position, reason)) = &report.corrupt {
                if report.truncated_bytes > 0 {
                    tracing::error!(
                        stream = %meta.name, partition = p, %segment, position, %reason,
                        truncated_bytes = report.truncated_bytes,
                        "corrupt batch found during recovery; the log was truncated before it"
                    );
                } else {
                    tracing::error!(
                        stream = %meta.name, partition = p, %segment, position, %reason,
                        "corrupt batch found during recovery; nothing was truncated, and reads \
                         that reach it fail with CORRUPT_DATA"
                    );
                }
            } else if report.truncated_bytes > 0 {
                tracing::warn!(stream = %meta.name, partition = p, truncated_bytes = report.truncated_bytes, "torn tail truncated during recovery");
            }
            Ok(log)
        })
        .collect()
}

/// Reads `log` from `offset`: from RAM right here, or, when the read reaches into a sealed
/// segment file, on the blocking pool, so a cold disk read never stalls a runtime thread.
pub async fn read_off_runtime(
    log: &memstream_log::Partition,
    offset: u64,
    max_bytes: usize,
) -> Result<memstream_log::Fetched, memstream_log::LogError> {
    match log.begin_read(offset, max_bytes)? {
        memstream_log::Read::Done(fetched) => Ok(fetched),
        memstream_log::Read::Sealed(sealed) => tokio::task::spawn_blocking(move || sealed.finish())
            .await
            .unwrap_or_else(|e| {
                Err(memstream_log::LogError::Io {
                    what: "read of a sealed segment".into(),
                    source: std::io::Error::other(e.to_string()),
                })
            }),
    }
}
