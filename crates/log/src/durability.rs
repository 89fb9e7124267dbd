//! Durability of a disk partition: the durable offset, syncing (run by the [`Syncer`]),
//! fencing after a failed write or fsync, and `wait_durable`.
//!
//! A sync captures, under the append lock, the end offset and the files written since the
//! last sync (sealed segments, then the active one), releases the lock, fsyncs those files in
//! offset order, and only then advances the durable offset to the captured end. So every
//! append that finished before a sync starts is covered by it (group commit), appends go on
//! during the fsync, and the durable offset is always a prefix of the log.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::backend::Backend;
use crate::error::LogError;
use crate::lock;
use crate::partition::Inner;
use crate::syncer::{SyncSchedule, Syncer};

/// The parts only a disk partition has.
pub(crate) struct Disk {
    pub backend: Arc<dyn Backend>,
    pub syncer: Syncer,
    /// The first offset not yet synced; waiters watch it. Also pinged (unchanged) to wake
    /// waiters when the partition is fenced or closed.
    pub durable: watch::Sender<u64>,
    /// Where this partition stands in the Syncer's queue.
    pub schedule: Mutex<SyncSchedule>,
    /// Held for the whole of a sync, so two syncs of one partition never overlap.
    pub sync_lock: Mutex<()>,
    /// The directory, when opened with `open_disk` (removed by `destroy`).
    pub dir: Option<PathBuf>,
    /// Counts of completed syncs, for metrics.
    pub stats: Mutex<SyncStats>,
}

/// What a disk partition's fsyncs achieved: with group commit one fsync makes many batches
/// durable, and `batches / fsyncs` is the average group size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncStats {
    /// Completed syncs that had something to sync.
    pub fsyncs: u64,
    /// Batches those syncs made durable.
    pub batches: u64,
}

impl Disk {
    pub fn new(
        backend: Arc<dyn Backend>,
        syncer: Syncer,
        durable: u64,
        dir: Option<&Path>,
    ) -> Disk {
        Disk {
            backend,
            syncer,
            durable: watch::channel(durable).0,
            schedule: Mutex::default(),
            sync_lock: Mutex::new(()),
            dir: dir.map(Path::to_path_buf),
            stats: Mutex::default(),
        }
    }

    /// Wakes every `wait_durable` so it re-checks fencing and closing.
    pub fn wake_waiters(&self) {
        self.durable.send_modify(|_| {});
    }
}

impl Inner {
    /// Syncs everything appended so far, if anything is unsynced. Never called with the
    /// append lock held; fences the partition if an fsync fails.
    pub(crate) fn sync_now(&self) {
        let Some(disk) = &self.disk else {
            return;
        };
        let _one_at_a_time = lock(&disk.sync_lock);
        let (target, batches, files) = {
            let mut st = lock(&self.state);
            if st.closed || st.fenced.is_some() {
                return;
            }
            if st.end_offset <= *disk.durable.borrow() && st.unsynced.is_empty() {
                return;
            }
            let mut files = std::mem::take(&mut st.unsynced);
            files.extend(st.segments.back().and_then(|s| s.file.clone()));
            (st.end_offset, st.batches_appended, files)
        };
        let started = std::time::Instant::now();
        for file in &files {
            if let Err(e) = file.sync() {
                self.fence(format!("fsync failed: {e}"));
                return;
            }
        }
        crate::metrics::FSYNC_LATENCY_US.observe_duration(started.elapsed());
        {
            // Batches appended before the sync started are the ones it covered.
            let mut stats = lock(&disk.stats);
            stats.fsyncs = stats.fsyncs.saturating_add(1);
            stats.batches = stats.batches.max(batches);
        }
        // The durable offset is a prefix of the log: never past its end.
        debug_assert!(target <= lock(&self.state).end_offset);
        disk.durable.send_if_modified(|durable| {
            let advance = target > *durable;
            if advance {
                *durable = target;
            }
            advance
        });
    }

    /// Refuses further appends and wakes waiters.
    pub(crate) fn fence(&self, reason: String) {
        tracing::error!(%reason, "partition fenced");
        {
            let mut st = lock(&self.state);
            st.fenced.get_or_insert(reason);
            // A failed fsync may have lost written pages: no retry lifts this fence.
            st.write_failed_at = None;
        }
        if let Some(disk) = &self.disk {
            disk.wake_waiters();
        }
    }

    /// See `Partition::wait_durable`. `this` is the `Arc` holding `self`, for the Syncer.
    pub(crate) async fn wait_durable(
        &self,
        this: &Arc<Inner>,
        offset: u64,
    ) -> Result<bool, LogError> {
        let Some(disk) = &self.disk else {
            return Ok(false);
        };
        let mut durable = disk.durable.subscribe();
        {
            let st = lock(&self.state);
            if offset >= st.end_offset {
                return Err(LogError::OffsetOutOfRange {
                    requested: offset,
                    start: st.start_offset,
                    end: st.end_offset,
                });
            }
        }
        let mut requested = false;
        loop {
            if *durable.borrow_and_update() > offset {
                return Ok(true);
            }
            {
                let st = lock(&self.state);
                if let Some(reason) = &st.fenced {
                    return Err(LogError::Fenced {
                        reason: reason.clone(),
                    });
                }
                if st.closed {
                    return Err(LogError::Closed);
                }
            }
            if !requested {
                requested = true;
                if !disk.syncer.request(this) {
                    return Err(LogError::Closed);
                }
            } else if disk.syncer.is_shut_down() {
                return Err(LogError::Closed);
            }
            if durable.changed().await.is_err() {
                return Err(LogError::Closed);
            }
        }
    }
}
