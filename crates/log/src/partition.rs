//! [`Partition`]: one partition's log. Appends stamp offsets and go to the active segment
//! (kept in RAM, and written to its file for disk partitions); reads are served from RAM or
//! from sealed segment files; the [`Syncer`] makes disk partitions durable.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use memstream_batch::{stamp, stamp_append_time, BatchHeader};

/// The partition leader epoch stamped into every batch: one broker, one epoch until
/// replication gives leaders epochs of their own.
pub const LEADER_EPOCH: i32 = 0;

/// How long a partition fenced by a failed write refuses appends before the next append
/// tries to write again.
pub const WRITE_RETRY_INTERVAL: Duration = Duration::from_secs(1);

/// Lifts a write-failure fence once [`WRITE_RETRY_INTERVAL`] has passed: the active file is
/// cut back to its last whole batch (a failed write may have left part of one), so the next
/// append writes where the log ends. Failing that, the fence stays and the clock restarts.
fn retry_failed_write(st: &mut State) {
    let Some(at) = st.write_failed_at else {
        return;
    };
    if at.elapsed() < WRITE_RETRY_INTERVAL {
        return;
    }
    let Some(active) = st.segments.back() else {
        return;
    };
    let cut = active
        .file
        .as_ref()
        .map_or(Ok(()), |f| f.truncate(active.size_bytes));
    match cut {
        Ok(()) => {
            tracing::info!("retrying writes to a partition fenced by a failed write");
            st.fenced = None;
            st.write_failed_at = None;
        }
        Err(e) => {
            tracing::warn!(error = %e, "partition stays fenced: cannot cut back its active file");
            st.write_failed_at = Some(Instant::now());
        }
    }
}

/// The leader epoch, like the base offset, lies outside the batch checksum; a stored batch
/// must carry an epoch this log could have stamped, so a flipped bit there is caught too.
pub(crate) fn check_leader_epoch(h: &BatchHeader) -> Result<(), String> {
    if (0..=LEADER_EPOCH).contains(&h.partition_leader_epoch) {
        Ok(())
    } else {
        Err(format!(
            "leader epoch {} where at most {LEADER_EPOCH} was stamped",
            h.partition_leader_epoch
        ))
    }
}
use tokio::sync::watch;

use crate::backend::{Backend, BackendFile, FileBackend};
use crate::config::{FsyncPolicy, LiveLimits, LogConfig};
use crate::corrupt::{CorruptRange, CorruptRanges};
use crate::durability::{Disk, SyncStats};
use crate::error::{LogError, RecoveryReport, RetentionReport};
use crate::read::SealedView;
use crate::recovery::{recover, remove_indexes, write_indexes};
use crate::segment::{file_name, BatchMeta, Segment, LOG_SUFFIX};
use crate::syncer::Syncer;
use crate::{lock, retention};

/// Where an appended batch landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendOutcome {
    /// Offset of its first record.
    pub base_offset: u64,
    /// Offset of its last record.
    pub last_offset: u64,
}

/// The result of [`Partition::read`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fetched {
    /// Whole batches, exactly as stored.
    pub batches: Vec<Bytes>,
    /// The offset after the last batch returned (the requested offset if none).
    pub next_offset: u64,
    /// The log's start offset at the time of the read.
    pub start_offset: u64,
    /// The log's end offset at the time of the read.
    pub end_offset: u64,
}

/// The first step of a read ([`Partition::begin_read`]).
pub enum Read {
    /// Answered from RAM.
    Done(Fetched),
    /// The records are in a sealed segment file: finish where blocking is fine.
    Sealed(SealedRead),
}

/// A read that goes on in a sealed segment file (blocking I/O).
pub struct SealedRead {
    fetched: Fetched,
    view: SealedView,
    max_bytes: usize,
    corrupt: Arc<CorruptRanges>,
}

impl SealedRead {
    /// Reads the batches from the file. A corrupt batch is remembered (see
    /// [`Partition::corrupt_ranges`]) and logged the first time it is found.
    pub fn finish(mut self) -> Result<Fetched, LogError> {
        let read = self.view.read(self.fetched.next_offset, self.max_bytes);
        if let Err(LogError::Corrupt {
            segment,
            position,
            reason,
        }) = &read
        {
            let range = CorruptRange {
                from_offset: self.fetched.next_offset,
                segment: segment.clone(),
                position: *position,
                reason: reason.clone(),
            };
            if self.corrupt.record(range) {
                tracing::error!(%segment, position, %reason, offset = self.fetched.next_offset, "corrupt batch in a sealed segment; reads of it fail with CORRUPT_DATA");
            }
        }
        let (batches, next_offset) = read?;
        self.fetched.batches = batches;
        self.fetched.next_offset = next_offset;
        Ok(self.fetched)
    }
}

/// One partition's log. Cloning gives another handle to the same log.
#[derive(Clone)]
pub struct Partition {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = lock(&self.inner.state);
        f.debug_struct("Partition")
            .field("disk", &self.inner.disk.is_some())
            .field("start_offset", &st.start_offset)
            .field("end_offset", &st.end_offset)
            .field("segments", &st.segments.len())
            .field("fenced", &st.fenced)
            .finish()
    }
}

/// The shared state behind every handle.
pub(crate) struct Inner {
    pub config: LogConfig,
    pub state: Mutex<State>,
    /// `None` for memory partitions.
    pub disk: Option<Box<Disk>>,
    /// Corrupt batches found by recovery or reads.
    pub corrupt: Arc<CorruptRanges>,
    /// Records and bytes in and out.
    pub traffic: crate::traffic::Traffic,
}

/// Everything the append lock guards.
pub(crate) struct State {
    /// Oldest first; the last one is the active segment.
    pub segments: VecDeque<Segment>,
    pub start_offset: u64,
    pub end_offset: u64,
    pub size_bytes: u64,
    /// Set by a failed write or fsync; appends are refused from then on (but see
    /// `write_failed_at`).
    pub fenced: Option<String>,
    /// When a failed *write* fenced the partition (disk full, file too large): such a fence
    /// is lifted by the first append after [`WRITE_RETRY_INTERVAL`], which cuts the active
    /// file back to its last whole batch and tries again. A failed fsync is not retried.
    pub write_failed_at: Option<Instant>,
    /// Set by `destroy`.
    pub closed: bool,
    /// Created by the first `subscribe`, so an idle partition does not pay for it.
    pub end_watch: Option<watch::Sender<u64>>,
    /// Sealed segment files written since the last sync.
    pub unsynced: Vec<Arc<dyn BackendFile>>,
    /// Batches appended since the partition was opened.
    pub batches_appended: u64,
    /// Segment size and retention, changed live by `set_limits`.
    pub limits: LiveLimits,
}

impl State {
    fn new(segments: VecDeque<Segment>, limits: LiveLimits) -> State {
        let start_offset = segments.front().map_or(0, |s| s.base_offset);
        let end_offset = segments.back().map_or(0, |s| s.next_offset);
        let size_bytes = segments.iter().map(|s| s.size_bytes).sum();
        State {
            segments,
            start_offset,
            end_offset,
            size_bytes,
            fenced: None,
            write_failed_at: None,
            closed: false,
            end_watch: None,
            unsynced: Vec::new(),
            batches_appended: 0,
            limits,
        }
    }

    fn check_writable(&self) -> Result<(), LogError> {
        if self.closed {
            return Err(LogError::Closed);
        }
        match &self.fenced {
            Some(reason) => Err(LogError::Fenced {
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }

    fn out_of_range(&self, requested: u64) -> LogError {
        LogError::OffsetOutOfRange {
            requested,
            start: self.start_offset,
            end: self.end_offset,
        }
    }
}

/// A batch the caller should have refused: it is not stored.
fn refused(reason: String) -> LogError {
    LogError::Corrupt {
        segment: "(append)".into(),
        position: 0,
        reason,
    }
}

impl Partition {
    /// A partition that lives in RAM only; its size is bounded by retention, which runs at
    /// every segment roll. Allocates nothing but its handle until the first append.
    pub fn open_memory(config: LogConfig) -> Partition {
        let limits = config.live();
        Partition {
            inner: Arc::new(Inner {
                config,
                state: Mutex::new(State::new(VecDeque::new(), limits)),
                disk: None,
                corrupt: Arc::default(),
                traffic: Default::default(),
            }),
        }
    }

    /// Opens (creating if needed) the disk partition in `dir`, recovering what is there.
    pub fn open_disk(
        dir: &Path,
        config: LogConfig,
        syncer: &Syncer,
    ) -> Result<(Partition, RecoveryReport), LogError> {
        let backend = FileBackend::new(dir).map_err(|e| LogError::Io {
            what: format!("create directory {}", dir.display()),
            source: e,
        })?;
        Partition::open_backend(Arc::new(backend), Some(dir), config, syncer)
    }

    /// Opens a disk-like partition stored in `backend` (memory or fault-injecting in tests).
    pub fn open_with(
        backend: Arc<dyn Backend>,
        config: LogConfig,
        syncer: &Syncer,
    ) -> Result<(Partition, RecoveryReport), LogError> {
        Partition::open_backend(backend, None, config, syncer)
    }

    fn open_backend(
        backend: Arc<dyn Backend>,
        dir: Option<&Path>,
        config: LogConfig,
        syncer: &Syncer,
    ) -> Result<(Partition, RecoveryReport), LogError> {
        let (segments, report) = recover(&*backend, &config)?;
        let state = State::new(segments, config.live());
        let corrupt = Arc::new(CorruptRanges::default());
        if let Some((segment, position, reason)) = &report.corrupt {
            // Truncated: the log ends where the bad batch began. Kept (a sealed segment):
            // reads reach it from its segment's first offset at the earliest.
            let from_offset = if report.truncated_bytes > 0 {
                state.end_offset
            } else {
                crate::segment::parse_file_name(segment)
                    .map_or(state.start_offset, |(base, _)| base)
            };
            corrupt.record(CorruptRange {
                from_offset,
                segment: segment.clone(),
                position: *position,
                reason: reason.clone(),
            });
        }
        let disk = Disk::new(backend, syncer.clone(), state.end_offset, dir);
        let inner = Arc::new(Inner {
            config,
            state: Mutex::new(state),
            disk: Some(Box::new(disk)),
            corrupt,
            traffic: Default::default(),
        });
        syncer.register(&inner);
        Ok((Partition { inner }, report))
    }

    /// Stamps `batch` (already checked with `memstream_batch::verify`) with the end
    /// offset and appends it; rolls the active segment first if it is full. Does not sync.
    /// A batch whose producer left its timestamps unset gets the append time
    /// (`memstream_batch::stamp_append_time`).
    pub fn append(&self, mut batch: BytesMut, now_ms: u64) -> Result<AppendOutcome, LogError> {
        let inner = &*self.inner;
        let mut header = BatchHeader::parse(&batch).map_err(|e| refused(e.to_string()))?;
        if header.timestamps_missing {
            stamp_append_time(&mut batch, now_ms);
            header = BatchHeader::parse(&batch).map_err(|e| refused(e.to_string()))?;
        }
        if header.total_len() != batch.len() {
            return Err(refused("batch length disagrees with its header".into()));
        }
        let len = batch.len();
        let outcome = inner.append_locked(&mut lock(&inner.state), batch, &header, now_ms)?;
        inner.traffic.appended(header.record_count, len);
        crate::metrics::APPEND_BATCH_BYTES.observe(len as u64);
        crate::metrics::APPEND_BATCH_RECORDS.observe(u64::from(header.record_count));
        // The sync is requested after the append lock is released.
        if let Some(disk) = &inner.disk {
            match inner.config.fsync {
                FsyncPolicy::Always => {
                    disk.syncer.request(&self.inner);
                }
                FsyncPolicy::Interval { interval_ms } => {
                    disk.syncer.schedule(&self.inner, interval_ms)
                }
                FsyncPolicy::Never => {}
            }
        }
        Ok(outcome)
    }

    /// Seals the active segment now (if it holds anything) and starts a new one.
    pub fn roll(&self, now_ms: u64) -> Result<(), LogError> {
        let mut st = lock(&self.inner.state);
        st.check_writable()?;
        if st.segments.back().is_some_and(|s| s.size_bytes > 0) {
            self.inner.roll_locked(&mut st, now_ms)?;
        }
        Ok(())
    }

    /// Resolves once everything up to and including `offset` is synced; requests a sync now
    /// whatever the policy (shared with every other waiter). `Ok(false)` for memory
    /// partitions, which cannot be durable.
    pub async fn wait_durable(&self, offset: u64) -> Result<bool, LogError> {
        self.inner.wait_durable(&self.inner, offset).await
    }

    /// Whole batches from the one containing `offset`, up to `max_bytes` in total but at least
    /// one if any exists; empty at the end offset. Sealed disk segments are read from their
    /// file and every batch's checksum is verified (`LogError::Corrupt` otherwise).
    pub fn read(&self, offset: u64, max_bytes: usize) -> Result<Fetched, LogError> {
        match self.begin_read(offset, max_bytes)? {
            Read::Done(fetched) => Ok(fetched),
            Read::Sealed(sealed) => sealed.finish(),
        }
    }

    /// [`read`](Self::read) in two steps, for callers that must not block: the part under
    /// the log's lock, which either completes the read from RAM or says that it needs a
    /// sealed segment file, to be finished ([`SealedRead::finish`]) where blocking is fine.
    pub fn begin_read(&self, offset: u64, max_bytes: usize) -> Result<Read, LogError> {
        let st = lock(&self.inner.state);
        if st.closed {
            return Err(LogError::Closed);
        }
        if offset < st.start_offset || offset > st.end_offset {
            return Err(st.out_of_range(offset));
        }
        let mut fetched = Fetched {
            batches: Vec::new(),
            next_offset: offset,
            start_offset: st.start_offset,
            end_offset: st.end_offset,
        };
        let first = st
            .segments
            .partition_point(|s| s.base_offset <= offset)
            .saturating_sub(1);
        let mut used = 0usize;
        let mut from_disk = None;
        for segment in st.segments.iter().skip(first) {
            if fetched.next_offset >= segment.next_offset {
                continue;
            }
            let cursor = fetched.next_offset;
            match segment.read_ram(cursor, max_bytes, &mut fetched.batches, &mut used) {
                Some(progress) => {
                    fetched.next_offset = progress.next_offset;
                    if progress.budget_exhausted {
                        break;
                    }
                }
                None => {
                    if fetched.batches.is_empty() {
                        from_disk = SealedView::for_offset(segment, cursor);
                    }
                    break;
                }
            }
        }
        drop(st);
        Ok(match from_disk {
            Some(view) => Read::Sealed(SealedRead {
                fetched,
                view,
                max_bytes,
                corrupt: self.inner.corrupt.clone(),
            }),
            None => Read::Done(fetched),
        })
    }

    /// First offset of the first batch whose max timestamp is at least `timestamp_ms`; the
    /// end offset if there is none. If a sealed segment cannot be searched (I/O error or
    /// corruption) the answer is a lower bound: the offset its index search started from.
    pub fn offset_for_timestamp(&self, timestamp_ms: u64) -> u64 {
        let st = lock(&self.inner.state);
        let Some(segment) = st
            .segments
            .iter()
            .find(|s| s.size_bytes > 0 && s.max_timestamp_ms >= timestamp_ms)
        else {
            return st.end_offset;
        };
        if let Some(offset) = segment.ram_offset_for_timestamp(timestamp_ms) {
            return offset;
        }
        let Some(view) = SealedView::for_timestamp(segment, timestamp_ms) else {
            return segment.base_offset;
        };
        drop(st);
        view.offset_for_timestamp(timestamp_ms)
            .unwrap_or_else(|| view.start_offset())
    }

    /// First offset still in the log.
    pub fn start_offset(&self) -> u64 {
        lock(&self.inner.state).start_offset
    }

    /// The first offset of the active segment: the log's tail, held in RAM (for disk
    /// partitions, read whole at recovery), so reading from here touches no file.
    pub fn tail_offset(&self) -> u64 {
        let st = lock(&self.inner.state);
        st.segments.back().map_or(st.end_offset, |s| s.base_offset)
    }

    /// Whether the log was destroyed (its stream deleted): nothing more will be appended.
    pub fn is_closed(&self) -> bool {
        lock(&self.inner.state).closed
    }

    /// The offset the next append gets.
    pub fn end_offset(&self) -> u64 {
        lock(&self.inner.state).end_offset
    }

    /// The first offset not yet known to be synced (always 0 for memory partitions).
    pub fn durable_offset(&self) -> u64 {
        self.inner.disk.as_ref().map_or(0, |d| *d.durable.borrow())
    }

    /// Watches the durable offset (disk partitions; `None` for memory ones), without asking
    /// for a sync: for acknowledging appends as the fsync policy makes them durable.
    pub fn subscribe_durable(&self) -> Option<watch::Receiver<u64>> {
        self.inner.disk.as_ref().map(|d| d.durable.subscribe())
    }

    /// How this partition's fsyncs went since it was opened (zeros for memory partitions).
    pub fn sync_stats(&self) -> SyncStats {
        self.inner
            .disk
            .as_ref()
            .map_or_else(SyncStats::default, |d| *lock(&d.stats))
    }

    /// Bytes of batches retained.
    pub fn size_bytes(&self) -> u64 {
        lock(&self.inner.state).size_bytes
    }

    /// Segments held (files on disk, or RAM segments), the active one included.
    pub fn segment_count(&self) -> usize {
        lock(&self.inner.state).segments.len()
    }

    /// Watches the end offset: the value changes after every append. The sender goes away
    /// (`changed()` fails) when the partition is destroyed.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        let mut st = lock(&self.inner.state);
        let end = st.end_offset;
        if st.closed {
            return watch::channel(end).1;
        }
        st.end_watch
            .get_or_insert_with(|| watch::channel(end).0)
            .subscribe()
    }

    /// Corrupt batches found so far (by recovery and by reads), oldest first, at most
    /// [`CORRUPT_RANGES_MAX`](crate::CORRUPT_RANGES_MAX).
    pub fn corrupt_ranges(&self) -> Vec<CorruptRange> {
        self.inner
            .corrupt
            .retain_from(lock(&self.inner.state).start_offset);
        self.inner.corrupt.list()
    }

    /// The segment size and retention in force.
    pub fn limits(&self) -> LiveLimits {
        lock(&self.inner.state).limits
    }

    /// Changes the segment size (for segments rolled from now on; the active one rolls when
    /// it reaches the new size) and retention (applied at the next retention run).
    pub fn set_limits(&self, limits: LiveLimits) {
        lock(&self.inner.state).limits = limits;
    }

    /// Deletes the sealed segments that retention no longer keeps.
    pub fn enforce_retention(&self, now_ms: u64) -> Result<RetentionReport, LogError> {
        let (removed, report) = {
            let mut st = lock(&self.inner.state);
            if st.closed {
                return Err(LogError::Closed);
            }
            self.inner.apply_retention(&mut st, now_ms)
        };
        if let Some(disk) = &self.inner.disk {
            for segment in removed {
                let name = segment.name();
                disk.backend
                    .remove(&name)
                    .map_err(|e| LogError::io("remove", &name, e))?;
                remove_indexes(&*disk.backend, segment.base_offset);
            }
        }
        Ok(report)
    }

    /// Deletes the partition: every file of a disk partition (and its directory, if it was
    /// opened with `open_disk` and is then empty). Other handles get `LogError::Closed`.
    pub fn destroy(self) -> Result<(), LogError> {
        let segments = {
            let mut st = lock(&self.inner.state);
            st.closed = true;
            st.end_watch = None;
            st.unsynced.clear();
            std::mem::take(&mut st.segments)
        };
        drop(segments);
        let Some(disk) = &self.inner.disk else {
            return Ok(());
        };
        disk.wake_waiters();
        let names = disk
            .backend
            .list()
            .map_err(|e| LogError::io("list", ".", e))?;
        for name in names {
            disk.backend
                .remove(&name)
                .map_err(|e| LogError::io("remove", &name, e))?;
        }
        if let Some(dir) = &disk.dir {
            if let Err(e) = std::fs::remove_dir(dir) {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot remove partition directory");
            }
        }
        Ok(())
    }
}

impl Inner {
    /// The part of `append` under the append lock: offsets, roll, write, RAM tail, watch.
    fn append_locked(
        &self,
        st: &mut State,
        mut batch: BytesMut,
        header: &BatchHeader,
        now_ms: u64,
    ) -> Result<AppendOutcome, LogError> {
        retry_failed_write(st);
        st.check_writable()?;
        if self.disk.as_ref().is_some_and(|d| d.syncer.is_shut_down()) {
            return Err(LogError::Closed);
        }
        let base_offset = st.end_offset;
        let last_offset = base_offset
            .checked_add(u64::from(header.last_offset_delta))
            .ok_or_else(|| refused("offsets overflow u64".into()))?;
        let meta = BatchMeta {
            base_offset,
            record_count: header.record_count,
            max_timestamp_ms: header.max_timestamp_ms,
            len: batch.len() as u64,
        };
        let limit = st.limits.segment_limit();
        if st
            .segments
            .back()
            .is_none_or(|s| s.is_full_for(&meta, limit))
        {
            self.roll_locked(st, now_ms)?;
        }
        stamp(&mut batch, base_offset, LEADER_EPOCH);
        let bytes = batch.freeze();
        let Some(active) = st.segments.back_mut() else {
            return Err(LogError::Closed);
        };
        if let Some(file) = &active.file {
            if let Err(e) = file.append(&[&bytes]) {
                let err = LogError::io("write", &active.name(), e);
                tracing::error!(
                    error = %err,
                    retry_after_ms = WRITE_RETRY_INTERVAL.as_millis() as u64,
                    "write failed; partition fenced until a write succeeds again"
                );
                st.fenced.get_or_insert_with(|| err.to_string());
                st.write_failed_at = Some(Instant::now());
                // Appends that wait for an fsync would otherwise wait for one that never
                // comes: they are told the partition is fenced.
                if let Some(disk) = &self.disk {
                    disk.wake_waiters();
                }
                return Err(err);
            }
        }
        active.push(&meta, bytes, self.config.index_interval_bytes);
        // The invariant storage.md states: batches are consecutive, each starting where the
        // log ended, and the log ends after the batch's last record.
        debug_assert_eq!(active.next_offset, last_offset.saturating_add(1));
        debug_assert_eq!(base_offset, st.end_offset);
        st.end_offset = active.next_offset;
        st.size_bytes = st.size_bytes.saturating_add(meta.len);
        st.batches_appended = st.batches_appended.saturating_add(1);
        if let Some(tx) = &st.end_watch {
            tx.send_replace(st.end_offset);
        }
        Ok(AppendOutcome {
            base_offset,
            last_offset,
        })
    }

    /// Seals the active segment (disk: writes its indexes, drops its RAM copy, queues its file
    /// for the next sync) and starts a new one at the end offset.
    fn roll_locked(&self, st: &mut State, now_ms: u64) -> Result<(), LogError> {
        let base = st.end_offset;
        let file = match &self.disk {
            None => None,
            Some(disk) => {
                let name = file_name(base, LOG_SUFFIX);
                let io = |e| LogError::io("create", &name, e);
                let file: Arc<dyn BackendFile> = Arc::from(disk.backend.open(&name).map_err(io)?);
                // A leftover file of that name can only hold bytes recovery cut off.
                if file.len().map_err(io)? > 0 {
                    file.truncate(0).map_err(io)?;
                }
                Some(file)
            }
        };
        let State {
            segments, unsynced, ..
        } = st;
        if let Some(active) = segments.back_mut() {
            if let Some(disk) = &self.disk {
                write_indexes(&*disk.backend, active.base_offset, &active.index);
                active.ram = None;
                unsynced.extend(active.file.clone());
            }
        }
        segments.push_back(Segment::new(base, file));
        if self.disk.is_none() {
            self.apply_retention(st, now_ms);
        }
        Ok(())
    }

    fn apply_retention(&self, st: &mut State, now_ms: u64) -> (Vec<Segment>, RetentionReport) {
        retention::apply(
            &mut st.segments,
            &mut st.size_bytes,
            &mut st.start_offset,
            &st.limits,
            now_ms,
        )
    }
}
