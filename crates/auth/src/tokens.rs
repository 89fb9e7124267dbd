//! API tokens for the admin HTTP listener: `<data_dir>/tokens.json`. A token is
//! `mst_` followed by 32 random bytes in unpadded base64url; the store keeps only its
//! SHA-256 (a token has 256 bits of entropy, so a fast hash is enough: there is nothing to
//! guess), with its name, the user it acts as, and an optional expiry. Revoking removes it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::StoreError;
use crate::principal::{check_user_name, Principal};

/// The token file in the data directory.
pub const TOKENS_FILE: &str = "tokens.json";

/// What every token starts with (so secret scanners and people recognise one).
pub const TOKEN_PREFIX: &str = "mst_";

/// Longest token accepted for checking, in bytes (a real one is 47).
pub const TOKEN_BYTES_MAX: usize = 128;

const FORMAT_VERSION: u32 = 1;

/// One stored token: no secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    /// The user it acts as.
    pub user: String,
    /// SHA-256 of the token, base64.
    pub sha256: String,
    /// When it was made (ms since the epoch).
    pub created_ms: u64,
    /// When it stops working (ms since the epoch), if ever.
    pub expires_ms: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct TokenFile {
    version: u32,
    tokens: BTreeMap<String, Token>,
}

/// Why a token was not accepted (logged; the client only hears "unauthorized").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    /// No stored token has this hash (never made, or revoked).
    Unknown,
    /// It expired.
    Expired,
}

/// The tokens.
#[derive(Debug)]
pub struct TokenStore {
    dir: Option<PathBuf>,
    tokens: RwLock<Arc<BTreeMap<String, Token>>>,
    write: Mutex<()>,
    tokens_max: usize,
}

impl TokenStore {
    /// Loads the tokens from `dir` (`None`: in memory).
    pub fn open(dir: Option<&Path>, tokens_max: usize) -> Result<TokenStore, StoreError> {
        let tokens = match dir {
            Some(dir) => load(dir)?,
            None => BTreeMap::new(),
        };
        Ok(TokenStore {
            dir: dir.map(Path::to_path_buf),
            tokens: RwLock::new(Arc::new(tokens)),
            write: Mutex::new(()),
            tokens_max,
        })
    }

    /// Makes a token named `name` acting as `user`; returns the secret, shown once.
    pub fn create(
        &self,
        name: &str,
        user: &str,
        now_ms: u64,
        expires_ms: Option<u64>,
    ) -> Result<String, StoreError> {
        check_user_name(name).map_err(|e| StoreError::Invalid(format!("token name: {e}")))?;
        check_user_name(user).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|e| StoreError::Random(e.to_string()))?;
        let secret = format!(
            "{TOKEN_PREFIX}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
        );
        let token = Token {
            user: user.into(),
            sha256: hash(&secret),
            created_ms: now_ms,
            expires_ms,
        };
        self.change(|tokens| {
            if tokens.contains_key(name) {
                return Err(StoreError::Exists {
                    what: "token",
                    name: name.into(),
                });
            }
            if tokens.len() >= self.tokens_max {
                return Err(StoreError::Limit {
                    what: "the number of tokens",
                    max: self.tokens_max,
                    key: "auth.max_tokens",
                });
            }
            tokens.insert(name.into(), token);
            Ok(())
        })?;
        Ok(secret)
    }

    /// Revokes the token `name`.
    pub fn revoke(&self, name: &str) -> Result<(), StoreError> {
        self.change(|tokens| {
            tokens
                .remove(name)
                .map(drop)
                .ok_or_else(|| StoreError::NotFound {
                    what: "token",
                    name: name.into(),
                })
        })
    }

    /// Every token by name (hashes included: they are not secrets).
    pub fn list(&self) -> Vec<(String, Token)> {
        self.snapshot()
            .iter()
            .map(|(n, t)| (n.clone(), t.clone()))
            .collect()
    }

    /// The principal a presented token acts as, with the token's name.
    pub fn verify(&self, secret: &str, now_ms: u64) -> Result<(String, Principal), TokenRefusal> {
        if secret.len() > TOKEN_BYTES_MAX || !secret.starts_with(TOKEN_PREFIX) {
            return Err(TokenRefusal::Unknown);
        }
        let want = hash(secret);
        let tokens = self.snapshot();
        let (name, token) = tokens
            .iter()
            .find(|(_, t)| {
                subtle::ConstantTimeEq::ct_eq(t.sha256.as_bytes(), want.as_bytes()).into()
            })
            .ok_or(TokenRefusal::Unknown)?;
        if token.expires_ms.is_some_and(|e| now_ms >= e) {
            return Err(TokenRefusal::Expired);
        }
        Ok((name.clone(), Principal::user(token.user.clone())))
    }

    fn snapshot(&self) -> Arc<BTreeMap<String, Token>> {
        self.tokens
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn change(
        &self,
        f: impl FnOnce(&mut BTreeMap<String, Token>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let mut next = self.snapshot().as_ref().clone();
        f(&mut next)?;
        if let Some(dir) = &self.dir {
            let file = TokenFile {
                version: FORMAT_VERSION,
                tokens: next.clone(),
            };
            let mut bytes =
                serde_json::to_vec_pretty(&file).map_err(|e| StoreError::Invalid(e.to_string()))?;
            bytes.push(b'\n');
            crate::durable::replace(dir, TOKENS_FILE, &bytes).map_err(|error| StoreError::Io {
                path: dir.join(TOKENS_FILE),
                error,
            })?;
        }
        *self.tokens.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(next);
        Ok(())
    }
}

fn hash(secret: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(secret.as_bytes()))
}

fn load(dir: &Path) -> Result<BTreeMap<String, Token>, StoreError> {
    let path = dir.join(TOKENS_FILE);
    let bytes = crate::durable::read(dir, TOKENS_FILE).map_err(|error| StoreError::Io {
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
    let file: TokenFile = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
    if file.version != FORMAT_VERSION {
        return Err(corrupt(format!(
            "format version {} (this server writes {FORMAT_VERSION})",
            file.version
        )));
    }
    Ok(file.tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_verify_expire_revoke_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::open(Some(dir.path()), 4).unwrap();
        let t = store.create("ci", "alice", 100, None).unwrap();
        let e = store.create("short", "bob", 100, Some(200)).unwrap();
        assert!(t.starts_with(TOKEN_PREFIX) && t.len() == 47, "{t}");
        let (name, who) = store.verify(&t, 150).unwrap();
        assert_eq!(
            (name.as_str(), who.to_string().as_str()),
            ("ci", "User:alice")
        );
        assert_eq!(store.verify(&e, 199).unwrap().1.name(), "bob");
        assert_eq!(store.verify(&e, 200), Err(TokenRefusal::Expired));
        assert_eq!(store.verify("mst_nope", 0), Err(TokenRefusal::Unknown));
        assert_eq!(
            store.verify(&"x".repeat(500), 0),
            Err(TokenRefusal::Unknown)
        );
        let text = std::fs::read_to_string(dir.path().join(TOKENS_FILE)).unwrap();
        assert!(!text.contains(&t[4..]), "the secret is not stored");
        drop(store);
        let store = TokenStore::open(Some(dir.path()), 4).unwrap();
        assert!(store.verify(&t, 150).is_ok());
        store.revoke("ci").unwrap();
        assert_eq!(store.verify(&t, 150), Err(TokenRefusal::Unknown));
        assert!(matches!(
            store.revoke("ci"),
            Err(StoreError::NotFound { .. })
        ));
    }

    #[test]
    fn names_and_limits() {
        let store = TokenStore::open(None, 1).unwrap();
        store.create("a", "u", 0, None).unwrap();
        assert!(matches!(
            store.create("a", "u", 0, None),
            Err(StoreError::Exists { .. })
        ));
        let err = store.create("b", "u", 0, None).unwrap_err();
        assert!(err.to_string().contains("auth.max_tokens"), "{err}");
    }
}
