//! Partition logs for MemoryStreamer: segments, indexes, recovery, retention and durability.
//!
//! A [`Partition`] is an append-only sequence of record batches (the layout of
//! `memstream_batch`, stored byte for byte as received, base offset stamped). Its
//! recent tail is always served from RAM as zero-copy `Bytes`; memory partitions keep every
//! retained segment in RAM, disk partitions keep only the active segment there and read sealed
//! segments from their files, verifying each batch's checksum. A shared [`Syncer`] fsyncs disk
//! partitions on a few threads, many appends per fsync. Storage goes through the [`Backend`]
//! seam: real files ([`FileBackend`]), RAM ([`MemoryBackend`]) or fault injection
//! ([`FaultyBackend`]).
//!
//! Modules: `config` (settings), `error` (errors and reports), `backend` (the storage seam),
//! `segment` (one run of batches), `index` (sparse offset and time indexes), `walk` (header
//! walks over a file), `read` (reads of sealed segments), `recovery` (open and repair),
//! `retention`, `durability` (sync, fencing, waiting), `syncer` (the fsync threads) and
//! `partition` (the public handle). The byte layout of every file is in `docs/storage.md`.

#![forbid(unsafe_code)]
#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

mod backend;
mod config;
mod corrupt;
mod durability;
mod error;
mod index;
pub mod metrics;
mod partition;
mod read;
mod recovery;
mod retention;
mod segment;
mod syncer;
mod traffic;
mod walk;

use std::sync::{Mutex, MutexGuard, PoisonError};

pub use backend::{Backend, BackendFile, FaultyBackend, FileBackend, MemoryBackend};
pub use config::{FsyncPolicy, LiveLimits, LogConfig, SEGMENT_BYTES_MAX};
pub use corrupt::{CorruptRange, CORRUPT_RANGES_MAX};
pub use durability::SyncStats;
pub use error::{LogError, RecoveryReport, RetentionReport};
pub use partition::{
    AppendOutcome, Fetched, Partition, Read, SealedRead, LEADER_EPOCH, WRITE_RETRY_INTERVAL,
};
pub use syncer::Syncer;
pub use traffic::{Traffic, TrafficTotals};

/// Locks `m`, ignoring poisoning: every critical section leaves its state consistent before
/// anything in it can panic, so a panic elsewhere does not make the data unusable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
