//! Users and ACLs managed through a running server (`memstream user ... --server`,
//! `memstream acl ... --server`): USER_PUT, USER_DELETE, USER_LIST, ACL_CREATE, ACL_LIST and
//! ACL_DELETE. Changing needs ALTER on the cluster, listing DESCRIBE (a superuser has both).
//!
//! A user's credentials are made by the client (RFC 5802: salt, iterations, StoredKey,
//! ServerKey), so the password never leaves the client and what travels cannot be used to
//! log in. Payloads (little-endian, as everywhere):
//!
//! ```text
//! USER_PUT     str16 name, u8 mode (0 create, 1 update, 2 upsert), u8 count (1..=2),
//!              count x { u8 mechanism (1 SCRAM-SHA-256, 2 SCRAM-SHA-512), u32 iterations,
//!                        u8 salt_len, salt, u8 stored_key_len, stored_key,
//!                        u8 server_key_len, server_key }
//!              -> empty
//! USER_DELETE  str16 name -> empty
//! USER_LIST    empty -> u32 count, count x { str16 name, u64 created_ms, u64 updated_ms,
//!                        u8 n, n x { u8 mechanism, u32 iterations } }
//! ACL_CREATE   u16 count, count x acl -> empty
//! ACL_LIST     filter -> u32 count, count x acl
//! ACL_DELETE   filter -> u32 count, count x acl (the ACLs removed)
//!
//! acl          str16 principal, str16 host, u8 resource_type (1 stream, 2 group, 3 cluster),
//!              str16 name, u8 pattern_type (1 literal, 2 prefixed), u8 operation (below),
//!              u8 permission (1 allow, 2 deny)
//! filter       opt principal, opt host, u8 resource_type (0 any), opt name,
//!              u8 pattern (0 any, 1 literal, 2 prefixed, 3 match), u8 operation (0 any),
//!              u8 permission (0 any); opt = u8 present (0/1), then str16 when 1
//! operation    1 all, 2 read, 3 write, 4 create, 5 delete, 6 alter, 7 describe,
//!              8 cluster_action, 9 describe_configs, 10 alter_configs, 11 idempotent_write
//! ```

use bytes::{BufMut, BytesMut};

use super::reader::{put_str16, PayloadReader};
use crate::error::PayloadError;

/// Longest user name, principal or host in these messages.
pub const SECURITY_NAME_BYTES_MAX: usize = 255;
/// Longest salt, StoredKey or ServerKey.
pub const KEY_BYTES_MAX: usize = 64;
/// Most ACLs one ACL_CREATE carries.
pub const ACLS_PER_REQUEST_MAX: usize = 1000;
/// Longest resource name in an ACL (a stream or group name, or a prefix of one).
pub const RESOURCE_NAME_BYTES_MAX: usize = 255;

/// Defines a `u8`-coded enum with its wire codes, `code()` and `from_code()`.
macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $code:literal,)+ }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $variant,)+ }

        impl $name {
            /// Every value, in code order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The wire code.
            pub fn code(self) -> u8 {
                match self { $($name::$variant => $code,)+ }
            }

            /// The value of a wire code.
            pub fn from_code(code: u8) -> Option<$name> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }
    };
}

wire_enum!(
    /// A SCRAM mechanism.
    WireMechanism {
        /// SCRAM-SHA-256.
        ScramSha256 = 1,
        /// SCRAM-SHA-512.
        ScramSha512 = 2,
    }
);

wire_enum!(
    /// What USER_PUT may do.
    PutMode {
        /// Add a new user (USER_ALREADY_EXISTS if it exists).
        Create = 0,
        /// Change an existing user (USER_NOT_FOUND if it does not).
        Update = 1,
        /// Add or change.
        Upsert = 2,
    }
);

wire_enum!(
    /// The kind of resource an ACL is about.
    AclResource {
        /// A stream.
        Stream = 1,
        /// A consumer group.
        Group = 2,
        /// The cluster.
        Cluster = 3,
    }
);

wire_enum!(
    /// How an ACL's resource name matches.
    AclPattern {
        /// The name itself (or every name, for `*`).
        Literal = 1,
        /// Every name starting with it.
        Prefixed = 2,
    }
);

wire_enum!(
    /// What an ACL allows or denies.
    AclOperation {
        /// Every operation.
        All = 1,
        /// Consume, fetch offsets, join a group.
        Read = 2,
        /// Produce.
        Write = 3,
        /// Create streams.
        Create = 4,
        /// Delete streams, groups, records.
        Delete = 5,
        /// Change a stream or the cluster's security.
        Alter = 6,
        /// See that a resource exists.
        Describe = 7,
        /// Cluster administration.
        ClusterAction = 8,
        /// Read settings.
        DescribeConfigs = 9,
        /// Change settings.
        AlterConfigs = 10,
        /// Produce with an idempotent producer id.
        IdempotentWrite = 11,
    }
);

wire_enum!(
    /// Allow or deny.
    AclPermission {
        /// Grants the operation.
        Allow = 1,
        /// Refuses it; deny wins.
        Deny = 2,
    }
);

wire_enum!(
    /// How a filter's name matches ACL resource names.
    AclPatternFilter {
        /// Any pattern type with exactly the name.
        Any = 0,
        /// Literal patterns with exactly the name.
        Literal = 1,
        /// Prefixed patterns with exactly the name.
        Prefixed = 2,
        /// Every ACL that applies to a resource of that name (literal, `*`, prefixes).
        Match = 3,
    }
);

// `wire_enum!` derives no `Default` (most of its enums have none).
#[allow(clippy::derivable_impls)]
impl Default for AclPatternFilter {
    fn default() -> Self {
        AclPatternFilter::Any
    }
}

fn code<T>(
    r: &mut PayloadReader<'_>,
    field: &'static str,
    from: fn(u8) -> Option<T>,
) -> Result<T, PayloadError> {
    let raw = r.u8(field)?;
    from(raw).ok_or(PayloadError::InvalidValue {
        field,
        value: u64::from(raw),
    })
}

/// A code where 0 means "any".
fn any_code<T>(
    r: &mut PayloadReader<'_>,
    field: &'static str,
    from: fn(u8) -> Option<T>,
) -> Result<Option<T>, PayloadError> {
    match r.u8(field)? {
        0 => Ok(None),
        raw => from(raw).map(Some).ok_or(PayloadError::InvalidValue {
            field,
            value: u64::from(raw),
        }),
    }
}

fn bytes8(r: &mut PayloadReader<'_>, field: &'static str) -> Result<Vec<u8>, PayloadError> {
    let len = usize::from(r.u8(field)?);
    if len > KEY_BYTES_MAX {
        return Err(PayloadError::TooLong {
            field,
            len,
            max: KEY_BYTES_MAX,
        });
    }
    Ok(r.take_bytes(len, field)?.to_vec())
}

fn put_bytes8(dst: &mut BytesMut, b: &[u8]) {
    let b = b.get(..KEY_BYTES_MAX).unwrap_or(b);
    dst.put_u8(b.len() as u8);
    dst.put_slice(b);
}

fn opt_str(
    r: &mut PayloadReader<'_>,
    field: &'static str,
    max: usize,
) -> Result<Option<String>, PayloadError> {
    match r.u8(field)? {
        0 => Ok(None),
        1 => Ok(Some(r.str16(field, max)?.to_owned())),
        other => Err(PayloadError::InvalidValue {
            field,
            value: u64::from(other),
        }),
    }
}

fn put_opt_str(dst: &mut BytesMut, s: Option<&str>) {
    match s {
        None => dst.put_u8(0),
        Some(s) => {
            dst.put_u8(1);
            put_str16(dst, s);
        }
    }
}

/// One SCRAM credential, as the client made it.
#[derive(Clone, PartialEq, Eq)]
pub struct WireCredential {
    /// The mechanism.
    pub mechanism: WireMechanism,
    /// PBKDF2 iterations.
    pub iterations: u32,
    /// The salt.
    pub salt: Vec<u8>,
    /// `H(ClientKey)`.
    pub stored_key: Vec<u8>,
    /// `HMAC(SaltedPassword, "Server Key")`.
    pub server_key: Vec<u8>,
}

// Key material stays out of logs.
impl std::fmt::Debug for WireCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WireCredential")
            .field("mechanism", &self.mechanism)
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

/// USER_PUT: set a user's credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PutUser {
    /// The user.
    pub name: String,
    /// Create, update or either.
    pub mode: PutMode,
    /// One per mechanism (1 or 2).
    pub credentials: Vec<WireCredential>,
}

impl PutUser {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        put_str16(dst, &self.name);
        dst.put_u8(self.mode.code());
        let count = self.credentials.len().min(WireMechanism::ALL.len());
        dst.put_u8(count as u8);
        for c in self.credentials.iter().take(count) {
            dst.put_u8(c.mechanism.code());
            dst.put_u32_le(c.iterations);
            put_bytes8(dst, &c.salt);
            put_bytes8(dst, &c.stored_key);
            put_bytes8(dst, &c.server_key);
        }
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<PutUser, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let name = r.str16("name", SECURITY_NAME_BYTES_MAX)?.to_owned();
        let mode = code(&mut r, "mode", PutMode::from_code)?;
        let count = r.u8("count")?;
        if count == 0 || usize::from(count) > WireMechanism::ALL.len() {
            return Err(PayloadError::InvalidValue {
                field: "count",
                value: u64::from(count),
            });
        }
        let credentials = (0..count)
            .map(|_| {
                Ok(WireCredential {
                    mechanism: code(&mut r, "mechanism", WireMechanism::from_code)?,
                    iterations: r.u32("iterations")?,
                    salt: bytes8(&mut r, "salt")?,
                    stored_key: bytes8(&mut r, "stored_key")?,
                    server_key: bytes8(&mut r, "server_key")?,
                })
            })
            .collect::<Result<_, PayloadError>>()?;
        r.finish()?;
        Ok(PutUser {
            name,
            mode,
            credentials,
        })
    }
}

/// USER_DELETE's payload and any request naming one user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRef {
    /// The user.
    pub name: String,
}

impl UserRef {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        put_str16(dst, &self.name);
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<UserRef, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let name = r.str16("name", SECURITY_NAME_BYTES_MAX)?.to_owned();
        r.finish()?;
        Ok(UserRef { name })
    }
}

/// One user in USER_LIST's response: no key material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    /// The name.
    pub name: String,
    /// When it was added (ms since the epoch).
    pub created_ms: u64,
    /// When its credentials last changed.
    pub updated_ms: u64,
    /// Its mechanisms and their iteration counts.
    pub mechanisms: Vec<(WireMechanism, u32)>,
}

/// USER_LIST's response.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct UserList {
    /// Every user, by name.
    pub users: Vec<UserInfo>,
}

impl UserList {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        dst.put_u32_le(self.users.len() as u32);
        for u in &self.users {
            put_str16(dst, &u.name);
            dst.put_u64_le(u.created_ms);
            dst.put_u64_le(u.updated_ms);
            let n = u.mechanisms.len().min(WireMechanism::ALL.len());
            dst.put_u8(n as u8);
            for (m, iterations) in u.mechanisms.iter().take(n) {
                dst.put_u8(m.code());
                dst.put_u32_le(*iterations);
            }
        }
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<UserList, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let count = r.u32("count")?;
        let mut users = Vec::new();
        for _ in 0..count {
            let name = r.str16("name", SECURITY_NAME_BYTES_MAX)?.to_owned();
            let created_ms = r.u64("created_ms")?;
            let updated_ms = r.u64("updated_ms")?;
            let n = r.u8("mechanisms")?;
            if usize::from(n) > WireMechanism::ALL.len() {
                return Err(PayloadError::InvalidValue {
                    field: "mechanisms",
                    value: u64::from(n),
                });
            }
            let mechanisms = (0..n)
                .map(|_| {
                    Ok((
                        code(&mut r, "mechanism", WireMechanism::from_code)?,
                        r.u32("iterations")?,
                    ))
                })
                .collect::<Result<_, PayloadError>>()?;
            users.push(UserInfo {
                name,
                created_ms,
                updated_ms,
                mechanisms,
            });
        }
        r.finish()?;
        Ok(UserList { users })
    }
}

/// One ACL on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WireAcl {
    /// `User:<name>` or `User:*`.
    pub principal: String,
    /// The client address, or `*`.
    pub host: String,
    /// The kind of resource.
    pub resource_type: AclResource,
    /// The resource name or prefix.
    pub name: String,
    /// How the name matches.
    pub pattern_type: AclPattern,
    /// The operation.
    pub operation: AclOperation,
    /// Allow or deny.
    pub permission: AclPermission,
}

impl WireAcl {
    fn encode(&self, dst: &mut BytesMut) {
        put_str16(dst, &self.principal);
        put_str16(dst, &self.host);
        dst.put_u8(self.resource_type.code());
        put_str16(dst, &self.name);
        dst.put_u8(self.pattern_type.code());
        dst.put_u8(self.operation.code());
        dst.put_u8(self.permission.code());
    }

    fn decode(r: &mut PayloadReader<'_>) -> Result<WireAcl, PayloadError> {
        Ok(WireAcl {
            principal: r.str16("principal", SECURITY_NAME_BYTES_MAX)?.to_owned(),
            host: r.str16("host", SECURITY_NAME_BYTES_MAX)?.to_owned(),
            resource_type: code(r, "resource_type", AclResource::from_code)?,
            name: r.str16("name", RESOURCE_NAME_BYTES_MAX)?.to_owned(),
            pattern_type: code(r, "pattern_type", AclPattern::from_code)?,
            operation: code(r, "operation", AclOperation::from_code)?,
            permission: code(r, "permission", AclPermission::from_code)?,
        })
    }
}

/// ACL_CREATE's payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateAcls {
    /// The ACLs to add (1..=[`ACLS_PER_REQUEST_MAX`]).
    pub acls: Vec<WireAcl>,
}

impl CreateAcls {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        let count = self.acls.len().min(ACLS_PER_REQUEST_MAX);
        dst.put_u16_le(count as u16);
        for acl in self.acls.iter().take(count) {
            acl.encode(dst);
        }
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<CreateAcls, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let count = usize::from(r.u16("count")?);
        if count == 0 || count > ACLS_PER_REQUEST_MAX {
            return Err(PayloadError::InvalidValue {
                field: "count",
                value: count as u64,
            });
        }
        let acls = (0..count)
            .map(|_| WireAcl::decode(&mut r))
            .collect::<Result<_, _>>()?;
        r.finish()?;
        Ok(CreateAcls { acls })
    }
}

/// ACL_LIST's and ACL_DELETE's payload: each `None` matches everything.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AclFilterMsg {
    /// Exactly this principal.
    pub principal: Option<String>,
    /// Exactly this host.
    pub host: Option<String>,
    /// This kind of resource.
    pub resource_type: Option<AclResource>,
    /// This resource name, matched per `pattern`.
    pub name: Option<String>,
    /// How `name` matches.
    pub pattern: AclPatternFilter,
    /// This operation.
    pub operation: Option<AclOperation>,
    /// This permission.
    pub permission: Option<AclPermission>,
}

impl AclFilterMsg {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        put_opt_str(dst, self.principal.as_deref());
        put_opt_str(dst, self.host.as_deref());
        dst.put_u8(self.resource_type.map_or(0, AclResource::code));
        put_opt_str(dst, self.name.as_deref());
        dst.put_u8(self.pattern.code());
        dst.put_u8(self.operation.map_or(0, AclOperation::code));
        dst.put_u8(self.permission.map_or(0, AclPermission::code));
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<AclFilterMsg, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let principal = opt_str(&mut r, "principal", SECURITY_NAME_BYTES_MAX)?;
        let host = opt_str(&mut r, "host", SECURITY_NAME_BYTES_MAX)?;
        let resource_type = any_code(&mut r, "resource_type", AclResource::from_code)?;
        let name = opt_str(&mut r, "name", RESOURCE_NAME_BYTES_MAX)?;
        let pattern = code(&mut r, "pattern", AclPatternFilter::from_code)?;
        let operation = any_code(&mut r, "operation", AclOperation::from_code)?;
        let permission = any_code(&mut r, "permission", AclPermission::from_code)?;
        r.finish()?;
        Ok(AclFilterMsg {
            principal,
            host,
            resource_type,
            name,
            pattern,
            operation,
            permission,
        })
    }
}

/// ACL_LIST's and ACL_DELETE's response.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AclList {
    /// The ACLs selected (or removed).
    pub acls: Vec<WireAcl>,
}

impl AclList {
    /// Appends the encoded payload.
    pub fn encode(&self, dst: &mut BytesMut) {
        dst.put_u32_le(self.acls.len() as u32);
        for acl in &self.acls {
            acl.encode(dst);
        }
    }

    /// Parses a payload.
    pub fn decode(payload: &[u8]) -> Result<AclList, PayloadError> {
        let mut r = PayloadReader::new(payload);
        let count = r.u32("count")?;
        let mut acls = Vec::new();
        for _ in 0..count {
            acls.push(WireAcl::decode(&mut r)?);
        }
        r.finish()?;
        Ok(AclList { acls })
    }
}

#[path = "security_convert.rs"]
mod convert;

#[cfg(test)]
#[path = "security_tests.rs"]
mod tests;
