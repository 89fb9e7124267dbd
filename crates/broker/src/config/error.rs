//! [`ConfigError`]: why a configuration was rejected, naming the key and the layer it came from.

use std::io;
use std::path::PathBuf;

use super::Origin;

/// A configuration that cannot be used. Every variant names enough to find and fix the value:
/// the file, or the key together with its [`Origin`].
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    /// The config file is not valid TOML; `message` carries toml's line and column.
    #[error("cannot parse config file {}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    /// A key or section that does not exist.
    #[error("unknown key `{key}` ({origin})")]
    UnknownKey { key: String, origin: Origin },
    /// A key whose value has the wrong type or is out of range.
    #[error("invalid value `{value}` for `{key}` ({origin}): {reason}")]
    Invalid {
        key: String,
        value: String,
        reason: String,
        origin: Origin,
    },
}
