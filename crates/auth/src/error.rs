//! The stores' error: what failed, on which file.

use std::path::PathBuf;

/// Why a user, token or ACL store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Reading or writing the file failed.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        error: std::io::Error,
    },
    /// The file is not what this version writes: the server refuses to start rather than
    /// run without the users or ACLs it holds.
    #[error("{}: not a valid store file ({detail}); restore it from a backup or move it away", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A named limit would be exceeded.
    #[error("{what} would exceed its limit of {max} (raise {key})")]
    Limit {
        /// What is counted.
        what: &'static str,
        /// The limit.
        max: usize,
        /// Its config key.
        key: &'static str,
    },
    /// The entry is not valid.
    #[error("{0}")]
    Invalid(String),
    /// The named entry does not exist.
    #[error("{what} {name:?} does not exist")]
    NotFound {
        /// User, token, ...
        what: &'static str,
        /// Its name.
        name: String,
    },
    /// The named entry exists already.
    #[error("{what} {name:?} exists already")]
    Exists {
        /// User, token, ...
        what: &'static str,
        /// Its name.
        name: String,
    },
    /// The operating system's random source failed.
    #[error("random source: {0}")]
    Random(String),
}
