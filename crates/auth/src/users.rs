//! The user store: `<data_dir>/users.json`, one entry per user with a SCRAM credential per
//! mechanism (salt, iteration count, StoredKey, ServerKey; RFC 5802 section 3), never a
//! password. PLAIN logins are checked by deriving from the stored salt, so the same store
//! serves SCRAM-SHA-256, SCRAM-SHA-512, PLAIN and HTTP basic on every listener.
//!
//! Every change replaces the file atomically ([`crate::durable`]) before it is visible; a
//! store that cannot be read stops the server with the file's name, never an empty store.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::principal::check_user_name;
use crate::scram::{Mechanism, ScramCredential};

/// The user file in the data directory.
pub const USERS_FILE: &str = "users.json";

const FORMAT_VERSION: u32 = 1;

/// Longest password accepted, in bytes (PBKDF2 takes any length; this bounds the work a
/// client can ask for).
pub const PASSWORD_BYTES_MAX: usize = 1024;

/// What the store is told by the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSettings {
    /// `auth.max_users`: most users stored.
    pub users_max: usize,
    /// `auth.scram_iterations`: PBKDF2 iterations for new credentials.
    pub iterations: u32,
}

/// One stored user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Milliseconds since the epoch when it was added.
    pub created_ms: u64,
    /// Milliseconds since the epoch when its password last changed.
    pub updated_ms: u64,
    /// One per mechanism.
    pub credentials: Vec<ScramCredential>,
}

/// A user as listed: no key material.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UserSummary {
    /// The name.
    pub name: String,
    /// The SCRAM mechanisms it has credentials for.
    pub mechanisms: Vec<&'static str>,
    /// When it was added (ms since the epoch).
    pub created_ms: u64,
    /// When its password last changed (ms since the epoch).
    pub updated_ms: u64,
}

/// What [`UserStore::put`] may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutMode {
    /// Add a new user; an existing one is an error.
    Create,
    /// Change an existing user; a missing one is an error.
    Update,
    /// Add or change.
    Upsert,
}

#[derive(Serialize, Deserialize)]
struct UserFile {
    version: u32,
    users: BTreeMap<String, User>,
}

/// The users, shared by every listener.
#[derive(Debug)]
pub struct UserStore {
    dir: Option<PathBuf>,
    users: RwLock<Arc<BTreeMap<String, User>>>,
    write: Mutex<()>,
    users_max: usize,
    iterations: AtomicU32,
    /// Stands in for an unknown user's credential, so PLAIN spends the same time on one
    /// (made at the first unknown user).
    decoy: OnceLock<ScramCredential>,
}

impl UserStore {
    /// Loads the users from `dir` (none when the file does not exist; `None`: in memory).
    pub fn open(dir: Option<&Path>, settings: UserSettings) -> Result<UserStore, StoreError> {
        let users = match dir {
            Some(dir) => load(dir)?,
            None => BTreeMap::new(),
        };
        Ok(UserStore {
            dir: dir.map(Path::to_path_buf),
            users: RwLock::new(Arc::new(users)),
            write: Mutex::new(()),
            users_max: settings.users_max,
            iterations: AtomicU32::new(settings.iterations),
            decoy: OnceLock::new(),
        })
    }

    /// Adds `name` with credentials for every mechanism; durable before it returns.
    pub fn add(&self, name: &str, password: &[u8], now_ms: u64) -> Result<(), StoreError> {
        let credentials = self.credentials(password)?;
        self.put(name, credentials, PutMode::Create, now_ms)
    }

    /// Replaces the password of `name`; durable before it returns.
    pub fn set_password(&self, name: &str, password: &[u8], now_ms: u64) -> Result<(), StoreError> {
        let credentials = self.credentials(password)?;
        self.put(name, credentials, PutMode::Update, now_ms)
    }

    /// Sets every credential of `name` at once (made by a client, so the password never
    /// reaches the server), per `mode`; durable before it returns. One credential per
    /// mechanism, at least one.
    pub fn put(
        &self,
        name: &str,
        mut credentials: Vec<ScramCredential>,
        mode: PutMode,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        check_user_name(name).map_err(|e| StoreError::Invalid(e.to_string()))?;
        if credentials.is_empty() {
            return Err(StoreError::Invalid("a user needs a credential".into()));
        }
        for c in &credentials {
            c.check().map_err(StoreError::Invalid)?;
        }
        credentials.sort_by_key(|c| c.mechanism.name());
        if credentials
            .windows(2)
            .any(|w| matches!(w, [a, b] if a.mechanism == b.mechanism))
        {
            return Err(StoreError::Invalid("a mechanism is given twice".into()));
        }
        self.change(|users| {
            match (users.get_mut(name), mode) {
                (Some(_), PutMode::Create) => {
                    return Err(StoreError::Exists {
                        what: "user",
                        name: name.into(),
                    })
                }
                (None, PutMode::Update) => return Err(not_found(name)),
                (Some(user), PutMode::Update | PutMode::Upsert) => {
                    user.credentials = credentials;
                    user.updated_ms = now_ms;
                    return Ok(());
                }
                (None, PutMode::Create | PutMode::Upsert) => {}
            }
            if users.len() >= self.users_max {
                return Err(StoreError::Limit {
                    what: "the number of users",
                    max: self.users_max,
                    key: "auth.max_users",
                });
            }
            users.insert(
                name.into(),
                User {
                    created_ms: now_ms,
                    updated_ms: now_ms,
                    credentials,
                },
            );
            Ok(())
        })
    }

    /// Removes `name`; durable before it returns.
    pub fn remove(&self, name: &str) -> Result<(), StoreError> {
        self.change(|users| users.remove(name).map(drop).ok_or_else(|| not_found(name)))
    }

    /// Sets one mechanism's credential of `name` (made by a client from a salted password),
    /// adding the user if it does not exist; durable before it returns.
    pub fn upsert_credential(
        &self,
        name: &str,
        credential: ScramCredential,
        now_ms: u64,
    ) -> Result<(), StoreError> {
        check_user_name(name).map_err(|e| StoreError::Invalid(e.to_string()))?;
        credential.check().map_err(StoreError::Invalid)?;
        self.change(|users| {
            if !users.contains_key(name) && users.len() >= self.users_max {
                return Err(StoreError::Limit {
                    what: "the number of users",
                    max: self.users_max,
                    key: "auth.max_users",
                });
            }
            let user = users.entry(name.to_owned()).or_insert_with(|| User {
                created_ms: now_ms,
                updated_ms: now_ms,
                credentials: Vec::new(),
            });
            user.credentials
                .retain(|c| c.mechanism != credential.mechanism);
            user.credentials.push(credential);
            user.credentials.sort_by_key(|c| c.mechanism.name());
            user.updated_ms = now_ms;
            Ok(())
        })
    }

    /// Removes one mechanism's credential of `name`; a user left with none is removed.
    pub fn remove_credential(&self, name: &str, mechanism: Mechanism) -> Result<(), StoreError> {
        self.change(|users| {
            let user = users.get_mut(name).ok_or_else(|| not_found(name))?;
            let before = user.credentials.len();
            user.credentials.retain(|c| c.mechanism != mechanism);
            if user.credentials.len() == before {
                return Err(StoreError::NotFound {
                    what: "credential",
                    name: format!("{name} {mechanism}"),
                });
            }
            if user.credentials.is_empty() {
                users.remove(name);
            }
            Ok(())
        })
    }

    /// The mechanisms and iteration counts of `name`'s credentials.
    pub fn describe(&self, name: &str) -> Option<Vec<(Mechanism, u32)>> {
        let users = self.snapshot();
        let user = users.get(name)?;
        Some(
            user.credentials
                .iter()
                .map(|c| (c.mechanism, c.iterations))
                .collect(),
        )
    }

    /// Changes the iterations of credentials made from now on (a config reload).
    pub fn set_iterations(&self, iterations: u32) {
        self.iterations.store(iterations, Ordering::Relaxed);
    }

    /// The iterations new credentials get (and an unknown user's fake SCRAM challenge).
    pub fn iterations(&self) -> u32 {
        self.iterations.load(Ordering::Relaxed)
    }

    /// Every user, by name.
    pub fn list(&self) -> Vec<UserSummary> {
        self.snapshot()
            .iter()
            .map(|(name, u)| UserSummary {
                name: name.clone(),
                mechanisms: u.credentials.iter().map(|c| c.mechanism.name()).collect(),
                created_ms: u.created_ms,
                updated_ms: u.updated_ms,
            })
            .collect()
    }

    /// Whether `name` exists.
    pub fn contains(&self, name: &str) -> bool {
        self.snapshot().contains_key(name)
    }

    /// The credential of `name` for `mechanism`, for a SCRAM exchange.
    pub fn credential(&self, name: &str, mechanism: Mechanism) -> Option<ScramCredential> {
        self.snapshot()
            .get(name)?
            .credentials
            .iter()
            .find(|c| c.mechanism == mechanism)
            .cloned()
    }

    /// Checks a password (PLAIN, HTTP basic) against the stored credential. An unknown user
    /// costs the same derivation as a known one and is refused the same way.
    pub fn verify_password(&self, name: &str, password: &[u8]) -> bool {
        if password.len() > PASSWORD_BYTES_MAX {
            return false;
        }
        let any = || {
            Mechanism::ALL
                .into_iter()
                .find_map(|m| self.credential(name, m))
        };
        match any() {
            Some(c) => c.verify_password(password),
            None => {
                let iterations = self.iterations();
                let decoy = self.decoy.get_or_init(|| {
                    ScramCredential::derive(
                        Mechanism::ScramSha256,
                        b"decoy",
                        b"decoy salt",
                        iterations,
                    )
                });
                let _ = decoy.verify_password(password);
                false
            }
        }
    }

    fn credentials(&self, password: &[u8]) -> Result<Vec<ScramCredential>, StoreError> {
        if password.is_empty() {
            return Err(StoreError::Invalid("the password is empty".into()));
        }
        if password.len() > PASSWORD_BYTES_MAX {
            return Err(StoreError::Invalid(format!(
                "the password is longer than {PASSWORD_BYTES_MAX} bytes"
            )));
        }
        Mechanism::ALL
            .into_iter()
            .map(|m| {
                ScramCredential::generate(m, password, self.iterations.load(Ordering::Relaxed))
                    .map_err(|e| StoreError::Random(e.to_string()))
            })
            .collect()
    }

    fn snapshot(&self) -> Arc<BTreeMap<String, User>> {
        self.users.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn change(
        &self,
        f: impl FnOnce(&mut BTreeMap<String, User>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = self.snapshot().as_ref().clone();
        f(&mut next)?;
        if let Some(dir) = &self.dir {
            save(dir, &next)?;
        }
        *self.users.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(next);
        Ok(())
    }
}

fn not_found(name: &str) -> StoreError {
    StoreError::NotFound {
        what: "user",
        name: name.into(),
    }
}

fn load(dir: &Path) -> Result<BTreeMap<String, User>, StoreError> {
    let path = dir.join(USERS_FILE);
    let bytes = crate::durable::read(dir, USERS_FILE).map_err(|error| StoreError::Io {
        path: path.clone(),
        error,
    })?;
    let Some(bytes) = bytes else {
        return Ok(BTreeMap::new());
    };
    let corrupt = |detail: String| StoreError::Corrupt {
        path: path.clone(),
        detail,
    };
    let file: UserFile = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
    if file.version != FORMAT_VERSION {
        return Err(corrupt(format!(
            "format version {} (this server writes {FORMAT_VERSION})",
            file.version
        )));
    }
    for (name, user) in &file.users {
        check_user_name(name).map_err(|e| corrupt(e.to_string()))?;
        for c in &user.credentials {
            c.check()
                .map_err(|e| corrupt(format!("user {name:?}: {e}")))?;
        }
    }
    Ok(file.users)
}

fn save(dir: &Path, users: &BTreeMap<String, User>) -> Result<(), StoreError> {
    let file = UserFile {
        version: FORMAT_VERSION,
        users: users.clone(),
    };
    let mut bytes =
        serde_json::to_vec_pretty(&file).map_err(|e| StoreError::Invalid(e.to_string()))?;
    bytes.push(b'\n');
    crate::durable::replace(dir, USERS_FILE, &bytes).map_err(|error| StoreError::Io {
        path: dir.join(USERS_FILE),
        error,
    })
}

#[cfg(test)]
mod tests;
