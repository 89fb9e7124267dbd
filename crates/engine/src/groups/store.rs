//! The offset store: every group's committed offsets as one append-only log, written by one
//! thread with group commit, compacted in the background of that thread.
//!
//! Commits from every group and connection queue up for the store's thread, which appends
//! all that are waiting as one write, fsyncs once, and then answers them all: a thousand
//! commits arriving together cost one fsync. When the file has grown to several times what
//! the current state takes, the thread writes that state into the next generation's file
//! (`offsets-<gen>.log`), ending it with a SNAPSHOT record, fsyncs it, and deletes the old
//! one. A file without a SNAPSHOT record is an interrupted compaction and is ignored at
//! open; a torn last record (a crash mid-append) is cut off. See docs/storage.md.
//!
//! The queue is not bounded by itself: every entry is a request some connection is waiting
//! on, so it holds at most `network.max_connections x network.max_in_flight_requests`
//! commits.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use bytes::BytesMut;
use memstream_log::{Backend, BackendFile};
use tokio::sync::oneshot;

use super::error::StoreError;
use super::record::{decode_all, encode, Entry, Op, Stop};

/// The store does not compact a file smaller than this.
pub const COMPACT_MIN_BYTES: u64 = 4 << 20;
/// Most queued operations written (and fsynced) together.
const GROUP_COMMIT_OPS_MAX: usize = 4096;

/// One committed position, with the id of the stream it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    pub stream_id: u64,
    pub offset: u64,
    /// The client's metadata string (Kafka), if any.
    pub metadata: Option<std::sync::Arc<str>>,
}

/// One group's stored offsets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupOffsets {
    pub offsets: BTreeMap<(String, u32), Committed>,
    /// Wall-clock ms of the last commit.
    pub last_commit_ms: u64,
}

/// Everything stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stored {
    pub groups: BTreeMap<String, GroupOffsets>,
}

impl Stored {
    fn apply(&mut self, op: &Op, at_ms: u64) {
        match op {
            Op::Commit { group, entries } => {
                let g = self.groups.entry(group.clone()).or_default();
                for e in entries {
                    g.offsets.insert(
                        (e.stream.clone(), e.partition),
                        Committed {
                            stream_id: e.stream_id,
                            offset: e.offset,
                            metadata: e.metadata.as_deref().map(Into::into),
                        },
                    );
                }
                g.last_commit_ms = g.last_commit_ms.max(at_ms);
            }
            Op::Delete { group } => {
                self.groups.remove(group);
            }
            Op::Forget { stream_id } => {
                for g in self.groups.values_mut() {
                    g.offsets.retain(|_, c| c.stream_id != *stream_id);
                }
            }
            Op::Snapshot => {}
        }
    }

    /// The state as records: one COMMIT per group (stamped with its last commit time), then
    /// the SNAPSHOT marker.
    fn snapshot(&self, now_ms: u64) -> BytesMut {
        let mut buf = BytesMut::new();
        for (group, g) in &self.groups {
            let entries: Vec<Entry> = g
                .offsets
                .iter()
                .map(|((stream, partition), c)| Entry {
                    stream: stream.clone(),
                    stream_id: c.stream_id,
                    partition: *partition,
                    offset: c.offset,
                    metadata: c.metadata.as_deref().map(str::to_owned),
                })
                .collect();
            // A COMMIT holds at most 65,535 entries; a larger group takes several.
            for chunk in entries.chunks(usize::from(u16::MAX)) {
                let op = Op::Commit {
                    group: group.clone(),
                    entries: chunk.to_vec(),
                };
                encode(&mut buf, &op, g.last_commit_ms);
            }
        }
        encode(&mut buf, &Op::Snapshot, now_ms);
        buf
    }
}

/// Counters for metrics and benchmarks.
#[derive(Debug, Default)]
pub struct StoreStats {
    /// Operations made durable.
    pub ops: AtomicU64,
    /// fsyncs of the store's file.
    pub fsyncs: AtomicU64,
    /// Compactions done.
    pub compactions: AtomicU64,
}

struct Queued {
    op: Op,
    done: Option<oneshot::Sender<Result<(), StoreError>>>,
}

/// The running store.
pub struct OffsetStore {
    tx: Mutex<Option<mpsc::Sender<Queued>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    pub stats: Arc<StoreStats>,
}

fn file_name(generation: u64) -> String {
    format!("offsets-{generation:020}.log")
}

fn generation_of(name: &str) -> Option<u64> {
    name.strip_prefix("offsets-")?
        .strip_suffix(".log")?
        .parse()
        .ok()
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn read_whole(file: &dyn BackendFile) -> std::io::Result<Vec<u8>> {
    let len = usize::try_from(file.len()?).map_err(std::io::Error::other)?;
    let mut buf = vec![0; len];
    file.read_at(0, &mut buf)?;
    Ok(buf)
}

impl OffsetStore {
    /// Opens (or creates) the store in `backend` and starts its thread; returns what it holds.
    pub fn open(backend: Arc<dyn Backend>) -> Result<(OffsetStore, Stored), String> {
        let io = |what: &str, e: std::io::Error| format!("offset store: {what}: {e}");
        let mut generations: Vec<u64> = backend
            .list()
            .map_err(|e| io("list", e))?
            .iter()
            .filter_map(|n| generation_of(n))
            .collect();
        generations.sort_unstable();
        let mut chosen = None;
        while let Some(generation) = generations.pop() {
            let name = file_name(generation);
            let file = backend.open(&name).map_err(|e| io(&name, e))?;
            let bytes = read_whole(&*file).map_err(|e| io(&name, e))?;
            let (ops, used, stop) = decode_all(&bytes);
            if !ops.iter().any(|(op, _)| *op == Op::Snapshot) {
                tracing::warn!(file = %name, "removing an offset store file whose compaction did not finish");
                drop(file);
                backend.remove(&name).map_err(|e| io(&name, e))?;
                continue;
            }
            match stop {
                Stop::End => {}
                Stop::Torn => {
                    tracing::warn!(file = %name, cut_bytes = bytes.len() - used, "offset store: cutting a torn last record");
                }
                Stop::Corrupt(reason) => {
                    tracing::error!(file = %name, position = used, %reason, cut_bytes = bytes.len() - used, "offset store: corrupt record; the commits after it are lost");
                }
            }
            if used < bytes.len() {
                file.truncate(used as u64).map_err(|e| io(&name, e))?;
                file.sync().map_err(|e| io(&name, e))?;
            }
            let mut stored = Stored::default();
            for (op, at) in &ops {
                stored.apply(op, *at);
            }
            chosen = Some((generation, file, stored));
            break;
        }
        // Older generations are superseded by the chosen one.
        for generation in generations {
            let name = file_name(generation);
            backend.remove(&name).map_err(|e| io(&name, e))?;
        }
        let (generation, file, stored) = match chosen {
            Some(found) => found,
            None => {
                let name = file_name(0);
                let file = backend.open(&name).map_err(|e| io(&name, e))?;
                let snapshot = Stored::default().snapshot(now_ms());
                file.append(&[&snapshot]).map_err(|e| io(&name, e))?;
                file.sync().map_err(|e| io(&name, e))?;
                (0, file, Stored::default())
            }
        };
        let stats = Arc::new(StoreStats::default());
        let (tx, rx) = mpsc::channel();
        let writer = Writer {
            backend,
            generation,
            file,
            stored: stored.clone(),
            stats: stats.clone(),
        };
        let thread = std::thread::Builder::new()
            .name("memstream-offsets".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| io("start thread", e))?;
        Ok((
            OffsetStore {
                tx: Mutex::new(Some(tx)),
                thread: Mutex::new(Some(thread)),
                stats,
            },
            stored,
        ))
    }

    /// Queues `op`; the receiver resolves once it is durable (or failed).
    pub fn submit(&self, op: Op) -> oneshot::Receiver<Result<(), StoreError>> {
        let (done, rx) = oneshot::channel();
        let tx = self.tx.lock().unwrap_or_else(PoisonError::into_inner);
        let queued = Queued {
            op,
            done: Some(done),
        };
        match tx.as_ref() {
            Some(tx) => {
                if let Err(mpsc::SendError(q)) = tx.send(queued) {
                    if let Some(done) = q.done {
                        let _ = done.send(Err(StoreError::ShutDown));
                    }
                }
            }
            None => {
                if let Some(done) = queued.done {
                    let _ = done.send(Err(StoreError::ShutDown));
                }
            }
        }
        rx
    }

    /// Writes what is queued and stops the thread. Idempotent.
    pub fn shutdown(&self) {
        drop(
            self.tx
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        if let Some(thread) = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let _ = thread.join();
        }
    }
}

impl Drop for OffsetStore {
    fn drop(&mut self) {
        self.shutdown();
    }
}

struct Writer {
    backend: Arc<dyn Backend>,
    generation: u64,
    file: Box<dyn BackendFile>,
    stored: Stored,
    stats: Arc<StoreStats>,
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Queued>) {
        let mut compact_at = COMPACT_MIN_BYTES;
        let mut buf = BytesMut::new();
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first];
            while batch.len() < GROUP_COMMIT_OPS_MAX {
                match rx.try_recv() {
                    Ok(q) => batch.push(q),
                    Err(_) => break,
                }
            }
            let at = now_ms();
            buf.clear();
            for q in &batch {
                encode(&mut buf, &q.op, at);
            }
            let result = self.append(&buf);
            if result.is_ok() {
                for q in &batch {
                    self.stored.apply(&q.op, at);
                }
                self.stats
                    .ops
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
            }
            for q in batch {
                if let Some(done) = q.done {
                    let _ = done.send(result.clone());
                }
            }
            if let Ok(len) = self.file.len() {
                if len >= compact_at {
                    compact_at = self.compact(len).max(COMPACT_MIN_BYTES);
                }
            }
        }
    }

    /// Appends and fsyncs `bytes`; on failure cuts the file back so a later append starts on
    /// a record boundary.
    fn append(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        let before = self.file.len().map_err(|e| StoreError::io("size", e))?;
        let written = self.file.append(&[bytes]).and_then(|()| self.file.sync());
        self.stats.fsyncs.fetch_add(1, Ordering::Relaxed);
        written.map_err(|e| {
            tracing::error!(error = %e, "offset store write failed; the commits are refused");
            let _ = self.file.truncate(before);
            StoreError::io("append", e)
        })
    }

    /// Rewrites the state into the next generation when that saves at least half the file;
    /// returns the size at which to look again.
    fn compact(&mut self, len: u64) -> u64 {
        let snapshot = self.stored.snapshot(now_ms());
        let size = snapshot.len() as u64;
        if size * 2 > len {
            return len * 2;
        }
        let next = self.generation + 1;
        let name = file_name(next);
        let written = self.backend.open(&name).and_then(|file| {
            file.truncate(0)?;
            file.append(&[&snapshot])?;
            file.sync()?;
            Ok(file)
        });
        match written {
            Ok(file) => {
                let old = file_name(self.generation);
                self.file = file;
                self.generation = next;
                if let Err(e) = self.backend.remove(&old) {
                    tracing::warn!(file = %old, error = %e, "cannot remove the compacted offset store file");
                }
                self.stats.compactions.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(from_bytes = len, to_bytes = size, "offset store compacted");
                size * 4
            }
            Err(e) => {
                tracing::warn!(error = %e, "offset store compaction failed; will try again later");
                let _ = self.backend.remove(&name);
                len * 2
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use memstream_log::{FaultyBackend, MemoryBackend};

    use super::*;

    fn commit(group: &str, partition: u32, offset: u64) -> Op {
        Op::Commit {
            group: group.into(),
            entries: vec![Entry {
                stream: "orders".into(),
                stream_id: 9,
                partition,
                offset,
                metadata: None,
            }],
        }
    }

    fn offset_of(stored: &Stored, group: &str, partition: u32) -> Option<u64> {
        stored
            .groups
            .get(group)?
            .offsets
            .get(&("orders".to_owned(), partition))
            .map(|c| c.offset)
    }

    async fn durable(store: &OffsetStore, op: Op) -> Result<(), StoreError> {
        store.submit(op).await.expect("the store answers")
    }

    #[tokio::test]
    async fn acknowledged_commits_survive_power_loss_and_unacknowledged_ones_may_not() {
        let faulty = FaultyBackend::new(Arc::new(MemoryBackend::new()));
        let backend: Arc<dyn Backend> = Arc::new(faulty.clone());
        let (store, _) = OffsetStore::open(backend.clone()).unwrap();
        for offset in 1..=50 {
            durable(&store, commit("g", offset as u32 % 3, offset))
                .await
                .unwrap();
        }
        durable(
            &store,
            Op::Delete {
                group: "gone".into(),
            },
        )
        .await
        .unwrap();
        // The next write tears halfway and fails: its commit is refused, not half-stored.
        faulty.tear_write(1, 10);
        assert!(durable(&store, commit("g", 0, 999)).await.is_err());
        faulty.heal();
        durable(&store, commit("g", 1, 1000)).await.unwrap();
        store.shutdown();
        faulty.crash().unwrap();

        let (store, stored) = OffsetStore::open(backend).unwrap();
        assert_eq!(
            offset_of(&stored, "g", 0),
            Some(48),
            "the refused 999 is not there"
        );
        assert_eq!(offset_of(&stored, "g", 1), Some(1000));
        assert_eq!(offset_of(&stored, "g", 2), Some(50));
        drop(store);
    }

    #[tokio::test]
    async fn commits_waiting_together_share_fsyncs() {
        let (store, _) = OffsetStore::open(Arc::new(MemoryBackend::new())).unwrap();
        let waiting: Vec<_> = (0..2_000u64)
            .map(|i| store.submit(commit(&format!("g{}", i % 100), 0, i)))
            .collect();
        for w in waiting {
            w.await.unwrap().unwrap();
        }
        let ops = store.stats.ops.load(Ordering::Relaxed);
        let fsyncs = store.stats.fsyncs.load(Ordering::Relaxed);
        assert_eq!(ops, 2_000);
        // Queued before the thread could write them one by one: at most one fsync each, and
        // in practice a handful in all (the exact figure depends on scheduling).
        assert!(fsyncs <= ops, "{fsyncs} fsyncs for {ops} commits");
        println!("group commit: {ops} commits, {fsyncs} fsyncs");
    }

    #[tokio::test]
    async fn compaction_keeps_the_state_and_an_interrupted_one_is_ignored() {
        let memory = MemoryBackend::new();
        let backend: Arc<dyn Backend> = Arc::new(memory.clone());
        let (store, _) = OffsetStore::open(backend.clone()).unwrap();
        // Enough rewrites of the same few offsets to pass COMPACT_MIN_BYTES several times.
        let mut last = 0;
        while store.stats.compactions.load(Ordering::Relaxed) < 2 {
            last += 1;
            let waiting: Vec<_> = (0..500)
                .map(|p| store.submit(commit("g", p % 10, last)))
                .collect();
            for w in waiting {
                w.await.unwrap().unwrap();
            }
        }
        store.shutdown();
        let files: Vec<String> = memory.list().unwrap();
        assert_eq!(
            files.len(),
            1,
            "the compacted generations are removed: {files:?}"
        );
        let len = memory.contents(&files[0]).unwrap().len() as u64;
        assert!(len < COMPACT_MIN_BYTES, "{len} bytes after compaction");
        // A next generation cut short (no SNAPSHOT record) is ignored and removed.
        let next = generation_of(&files[0]).unwrap() + 1;
        let partial = memory.open(&file_name(next)).unwrap();
        let mut junk = BytesMut::new();
        encode(&mut junk, &commit("g", 0, 1), 0);
        partial.append(&[&junk]).unwrap();
        let (_store, stored) = OffsetStore::open(backend).unwrap();
        for p in 0..10 {
            assert_eq!(offset_of(&stored, "g", p), Some(last));
        }
        assert_eq!(memory.list().unwrap(), files);
    }
}
