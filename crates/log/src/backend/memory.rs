//! [`MemoryBackend`]: files as byte vectors in RAM, for tests and models.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex};

use super::{Backend, BackendFile};
use crate::lock;

/// A directory whose files live in RAM. Clones share the same files.
#[derive(Clone, Debug, Default)]
pub struct MemoryBackend {
    files: Arc<Mutex<HashMap<String, Arc<MemFile>>>>,
}

impl MemoryBackend {
    /// An empty directory.
    pub fn new() -> MemoryBackend {
        MemoryBackend::default()
    }

    /// A copy of the bytes of `name`, if it exists (for tests that tamper with files).
    pub fn contents(&self, name: &str) -> Option<Vec<u8>> {
        let file = lock(&self.files).get(name).cloned()?;
        let data = lock(&file.data).clone();
        Some(data)
    }

    /// Replaces the bytes of `name`, creating it if missing.
    pub fn set_contents(&self, name: &str, bytes: &[u8]) {
        let file = Arc::clone(lock(&self.files).entry(name.to_string()).or_default());
        *lock(&file.data) = bytes.to_vec();
    }
}

#[derive(Debug, Default)]
struct MemFile {
    data: Mutex<Vec<u8>>,
}

impl Backend for MemoryBackend {
    fn list(&self) -> io::Result<Vec<String>> {
        Ok(lock(&self.files).keys().cloned().collect())
    }

    fn open(&self, name: &str) -> io::Result<Box<dyn BackendFile>> {
        let file = Arc::clone(lock(&self.files).entry(name.to_string()).or_default());
        Ok(Box::new(MemHandle(file)))
    }

    fn remove(&self, name: &str) -> io::Result<()> {
        match lock(&self.files).remove(name) {
            Some(_) => Ok(()),
            None => Err(io::ErrorKind::NotFound.into()),
        }
    }
}

struct MemHandle(Arc<MemFile>);

impl BackendFile for MemHandle {
    fn len(&self) -> io::Result<u64> {
        Ok(lock(&self.0.data).len() as u64)
    }

    fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<()> {
        let data = lock(&self.0.data);
        let start = usize::try_from(pos).map_err(|_| io::ErrorKind::UnexpectedEof)?;
        let src = start
            .checked_add(buf.len())
            .and_then(|end| data.get(start..end))
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        buf.copy_from_slice(src);
        Ok(())
    }

    fn append(&self, bufs: &[&[u8]]) -> io::Result<()> {
        let mut data = lock(&self.0.data);
        for b in bufs {
            data.extend_from_slice(b);
        }
        Ok(())
    }

    fn truncate(&self, len: u64) -> io::Result<()> {
        let len = usize::try_from(len).map_err(|_| io::ErrorKind::InvalidInput)?;
        lock(&self.0.data).resize(len, 0);
        Ok(())
    }

    fn sync(&self) -> io::Result<()> {
        Ok(())
    }
}
