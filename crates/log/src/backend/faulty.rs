//! [`FaultyBackend`]: wraps another backend to inject failures and power loss.
//!
//! It tracks, per file, how many bytes were covered by the last successful `sync`. `crash()`
//! models power loss: every file is cut back to its synced length (a file never synced keeps
//! only what it had when this wrapper first opened it, usually nothing) and every handle opened
//! before the crash fails from then on, as if its process had died.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};

use super::{Backend, BackendFile};
use crate::lock;

/// A fault-injecting wrapper. Clones share the same faults and counters.
#[derive(Clone)]
pub struct FaultyBackend {
    inner: Arc<dyn Backend>,
    faults: Arc<Mutex<Faults>>,
}

#[derive(Default)]
struct Faults {
    /// Bumped by `crash`; handles from an older epoch fail.
    epoch: u64,
    /// Durable length of each file this wrapper has seen.
    synced: HashMap<String, u64>,
    writes: u64,
    syncs: u64,
    fail_write_at: Option<u64>,
    fail_sync_at: Option<u64>,
    /// (write number, bytes that reach the file before the write fails)
    tear_at: Option<(u64, usize)>,
}

fn injected(what: &str) -> io::Error {
    io::Error::other(format!("injected {what} failure"))
}

impl FaultyBackend {
    /// Wraps `inner`; no faults armed.
    pub fn new(inner: Arc<dyn Backend>) -> FaultyBackend {
        FaultyBackend {
            inner,
            faults: Arc::default(),
        }
    }

    /// The `nth` write from now (1 = the next one) fails without writing anything.
    pub fn fail_write(&self, nth: u64) {
        let mut f = lock(&self.faults);
        f.fail_write_at = Some(f.writes.saturating_add(nth.max(1)));
    }

    /// The `nth` sync from now (1 = the next one) fails.
    pub fn fail_sync(&self, nth: u64) {
        let mut f = lock(&self.faults);
        f.fail_sync_at = Some(f.syncs.saturating_add(nth.max(1)));
    }

    /// The `nth` write from now writes only its first `keep_bytes` bytes (never all of it),
    /// then fails.
    pub fn tear_write(&self, nth: u64, keep_bytes: usize) {
        let mut f = lock(&self.faults);
        f.tear_at = Some((f.writes.saturating_add(nth.max(1)), keep_bytes));
    }

    /// Disarms every pending fault (counters are kept).
    pub fn heal(&self) {
        let mut f = lock(&self.faults);
        f.fail_write_at = None;
        f.fail_sync_at = None;
        f.tear_at = None;
    }

    /// Writes (appends) attempted so far.
    pub fn write_count(&self) -> u64 {
        lock(&self.faults).writes
    }

    /// Syncs attempted so far.
    pub fn sync_count(&self) -> u64 {
        lock(&self.faults).syncs
    }

    /// Power loss: drops every byte not covered by a sync and invalidates all open handles.
    pub fn crash(&self) -> io::Result<()> {
        let mut f = lock(&self.faults);
        let present = self.inner.list()?;
        for name in present {
            let Some(&synced) = f.synced.get(&name) else {
                continue;
            };
            let file = self.inner.open(&name)?;
            if file.len()? > synced {
                file.truncate(synced)?;
            }
        }
        f.epoch = f.epoch.saturating_add(1);
        Ok(())
    }
}

impl Backend for FaultyBackend {
    fn list(&self) -> io::Result<Vec<String>> {
        self.inner.list()
    }

    fn open(&self, name: &str) -> io::Result<Box<dyn BackendFile>> {
        let mut f = lock(&self.faults);
        let file = self.inner.open(name)?;
        if !f.synced.contains_key(name) {
            let len = file.len()?;
            f.synced.insert(name.to_string(), len);
        }
        Ok(Box::new(FaultyFile {
            name: name.to_string(),
            inner: file,
            epoch: f.epoch,
            faults: Arc::clone(&self.faults),
        }))
    }

    fn remove(&self, name: &str) -> io::Result<()> {
        let mut f = lock(&self.faults);
        self.inner.remove(name)?;
        f.synced.remove(name);
        Ok(())
    }
}

struct FaultyFile {
    name: String,
    inner: Box<dyn BackendFile>,
    epoch: u64,
    faults: Arc<Mutex<Faults>>,
}

impl FaultyFile {
    fn check(&self, f: &Faults) -> io::Result<()> {
        if f.epoch == self.epoch {
            Ok(())
        } else {
            Err(io::Error::other("handle opened before a crash"))
        }
    }
}

impl BackendFile for FaultyFile {
    fn len(&self) -> io::Result<u64> {
        let f = lock(&self.faults);
        self.check(&f)?;
        self.inner.len()
    }

    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<()> {
        let f = lock(&self.faults);
        self.check(&f)?;
        self.inner.read_at(pos, buf)
    }

    fn append(&self, bufs: &[&[u8]]) -> io::Result<()> {
        let mut f = lock(&self.faults);
        self.check(&f)?;
        f.writes = f.writes.saturating_add(1);
        if f.fail_write_at == Some(f.writes) {
            f.fail_write_at = None;
            return Err(injected("write"));
        }
        if let Some((at, keep)) = f.tear_at {
            if at == f.writes {
                f.tear_at = None;
                let all: Vec<u8> = bufs.concat();
                // A torn write never completes: at least its last byte is lost.
                let kept = all
                    .get(..keep.min(all.len().saturating_sub(1)))
                    .unwrap_or_default();
                self.inner.append(&[kept])?;
                return Err(injected("torn write"));
            }
        }
        self.inner.append(bufs)
    }

    fn truncate(&self, len: u64) -> io::Result<()> {
        let mut f = lock(&self.faults);
        self.check(&f)?;
        self.inner.truncate(len)?;
        if let Some(synced) = f.synced.get_mut(&self.name) {
            *synced = (*synced).min(len);
        }
        Ok(())
    }

    fn sync(&self) -> io::Result<()> {
        let mut f = lock(&self.faults);
        self.check(&f)?;
        f.syncs = f.syncs.saturating_add(1);
        if f.fail_sync_at == Some(f.syncs) {
            f.fail_sync_at = None;
            return Err(injected("fsync"));
        }
        // Bytes written before the sync starts are the ones it covers. The lock is not held
        // during the sync itself so that appends go on meanwhile, as they would on a disk.
        let covered = self.inner.len()?;
        drop(f);
        self.inner.sync()?;
        let mut f = lock(&self.faults);
        self.check(&f)?;
        // A removed file stays removed: syncing an open handle to it must not bring it back.
        if let Some(synced) = f.synced.get_mut(&self.name) {
            *synced = (*synced).max(covered);
        }
        Ok(())
    }
}
