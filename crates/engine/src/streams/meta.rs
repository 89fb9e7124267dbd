//! Stream definitions on disk: `<data_dir>/streams/<name>/meta.toml`, written atomically
//! (temporary file, fsync, rename, fsync of the directory).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::settings::Effective;
use super::types::SettingsOverrides;

/// The stored definition of a stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamMeta {
    /// Stream name (also its directory name).
    pub name: String,
    /// Chosen at creation and never reused: a stream deleted and created again under the same
    /// name is another stream, and nothing keyed by the old one's id (group offsets) applies.
    pub id: u64,
    /// Partition count.
    pub partitions: u32,
    /// Effective settings: fixed at creation, except those `Streams::alter` changes.
    pub settings: Effective,
    /// The settings chosen for this stream rather than copied from `[streams]` (absent from
    /// definitions written before they were kept: nothing counts as overridden then).
    #[serde(default)]
    pub overrides: SettingsOverrides,
}

const META_FILE: &str = "meta.toml";

/// A fresh stream id: 63 random bits (std's hasher is keyed randomly per `RandomState`; TOML
/// integers are signed 64-bit), never 0.
pub fn new_stream_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    (h.finish() >> 1).max(1)
}

/// The directory of stream `name`.
pub fn stream_dir(root: &Path, name: &str) -> PathBuf {
    root.join(name)
}

/// The directory of one partition of a disk stream.
pub fn partition_dir(root: &Path, name: &str, partition: u32) -> PathBuf {
    stream_dir(root, name).join(format!("{partition:05}"))
}

/// Writes `meta` durably.
pub fn save(root: &Path, meta: &StreamMeta) -> std::io::Result<()> {
    let dir = stream_dir(root, &meta.name);
    fs::create_dir_all(&dir)?;
    let text = toml::to_string(meta).map_err(std::io::Error::other)?;
    let tmp = dir.join("meta.toml.tmp");
    let mut file = fs::File::create(&tmp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    fs::rename(&tmp, dir.join(META_FILE))?;
    fs::File::open(&dir)?.sync_all()?;
    fs::File::open(root)?.sync_all()
}

/// Removes the definition first (durably), so a crash half-way through deleting the data
/// leaves a directory without a definition, which [`load_all`] clears away.
pub fn remove(root: &Path, name: &str) -> std::io::Result<()> {
    let dir = stream_dir(root, name);
    match fs::remove_file(dir.join(META_FILE)) {
        Ok(()) => fs::File::open(&dir)?.sync_all()?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    match fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Every stored definition; directories without one (an interrupted delete or create) are
/// removed. A definition that does not parse is an error naming the file.
pub fn load_all(root: &Path) -> Result<Vec<StreamMeta>, String> {
    fs::create_dir_all(root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    let mut out = Vec::new();
    let entries = fs::read_dir(root).map_err(|e| format!("cannot list {}: {e}", root.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot list {}: {e}", root.display()))?;
        let dir = entry.path();
        if !dir.is_dir() {
            continue;
        }
        let file = dir.join(META_FILE);
        let text = match fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::warn!(dir = %dir.display(), "stream directory without a definition; removing it");
                let _ = fs::remove_dir_all(&dir);
                continue;
            }
            Err(e) => return Err(format!("cannot read {}: {e}", file.display())),
        };
        let meta: StreamMeta =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
        out.push(meta);
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
