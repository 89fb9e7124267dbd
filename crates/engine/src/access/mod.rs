//! Who may do what, decided once for every front-end: the engine's authorization boundary
//! and the login exchanges behind it.
//!
//! A front-end holds one [`Session`] per connection (the principal and its cached decisions)
//! and asks [`Access::check`] with the [`Action`] a request performs before calling the
//! engine operation; the action-to-ACL mapping below is the only place that says which
//! operation on which resource an action needs, so the native and Kafka protocols cannot
//! disagree. Logins ([`login`]) run the SASL mechanisms over the one user store, with the
//! throttle and the counters every front-end shares.

pub mod login;

use std::net::IpAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use memstream_auth::authorizer::AuthzSettings;
use memstream_auth::throttle::Throttle;
use memstream_auth::tokens::TokenStore;
use memstream_auth::users::{UserSettings, UserStore};
use memstream_auth::{acl, AuthConfig, Authorizer, Operation, ResourceType, StoreError};

pub use memstream_auth::{Principal, Session};

/// What a request does, in the engine's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    /// Append to a stream.
    Produce(&'a str),
    /// Read a stream (fetch, subscribe, list offsets).
    Consume(&'a str),
    /// See that a stream exists and its partitions (metadata, list, describe).
    DescribeStream(&'a str),
    /// Create a stream.
    CreateStream(&'a str),
    /// Delete a stream.
    DeleteStream(&'a str),
    /// Add partitions to a stream.
    AlterStream(&'a str),
    /// Read a stream's settings.
    DescribeStreamConfigs(&'a str),
    /// Change a stream's settings.
    AlterStreamConfigs(&'a str),
    /// Delete a stream's records below an offset.
    DeleteRecords(&'a str),
    /// Join, sync, heartbeat or leave a consumer group.
    UseGroup(&'a str),
    /// Commit a group's offsets for a stream.
    CommitOffsets {
        /// The group.
        group: &'a str,
        /// The stream.
        stream: &'a str,
    },
    /// Read a group's committed offsets.
    FetchOffsets(&'a str),
    /// See a group (list, describe).
    DescribeGroup(&'a str),
    /// Delete a group.
    DeleteGroup(&'a str),
    /// Get an idempotent producer id.
    IdempotentWrite,
    /// Read cluster state.
    DescribeCluster,
    /// List ACLs and users.
    DescribeSecurity,
    /// Change ACLs, users and tokens.
    AlterSecurity,
    /// Change the node's running state: reload its configuration, close a connection.
    AlterCluster,
}

/// A refused action: what was needed, on what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{principal} may not {} {} {name:?}", operation.name(), kind(*resource_type))]
pub struct Denied {
    /// Who asked.
    pub principal: String,
    /// The operation that was needed.
    pub operation: Operation,
    /// On this kind of resource.
    pub resource_type: ResourceType,
    /// Named so.
    pub name: String,
}

fn kind(t: ResourceType) -> &'static str {
    match t {
        ResourceType::Stream => "stream",
        ResourceType::Group => "group",
        ResourceType::Cluster => "cluster",
    }
}

/// Counters every front-end's logins add to (`memstream_auth_*` on /metrics).
#[derive(Debug, Default)]
pub struct AuthCounters {
    /// Successful logins.
    pub successes: AtomicU64,
    /// Failed logins (wrong password, unknown user, malformed exchange).
    pub failures: AtomicU64,
    /// Logins refused by the throttle without being checked.
    pub throttled: AtomicU64,
    /// Requests refused by an ACL.
    pub denied: AtomicU64,
}

/// The users, tokens, ACLs and login rules.
#[derive(Debug)]
pub struct Access {
    /// The ACLs and superusers.
    pub authorizer: Authorizer,
    /// The user store.
    pub users: UserStore,
    /// Admin API tokens.
    pub tokens: TokenStore,
    /// Failed logins per address.
    pub throttle: Throttle,
    /// Login and ACL counters.
    pub counters: AuthCounters,
    failure_delay_ms: AtomicU64,
    allow_plain_without_tls: AtomicBool,
    /// The secret an unknown user's fake SCRAM salt is derived from (per process).
    unknown_user_key: [u8; 32],
    /// The throttle's clock starts here.
    started: std::time::Instant,
}

impl Access {
    /// Opens the stores in `data_dir` (`None`: in memory only) with `config`.
    pub fn open(data_dir: Option<&Path>, config: &AuthConfig) -> Result<Access, StoreError> {
        let authorizer = Authorizer::open(
            data_dir,
            &AuthzSettings {
                enabled: config.enabled,
                superusers: config.superusers.clone(),
                acls_max: config.max_acls as usize,
                decision_cache_entries_max: config.max_cached_decisions as usize,
            },
        )?;
        let users = UserStore::open(
            data_dir,
            UserSettings {
                users_max: config.max_users as usize,
                iterations: config.scram_iterations,
            },
        )?;
        let tokens = TokenStore::open(data_dir, config.max_tokens as usize)?;
        let mut unknown_user_key = [0u8; 32];
        getrandom::fill(&mut unknown_user_key).map_err(|e| StoreError::Random(e.to_string()))?;
        Ok(Access {
            authorizer,
            users,
            tokens,
            throttle: Throttle::new(
                config.max_failures_per_minute,
                config.max_tracked_addresses as usize,
            ),
            counters: AuthCounters::default(),
            failure_delay_ms: AtomicU64::new(config.failure_delay_ms),
            allow_plain_without_tls: AtomicBool::new(config.allow_plain_without_tls),
            unknown_user_key,
            started: std::time::Instant::now(),
        })
    }

    /// Security off, in memory: every action allowed (tests, embedded use).
    pub fn disabled() -> Access {
        Access::open(None, &AuthConfig::default()).expect("in-memory stores open")
    }

    /// Whether clients must log in and ACLs apply.
    pub fn enabled(&self) -> bool {
        self.authorizer.enabled()
    }

    /// Applies the live `[auth]` keys of a reloaded configuration.
    pub fn reconfigure(&self, config: &AuthConfig) {
        self.authorizer.set_superusers(&config.superusers);
        self.throttle
            .set_max_failures(config.max_failures_per_minute);
        self.failure_delay_ms
            .store(config.failure_delay_ms, Ordering::Relaxed);
        self.allow_plain_without_tls
            .store(config.allow_plain_without_tls, Ordering::Relaxed);
        self.users.set_iterations(config.scram_iterations);
    }

    /// Milliseconds since the stores were opened: the monotonic clock logins are throttled
    /// by.
    pub fn clock_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// How long a failed login waits before it is answered.
    pub fn failure_delay(&self) -> Duration {
        Duration::from_millis(self.failure_delay_ms.load(Ordering::Relaxed))
    }

    /// A session for a connection from `peer` that has not logged in: `User:ANONYMOUS`, or
    /// the principal of its verified client certificate.
    pub fn session(&self, principal: Option<Principal>, peer: IpAddr) -> Session {
        Session::new(
            principal.unwrap_or_else(Principal::anonymous),
            peer.to_string(),
        )
    }

    /// Whether `session` may perform `action`; a refusal is counted and says what was
    /// needed.
    pub fn check(&self, session: &Session, action: Action<'_>) -> Result<(), Denied> {
        if !self.enabled() {
            return Ok(());
        }
        let allowed = |op, t, name: &str| self.authorizer.authorize(session, op, t, name);
        let cluster = acl::CLUSTER_NAME;
        let (op, t, name) = requirement(action);
        let ok = match action {
            // Kafka: CREATE on the cluster, or on the topic itself.
            Action::CreateStream(stream) => {
                allowed(Operation::Create, ResourceType::Cluster, cluster)
                    || allowed(Operation::Create, ResourceType::Stream, stream)
            }
            // Kafka: READ on the group and on each topic committed.
            Action::CommitOffsets { group, stream } => {
                if !allowed(Operation::Read, ResourceType::Group, group) {
                    return Err(self.denied(session, Operation::Read, ResourceType::Group, group));
                }
                allowed(Operation::Read, ResourceType::Stream, stream)
            }
            // Kafka 3: IDEMPOTENT_WRITE on the cluster, or WRITE on any topic.
            Action::IdempotentWrite => {
                allowed(Operation::IdempotentWrite, ResourceType::Cluster, cluster)
                    || self
                        .authorizer
                        .may_on_any(session, Operation::Write, ResourceType::Stream)
            }
            _ => allowed(op, t, name),
        };
        if ok {
            Ok(())
        } else {
            Err(self.denied(session, op, t, name))
        }
    }

    /// Whether `session` may see `stream` (listing and metadata show only those).
    pub fn may_describe_stream(&self, session: &Session, stream: &str) -> bool {
        self.check(session, Action::DescribeStream(stream)).is_ok()
    }

    /// Whether `session` may see `group`.
    pub fn may_describe_group(&self, session: &Session, group: &str) -> bool {
        self.check(session, Action::DescribeGroup(group)).is_ok()
    }

    fn denied(&self, session: &Session, op: Operation, t: ResourceType, name: &str) -> Denied {
        self.counters.denied.fetch_add(1, Ordering::Relaxed);
        Denied {
            principal: session.principal().to_string(),
            operation: op,
            resource_type: t,
            name: name.to_string(),
        }
    }

    /// The `memstream_auth_*` metrics in Prometheus text format.
    pub fn render_metrics(&self) -> String {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        format!(
            "# HELP memstream_auth_successes_total Successful logins, every protocol.\n\
             # TYPE memstream_auth_successes_total counter\n\
             memstream_auth_successes_total {}\n\
             # HELP memstream_auth_failures_total Failed logins (wrong password, unknown user, malformed exchange).\n\
             # TYPE memstream_auth_failures_total counter\n\
             memstream_auth_failures_total {}\n\
             # HELP memstream_auth_throttled_total Logins refused unchecked by auth.max_failures_per_minute.\n\
             # TYPE memstream_auth_throttled_total counter\n\
             memstream_auth_throttled_total {}\n\
             # HELP memstream_auth_denied_total Requests refused by an ACL.\n\
             # TYPE memstream_auth_denied_total counter\n\
             memstream_auth_denied_total {}\n",
            get(&c.successes),
            get(&c.failures),
            get(&c.throttled),
            get(&c.denied),
        )
    }
}

/// The operation and resource an action needs (the first of two for the actions
/// [`Access::check`] treats specially).
fn requirement(action: Action<'_>) -> (Operation, ResourceType, &str) {
    use ResourceType::{Cluster, Group, Stream};
    let cluster = acl::CLUSTER_NAME;
    match action {
        Action::Produce(s) => (Operation::Write, Stream, s),
        Action::Consume(s) => (Operation::Read, Stream, s),
        Action::DescribeStream(s) => (Operation::Describe, Stream, s),
        Action::CreateStream(s) => (Operation::Create, Stream, s),
        Action::DeleteStream(s) => (Operation::Delete, Stream, s),
        Action::AlterStream(s) => (Operation::Alter, Stream, s),
        Action::DescribeStreamConfigs(s) => (Operation::DescribeConfigs, Stream, s),
        Action::AlterStreamConfigs(s) => (Operation::AlterConfigs, Stream, s),
        Action::DeleteRecords(s) => (Operation::Delete, Stream, s),
        Action::UseGroup(g) => (Operation::Read, Group, g),
        Action::CommitOffsets { stream, .. } => (Operation::Read, Stream, stream),
        Action::FetchOffsets(g) => (Operation::Describe, Group, g),
        Action::DescribeGroup(g) => (Operation::Describe, Group, g),
        Action::DeleteGroup(g) => (Operation::Delete, Group, g),
        Action::IdempotentWrite => (Operation::IdempotentWrite, Cluster, cluster),
        Action::DescribeCluster => (Operation::Describe, Cluster, cluster),
        Action::DescribeSecurity => (Operation::Describe, Cluster, cluster),
        Action::AlterSecurity => (Operation::Alter, Cluster, cluster),
        Action::AlterCluster => (Operation::Alter, Cluster, cluster),
    }
}

#[cfg(test)]
mod tests;
