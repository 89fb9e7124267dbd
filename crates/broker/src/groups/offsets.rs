//! Committed offsets on disk: `<data_dir>/groups/<group>.toml`, one `"stream/partition" =
//! offset` entry per partition, replaced atomically (temporary file, fsync, rename, fsync of
//! the directory) on every commit.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Offsets keyed by (stream, partition).
pub type OffsetMap = BTreeMap<(String, u32), u64>;

#[derive(Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct OffsetsFile {
    offsets: BTreeMap<String, u64>,
}

/// Writes every committed offset of `group` durably.
pub fn save(root: &Path, group: &str, offsets: &OffsetMap) -> std::io::Result<()> {
    fs::create_dir_all(root)?;
    let file = OffsetsFile {
        offsets: offsets
            .iter()
            .map(|((stream, partition), offset)| (format!("{stream}/{partition}"), *offset))
            .collect(),
    };
    let text = toml::to_string(&file).map_err(std::io::Error::other)?;
    let tmp = root.join(format!("{group}.toml.tmp"));
    let mut out = fs::File::create(&tmp)?;
    out.write_all(text.as_bytes())?;
    out.sync_all()?;
    fs::rename(&tmp, root.join(format!("{group}.toml")))?;
    fs::File::open(root)?.sync_all()
}

/// Every stored group with its offsets. A file that does not parse is an error naming it.
pub fn load_all(root: &Path) -> Result<Vec<(String, OffsetMap)>, String> {
    fs::create_dir_all(root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    let mut out = Vec::new();
    let entries = fs::read_dir(root).map_err(|e| format!("cannot list {}: {e}", root.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("cannot list {}: {e}", root.display()))?
            .path();
        let Some(group) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".toml"))
        else {
            continue;
        };
        let text = fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let file: OffsetsFile =
            toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut offsets = OffsetMap::new();
        for (key, offset) in file.offsets {
            let parsed = key
                .rsplit_once('/')
                .and_then(|(stream, p)| Some((stream.to_owned(), p.parse::<u32>().ok()?)));
            match parsed {
                Some(k) => {
                    offsets.insert(k, offset);
                }
                None => return Err(format!("{}: bad key `{key}`", path.display())),
            }
        }
        out.push((group.to_owned(), offsets));
    }
    Ok(out)
}
