//! Producer ids for INIT_PRODUCER: allocated by the server, never handed out twice, even
//! across restarts and crashes.
//!
//! `<data_dir>/producer-ids` holds one decimal number: the first id not yet reserved. Ids are
//! reserved in blocks of [`ID_BLOCK`] (one durable write per block: temporary file, fsync,
//! rename, fsync of the directory) and handed out from memory; after a crash the rest of a
//! reserved block is skipped, never reused.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use super::error::StreamError;

/// Ids reserved per durable write.
pub const ID_BLOCK: i64 = 1000;
const FILE: &str = "producer-ids";

/// The allocator.
#[derive(Debug)]
pub struct ProducerIds {
    dir: PathBuf,
    /// (next id to hand out, first id not reserved)
    state: Mutex<(i64, i64)>,
}

impl ProducerIds {
    /// Reads the reservation mark in `dir` (0 when there is none yet).
    pub fn open(dir: &Path) -> Result<ProducerIds, String> {
        let path = dir.join(FILE);
        let next = match fs::read_to_string(&path) {
            Ok(text) => text
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| {
                    format!(
                        "{}: expected a non-negative number, found {text:?}",
                        path.display()
                    )
                })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        Ok(ProducerIds {
            dir: dir.to_path_buf(),
            state: Mutex::new((next, next)),
        })
    }

    /// A fresh id. Blocking when a new block must be reserved (a small fsynced write).
    pub fn allocate(&self) -> Result<i64, StreamError> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (next, reserved) = *state;
        if next >= reserved {
            let end = next
                .checked_add(ID_BLOCK)
                .ok_or(StreamError::ProducerIdsExhausted)?;
            self.persist(end).map_err(|source| StreamError::Storage {
                what: "reserve producer ids in",
                path: self.dir.join(FILE),
                source,
            })?;
            state.1 = end;
        }
        state.0 = next + 1;
        Ok(next)
    }

    fn persist(&self, end: i64) -> std::io::Result<()> {
        let tmp = self.dir.join(format!("{FILE}.tmp"));
        let mut file = fs::File::create(&tmp)?;
        writeln!(file, "{end}")?;
        file.sync_all()?;
        fs::rename(&tmp, self.dir.join(FILE))?;
        fs::File::open(&self.dir)?.sync_all()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_never_reused_across_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let ids = ProducerIds::open(dir.path()).unwrap();
        let first: Vec<i64> = (0..3).map(|_| ids.allocate().unwrap()).collect();
        assert_eq!(first, [0, 1, 2]);
        drop(ids);
        // As after a crash: the rest of the reserved block is skipped.
        let ids = ProducerIds::open(dir.path()).unwrap();
        assert_eq!(ids.allocate().unwrap(), ID_BLOCK);
        fs::write(dir.path().join(FILE), "garbage").unwrap();
        assert!(ProducerIds::open(dir.path())
            .unwrap_err()
            .contains("producer-ids"));
    }
}
