//! Authorization decisions: the ACL set (durable in `<data_dir>/acls.json`), the superusers,
//! and a per-connection decision cache.
//!
//! A decision for a principal, host, operation and resource (Kafka's `AclAuthorizer`):
//! - superusers may do everything;
//! - a matching deny ACL for the operation (or for `all`) refuses it, whatever allows it;
//! - a matching allow ACL grants it; `describe` is also granted by read, write, delete and
//!   alter, `describe_configs` by `alter_configs`, everything by `all`;
//! - nothing matching refuses it.
//!
//! With security off (`auth.enabled = false`) every decision is yes.
//!
//! **Invariant:** a connection's cached decisions are dropped the first time it asks after
//! an ACL or superuser change (a generation number), so a revoked permission takes effect
//! on that connection's next request.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde::{Deserialize, Serialize};

use crate::acl::{Acl, AclFilter, Operation, Permission, ResourceType};
use crate::error::StoreError;
use crate::principal::Principal;

/// The ACL file in the data directory.
pub const ACLS_FILE: &str = "acls.json";

/// The format version written to [`ACLS_FILE`].
const FORMAT_VERSION: u32 = 1;

/// What the authorizer is told by the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthzSettings {
    /// `auth.enabled`: off means every decision is yes.
    pub enabled: bool,
    /// `auth.superusers`: user names (`admin` or `User:admin`) that may do everything.
    pub superusers: Vec<String>,
    /// `auth.max_acls`: most ACLs stored.
    pub acls_max: usize,
    /// `auth.max_cached_decisions`: most resources one connection caches decisions for.
    pub decision_cache_entries_max: usize,
}

#[derive(Serialize, Deserialize)]
struct AclFile {
    version: u32,
    acls: Vec<Acl>,
}

/// The ACLs, the superusers and the decisions made from them.
#[derive(Debug)]
pub struct Authorizer {
    enabled: bool,
    dir: Option<PathBuf>,
    acls: RwLock<Arc<Vec<Acl>>>,
    superusers: RwLock<Vec<String>>,
    generation: AtomicU64,
    /// Serialises changes, so the file and the set change in the same order.
    write: Mutex<()>,
    acls_max: usize,
    cache_entries_max: usize,
}

impl Authorizer {
    /// Loads the ACLs from `dir` (none yet when the file does not exist; `None` keeps them in
    /// memory only, for tests and memory-only servers).
    pub fn open(dir: Option<&Path>, settings: &AuthzSettings) -> Result<Authorizer, StoreError> {
        let acls = match dir {
            Some(dir) => load(dir)?,
            None => Vec::new(),
        };
        Ok(Authorizer {
            enabled: settings.enabled,
            dir: dir.map(Path::to_path_buf),
            acls: RwLock::new(Arc::new(acls)),
            superusers: RwLock::new(normalise(&settings.superusers)),
            generation: AtomicU64::new(0),
            write: Mutex::new(()),
            acls_max: settings.acls_max,
            cache_entries_max: settings.decision_cache_entries_max.max(1),
        })
    }

    /// Whether decisions are made at all (`auth.enabled`).
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Replaces the superusers (a config reload); cached decisions are dropped.
    pub fn set_superusers(&self, names: &[String]) {
        *self.superusers.write().unwrap_or_else(|p| p.into_inner()) = normalise(names);
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Whether `principal` is a superuser.
    pub fn is_superuser(&self, principal: &Principal) -> bool {
        self.superusers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|s| s == principal.name())
    }

    /// Stores `acls` (validated; ones already stored are skipped) and returns how many were
    /// new. Durable before it returns.
    pub fn add(&self, acls: Vec<Acl>) -> Result<usize, StoreError> {
        let mut valid = Vec::with_capacity(acls.len());
        for acl in acls {
            valid.push(
                acl.validate()
                    .map_err(|e| StoreError::Invalid(e.to_string()))?,
            );
        }
        let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let mut next: Vec<Acl> = self.snapshot().as_ref().clone();
        let before = next.len();
        for acl in valid {
            if !next.contains(&acl) {
                next.push(acl);
            }
        }
        let added = next.len() - before;
        if next.len() > self.acls_max {
            return Err(StoreError::Limit {
                what: "the number of ACLs",
                max: self.acls_max,
                key: "auth.max_acls",
            });
        }
        if added > 0 {
            self.install(next)?;
        }
        Ok(added)
    }

    /// Removes every ACL `filter` selects and returns them. Durable before it returns.
    pub fn remove(&self, filter: &AclFilter) -> Result<Vec<Acl>, StoreError> {
        let _w = self.write.lock().unwrap_or_else(|p| p.into_inner());
        let (removed, kept): (Vec<Acl>, Vec<Acl>) = self
            .snapshot()
            .iter()
            .cloned()
            .partition(|a| filter.matches(a));
        if !removed.is_empty() {
            self.install(kept)?;
        }
        Ok(removed)
    }

    /// The ACLs `filter` selects, in the order they were added.
    pub fn list(&self, filter: &AclFilter) -> Vec<Acl> {
        self.snapshot()
            .iter()
            .filter(|a| filter.matches(a))
            .cloned()
            .collect()
    }

    /// The decision for `session`, from its cache when the ACLs have not changed since.
    pub fn authorize(
        &self,
        session: &Session,
        operation: Operation,
        resource_type: ResourceType,
        name: &str,
    ) -> bool {
        if !self.enabled {
            return true;
        }
        let generation = self.generation.load(Ordering::Acquire);
        let mut cache = session.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.generation != generation {
            cache.clear(generation);
        }
        if let Some(known) = cache.get(resource_type, name, operation) {
            return known;
        }
        let decision = self.decide(
            &session.principal,
            &session.host,
            operation,
            resource_type,
            name,
        );
        cache.put(
            resource_type,
            name,
            operation,
            decision,
            self.cache_entries_max,
        );
        decision
    }

    /// The decision, uncached.
    pub fn decide(
        &self,
        principal: &Principal,
        host: &str,
        operation: Operation,
        resource_type: ResourceType,
        name: &str,
    ) -> bool {
        if !self.enabled || self.is_superuser(principal) {
            return true;
        }
        let acls = self.snapshot();
        let applicable = || {
            acls.iter()
                .filter(|a| a.applies_to(principal, host) && a.resource.covers(resource_type, name))
        };
        let denied = applicable().any(|a| {
            a.permission == Permission::Deny
                && (a.operation == operation || a.operation == Operation::All)
        });
        if denied {
            return false;
        }
        applicable().any(|a| a.permission == Permission::Allow && implies(a.operation, operation))
    }

    /// Whether `session` may perform `operation` on at least one resource of
    /// `resource_type` (Kafka's `authorizeByResourceType`, which lets a producer with write
    /// access to any topic be idempotent): an applicable allow ACL for it exists, and no
    /// applicable deny covers every name of the type. Not cached (asked once per producer).
    pub fn may_on_any(
        &self,
        session: &Session,
        operation: Operation,
        resource_type: ResourceType,
    ) -> bool {
        let (principal, host) = (&session.principal, session.host.as_str());
        if !self.enabled || self.is_superuser(principal) {
            return true;
        }
        let acls = self.snapshot();
        let applicable = || {
            acls.iter().filter(|a| {
                a.applies_to(principal, host) && a.resource.resource_type == resource_type
            })
        };
        let denied_everywhere = applicable().any(|a| {
            a.permission == Permission::Deny
                && (a.operation == operation || a.operation == Operation::All)
                && a.resource.pattern_type == crate::acl::PatternType::Literal
                && a.resource.name == crate::acl::WILDCARD
        });
        !denied_everywhere
            && applicable()
                .any(|a| a.permission == Permission::Allow && implies(a.operation, operation))
    }

    fn snapshot(&self) -> Arc<Vec<Acl>> {
        self.acls.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn install(&self, next: Vec<Acl>) -> Result<(), StoreError> {
        if let Some(dir) = &self.dir {
            save(dir, &next)?;
        }
        *self.acls.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(next);
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }
}

/// Whether an allow ACL for `granted` allows `wanted`.
fn implies(granted: Operation, wanted: Operation) -> bool {
    use Operation::*;
    granted == wanted
        || granted == All
        || (wanted == Describe && matches!(granted, Read | Write | Delete | Alter))
        || (wanted == DescribeConfigs && granted == AlterConfigs)
}

fn normalise(names: &[String]) -> Vec<String> {
    names
        .iter()
        .map(|n| n.strip_prefix("User:").unwrap_or(n).to_string())
        .collect()
}

fn load(dir: &Path) -> Result<Vec<Acl>, StoreError> {
    let path = dir.join(ACLS_FILE);
    let bytes = crate::durable::read(dir, ACLS_FILE).map_err(|error| StoreError::Io {
        path: path.clone(),
        error,
    })?;
    let Some(bytes) = bytes else {
        return Ok(Vec::new());
    };
    let corrupt = |detail: String| StoreError::Corrupt {
        path: path.clone(),
        detail,
    };
    let file: AclFile = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
    if file.version != FORMAT_VERSION {
        return Err(corrupt(format!(
            "format version {} (this server writes {FORMAT_VERSION})",
            file.version
        )));
    }
    file.acls
        .into_iter()
        .map(|a| a.validate().map_err(|e| corrupt(e.to_string())))
        .collect()
}

fn save(dir: &Path, acls: &[Acl]) -> Result<(), StoreError> {
    let file = AclFile {
        version: FORMAT_VERSION,
        acls: acls.to_vec(),
    };
    let mut bytes =
        serde_json::to_vec_pretty(&file).map_err(|e| StoreError::Invalid(e.to_string()))?;
    bytes.push(b'\n');
    crate::durable::replace(dir, ACLS_FILE, &bytes).map_err(|error| StoreError::Io {
        path: dir.join(ACLS_FILE),
        error,
    })
}

/// One connection's identity and its cached decisions.
#[derive(Debug)]
pub struct Session {
    principal: Principal,
    host: String,
    cache: Mutex<DecisionCache>,
}

impl Session {
    /// A connection of `principal` from `host` (its IP address, as ACL hosts are written).
    pub fn new(principal: Principal, host: impl Into<String>) -> Session {
        Session {
            principal,
            host: host.into(),
            cache: Mutex::new(DecisionCache::default()),
        }
    }

    /// Who it is.
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// Where it connects from.
    pub fn host(&self) -> &str {
        &self.host
    }
}

/// Per resource type, per resource name: which operations are decided, and how.
#[derive(Debug, Default)]
struct DecisionCache {
    generation: u64,
    by_type: [HashMap<String, Decided>; 3],
    entries: usize,
}

#[derive(Debug, Default, Clone, Copy)]
struct Decided {
    known: u16,
    allowed: u16,
}

fn slot(t: ResourceType) -> usize {
    match t {
        ResourceType::Stream => 0,
        ResourceType::Group => 1,
        ResourceType::Cluster => 2,
    }
}

impl DecisionCache {
    fn clear(&mut self, generation: u64) {
        self.by_type.iter_mut().for_each(HashMap::clear);
        self.entries = 0;
        self.generation = generation;
    }

    fn get(&self, t: ResourceType, name: &str, op: Operation) -> Option<bool> {
        let bit = 1u16 << op.index();
        let d = self.by_type[slot(t)].get(name)?;
        (d.known & bit != 0).then_some(d.allowed & bit != 0)
    }

    fn put(&mut self, t: ResourceType, name: &str, op: Operation, allowed: bool, max: usize) {
        if !self.by_type[slot(t)].contains_key(name) {
            if self.entries >= max {
                // Full: start again rather than grow (a client touching more resources than
                // the limit only pays the uncached decision).
                let generation = self.generation;
                self.clear(generation);
            }
            self.entries += 1;
        }
        let d = self.by_type[slot(t)].entry(name.to_string()).or_default();
        let bit = 1u16 << op.index();
        d.known |= bit;
        if allowed {
            d.allowed |= bit;
        } else {
            d.allowed &= !bit;
        }
    }
}

#[cfg(test)]
mod tests;
