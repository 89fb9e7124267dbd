//! Whole-file replacement that survives a crash at any point: the new contents go to
//! `<name>.tmp`, are fsynced, renamed over `<name>`, and the directory is fsynced. A reader
//! after a crash sees the old file or the new one, never a mix; a stale `.tmp` is ignored
//! and overwritten by the next write.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// Replaces `dir/name` with `bytes` atomically and durably. `dir` must exist.
pub fn replace(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    let mut file = fs::File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    fs::rename(&tmp, dir.join(name))?;
    fs::File::open(dir)?.sync_all()
}

/// Reads `dir/name`, or `None` when it does not exist yet.
pub fn read(dir: &Path, name: &str) -> io::Result<Option<Vec<u8>>> {
    match fs::read(dir.join(name)) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_then_read_and_a_stale_tmp_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path(), "f.json").unwrap(), None);
        replace(dir.path(), "f.json", b"one").unwrap();
        fs::write(dir.path().join("f.json.tmp"), b"half-writ").unwrap();
        assert_eq!(read(dir.path(), "f.json").unwrap().unwrap(), b"one");
        replace(dir.path(), "f.json", b"two").unwrap();
        assert_eq!(read(dir.path(), "f.json").unwrap().unwrap(), b"two");
        assert!(!dir.path().join("f.json.tmp").exists());
    }
}
