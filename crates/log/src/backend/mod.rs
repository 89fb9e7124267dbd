//! The storage seam: where a disk partition's files live. [`FileBackend`] is a real directory,
//! [`MemoryBackend`] keeps files in RAM (tests), [`FaultyBackend`] wraps either and injects
//! write/fsync failures, torn writes and power loss.
//!
//! Names are plain file names inside the partition directory (`00000000000000000000.log`).

mod faulty;
mod file;
mod memory;

use std::io;

pub use faulty::FaultyBackend;
pub use file::FileBackend;
pub use memory::MemoryBackend;

/// A directory of files.
pub trait Backend: Send + Sync {
    /// Names of the files present, in no particular order.
    fn list(&self) -> io::Result<Vec<String>>;
    /// Opens `name` for reading and appending, creating it empty if missing.
    fn open(&self, name: &str) -> io::Result<Box<dyn BackendFile>>;
    /// Deletes `name`. Open handles stay readable (like an unlinked file).
    fn remove(&self, name: &str) -> io::Result<()>;
}

/// One open file. All methods take `&self`: appends, reads and syncs may run on different
/// threads at once.
pub trait BackendFile: Send + Sync {
    /// Current length in bytes.
    fn len(&self) -> io::Result<u64>;
    /// Whether the file is empty.
    fn is_empty(&self) -> io::Result<bool> {
        Ok(self.len()? == 0)
    }
    /// Fills `buf` from byte `pos`; `UnexpectedEof` if the file ends first.
    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<()>;
    /// Appends all of `bufs`, in order, at the end of the file.
    fn append(&self, bufs: &[&[u8]]) -> io::Result<()>;
    /// Cuts (or zero-extends) the file to `len` bytes.
    fn truncate(&self, len: u64) -> io::Result<()>;
    /// Makes everything written so far durable (including the file's own directory entry).
    fn sync(&self) -> io::Result<()>;
}
