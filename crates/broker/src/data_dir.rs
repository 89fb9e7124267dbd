//! The data directory's lock: one server per data directory.
//!
//! `<data_dir>/memstream.lock` is held with an advisory lock (`flock`) for as long as the
//! server runs. The kernel releases it when the process ends, however it ends, so a lock
//! file left by a crashed server is stale and simply taken over; the file holds the owner's
//! process id for the error a second server prints.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The lock file's name inside the data directory.
pub const LOCK_FILE: &str = "memstream.lock";

/// Why the data directory could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it.
    #[error("data directory {} is in use by another memstream server (pid {holder}); stop it or choose another server.data_dir", dir.display())]
    InUse {
        /// The data directory.
        dir: PathBuf,
        /// What the lock file says about its owner.
        holder: String,
    },
    /// The lock file could not be opened or written.
    #[error("cannot lock data directory {}: {error}", dir.display())]
    Io {
        /// The data directory.
        dir: PathBuf,
        /// The failure.
        error: std::io::Error,
    },
}

/// The held lock; dropping it releases the directory.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

impl DataDirLock {
    /// Takes the lock of `dir` (which must exist) or says who holds it.
    pub fn acquire(dir: &Path) -> Result<DataDirLock, LockError> {
        let io = |error| LockError::Io {
            dir: dir.to_path_buf(),
            error,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join(LOCK_FILE))
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(LockError::InUse {
                    dir: dir.to_path_buf(),
                    holder: if holder.is_empty() {
                        "unknown".into()
                    } else {
                        holder.into()
                    },
                });
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        Ok(DataDirLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_and_a_released_one_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path()).unwrap();
        let err = DataDirLock::acquire(dir.path()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("in use") && text.contains(&std::process::id().to_string()),
            "{text}"
        );
        drop(first);
        // The file stays behind, as after a crash; it does not block the next server.
        assert!(dir.path().join(LOCK_FILE).exists());
        DataDirLock::acquire(dir.path()).unwrap();
    }
}
