//! Request dispatch: decode the header, then one module per API translates the request into
//! engine calls and the outcome into the API's response. Handlers never see sockets.

mod acls;
mod api_versions;
mod create_partitions;
mod create_topics;
mod delete_topics;
mod describe_cluster;
mod describe_configs;
mod fetch;
mod group_admin;
mod group_offsets;
mod groups;
mod incremental_alter_configs;
mod init_producer_id;
mod list_offsets;
mod metadata;
mod produce;
mod sasl;
mod scram_users;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use memstream_kafka_wire::api::{self, key, ApiSpec};
use memstream_kafka_wire::{header, request, DecodeError, Request, Writer};

use crate::server::Context;
pub(crate) use memstream_engine::access::{Action, Session};

/// A response on its way: resolves to the framed response, or to nothing for requests Kafka
/// does not answer (Produce with acks = 0).
pub(crate) type Pending = Pin<Box<dyn Future<Output = Option<Vec<Bytes>>> + Send>>;

/// How to frame the response to one request.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    spec: &'static ApiSpec,
    version: i16,
    correlation_id: i32,
    /// Error codes (other than NONE) the answer carries, for the request's metrics.
    errors: Arc<std::sync::atomic::AtomicU32>,
}

impl Reply {
    /// How to answer a request of `spec` in `version` with `correlation_id`.
    pub(crate) fn new(spec: &'static ApiSpec, version: i16, correlation_id: i32) -> Reply {
        Reply {
            spec,
            version,
            correlation_id,
            errors: Arc::default(),
        }
    }

    /// A writer for the response body in the request's version.
    pub(crate) fn writer(&self) -> Writer {
        header::body_writer(self.spec, self.version)
    }

    /// The request's version.
    pub(crate) fn version(&self) -> i16 {
        self.version
    }

    /// The framed response.
    pub(crate) fn finish(&self, body: Writer) -> Vec<Bytes> {
        self.errors
            .fetch_add(body.errors(), std::sync::atomic::Ordering::Relaxed);
        header::frame_response(self.spec, self.version, self.correlation_id, body.finish())
    }

    /// A response that is ready now.
    pub(crate) fn now(&self, body: Writer) -> Option<Pending> {
        let framed = self.finish(body);
        Some(Box::pin(std::future::ready(Some(framed))))
    }
}

/// The APIs this front-end answers: ApiVersions advertises exactly these (with the versions
/// the codec implements), and any other key closes the connection as unknown.
pub(crate) const HANDLED: &[i16] = &[
    key::PRODUCE,
    key::FETCH,
    key::LIST_OFFSETS,
    key::METADATA,
    key::OFFSET_COMMIT,
    key::OFFSET_FETCH,
    key::FIND_COORDINATOR,
    key::JOIN_GROUP,
    key::HEARTBEAT,
    key::LEAVE_GROUP,
    key::SYNC_GROUP,
    key::DESCRIBE_GROUPS,
    key::LIST_GROUPS,
    key::SASL_HANDSHAKE,
    key::API_VERSIONS,
    key::INIT_PRODUCER_ID,
    key::DELETE_GROUPS,
    key::CREATE_TOPICS,
    key::DELETE_TOPICS,
    key::DESCRIBE_ACLS,
    key::CREATE_ACLS,
    key::DELETE_ACLS,
    key::DESCRIBE_CONFIGS,
    key::SASL_AUTHENTICATE,
    key::CREATE_PARTITIONS,
    key::INCREMENTAL_ALTER_CONFIGS,
    key::DESCRIBE_CLUSTER,
    key::DESCRIBE_USER_SCRAM_CREDENTIALS,
    key::ALTER_USER_SCRAM_CREDENTIALS,
];

/// Who sent a request, for group membership and log lines (Kafka's client id and client
/// host).
#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub client_id: String,
    /// `/<ip>`, as Kafka shows it.
    pub host: String,
}

/// One connection as handlers see it: who is on it, from where, over what.
#[derive(Debug)]
pub(crate) struct Conn {
    /// Its id in the connection registry (as `GET /api/v1/connections` lists it).
    pub id: u64,
    /// The client's address.
    pub peer: std::net::SocketAddr,
    /// Whether the connection is TLS.
    pub tls: bool,
    /// The principal and its cached ACL decisions (shared with the connection's pending
    /// responses).
    pub session: Arc<Session>,
}

/// Whether the connection's principal may perform `action` (always, with security off). A
/// refusal is counted (`memstream_auth_denied_total`) and logged at debug level with what
/// was needed; the handler answers with Kafka's *_AUTHORIZATION_FAILED code.
pub(crate) fn allowed(ctx: &Context, session: &Session, action: Action<'_>) -> bool {
    match ctx.engine.access.check(session, action) {
        Ok(()) => true,
        Err(denied) => {
            tracing::debug!(host = session.host(), %denied, "kafka request denied by ACL");
            false
        }
    }
}

/// The message of a refusal.
pub(crate) fn denied_message(what: &str, name: &str) -> String {
    format!("not authorized to access {what} {name:?}")
}

/// The table entries of [`HANDLED`], by key.
pub(crate) fn advertised() -> Vec<ApiSpec> {
    api::SUPPORTED
        .iter()
        .filter(|s| HANDLED.contains(&s.key))
        .copied()
        .collect()
}

/// Decodes `frame` (one request without its size prefix) and starts answering it. `Err`
/// closes the connection: the request could not be decoded, or its API key is unknown.
pub(crate) fn dispatch(
    frame: Bytes,
    ctx: &Arc<Context>,
    conn: &Conn,
) -> Result<Option<Pending>, DecodeError> {
    let peer = conn.peer;
    let len = frame.len();
    let peeked = header::peek(&frame);
    if let Some((api_key, version, correlation_id)) = peeked {
        if !HANDLED.contains(&api_key) {
            tracing::warn!(
                api_key,
                version,
                "kafka request for an API this broker does not implement"
            );
            return Err(DecodeError::UnknownApi(api_key));
        }
        let unsupported = api::spec(api_key).is_some_and(|s| !s.supports(version));
        if api_key == key::API_VERSIONS && unsupported {
            // A newer client's ApiVersions: answer in v0 so it can pick a version we have.
            tracing::debug!(
                version,
                "ApiVersions version not supported; answering in v0"
            );
            ctx.metrics.request(key::API_VERSIONS, len);
            return Ok(api_versions::unsupported(correlation_id));
        }
    }
    let (header, spec, request) = request::decode(frame).inspect_err(|e| {
        if let Some((api_key, version, _)) = peeked {
            tracing::warn!(api_key, version, error = %e, "kafka request refused");
        }
    })?;
    ctx.metrics.request(header.api_key, len);
    let reply = Reply::new(spec, header.api_version, header.correlation_id);
    let client = || Client {
        client_id: header.client_id.clone().unwrap_or_default(),
        host: format!("/{}", peer.ip()),
    };
    let timed = Timed {
        errors: reply.errors.clone(),
        api_key: header.api_key,
        request_id: (conn.id, header.correlation_id),
        started: std::time::Instant::now(),
    };
    let pending = match request {
        Request::Produce(req) => produce::handle(req, ctx, conn, reply),
        Request::Fetch(req) => fetch::handle(req, ctx, conn, reply),
        Request::ListOffsets(req) => list_offsets::handle(req, ctx, conn, reply),
        Request::Metadata(req) => metadata::handle(req, ctx, conn, reply),
        Request::ApiVersions(req) => api_versions::handle(req, reply),
        Request::InitProducerId(req) => init_producer_id::handle(req, ctx, conn, reply),
        Request::FindCoordinator(req) => groups::find_coordinator(req, ctx, conn, reply),
        Request::JoinGroup(req) => groups::join(req, ctx, conn, reply, &client()),
        Request::SyncGroup(req) => groups::sync(req, ctx, conn, reply),
        Request::Heartbeat(req) => groups::heartbeat(req, ctx, conn, reply),
        Request::LeaveGroup(req) => groups::leave(req, ctx, conn, reply),
        Request::OffsetCommit(req) => group_offsets::commit(req, ctx, conn, reply),
        Request::OffsetFetch(req) => group_offsets::fetch(req, ctx, conn, reply),
        Request::ListGroups(req) => group_admin::list(req, ctx, conn, reply),
        Request::DescribeGroups(req) => group_admin::describe(req, ctx, conn, reply),
        Request::DeleteGroups(req) => group_admin::delete(req, ctx, conn, reply),
        Request::CreateTopics(req) => create_topics::handle(req, ctx, conn, reply),
        Request::DeleteTopics(req) => delete_topics::handle(req, ctx, conn, reply),
        Request::DescribeConfigs(req) => describe_configs::handle(req, ctx, conn, reply),
        Request::CreatePartitions(req) => create_partitions::handle(req, ctx, conn, reply),
        Request::IncrementalAlterConfigs(req) => {
            incremental_alter_configs::handle(req, ctx, conn, reply)
        }
        Request::DescribeCluster(req) => describe_cluster::handle(req, ctx, conn, reply),
        Request::SaslHandshake(req) => sasl::handshake(req, ctx, reply, &client()),
        Request::SaslAuthenticate(req) => sasl::authenticate(req, ctx, reply, &client()),
        Request::DescribeAcls(req) => acls::describe(req, ctx, conn, reply, &client()),
        Request::CreateAcls(req) => acls::create(req, ctx, conn, reply, &client()),
        Request::DeleteAcls(req) => acls::delete(req, ctx, conn, reply, &client()),
        Request::DescribeUserScramCredentials(req) => scram_users::describe(req, ctx, conn, reply),
        Request::AlterUserScramCredentials(req) => scram_users::alter(req, ctx, conn, reply),
        _ => return Err(DecodeError::UnknownApi(header.api_key)),
    };
    Ok(pending.map(|pending| timed.around(pending, ctx.clone())))
}

/// A request being answered: counted and timed when its answer is ready
/// (`memstream_kafka_request_duration_seconds`), logged with its id when slower than
/// `log.slow_request_ms`.
struct Timed {
    /// Shared with the request's [`Reply`]: the error codes its answer carries.
    errors: Arc<std::sync::atomic::AtomicU32>,
    api_key: i16,
    /// The connection's id and the request's correlation id: `k<conn>-<correlation>` in logs.
    request_id: (u64, i32),
    started: std::time::Instant,
}

impl Timed {
    fn around(self, pending: Pending, ctx: Arc<Context>) -> Pending {
        Box::pin(async move {
            let answer = pending.await;
            let elapsed = self.started.elapsed();
            // Failed: no answer, or an answer carrying an error code for one of its entries.
            let errors = self.errors.load(std::sync::atomic::Ordering::Relaxed);
            ctx.metrics
                .answered(self.api_key, elapsed, answer.is_none() || errors > 0);
            let slow_ms = ctx.settings.slow_request_ms();
            // Fetch long-polls and group joins wait by design; their time is not slowness.
            let waits = matches!(self.api_key, key::FETCH | key::JOIN_GROUP | key::SYNC_GROUP);
            if slow_ms > 0 && !waits && elapsed >= std::time::Duration::from_millis(slow_ms) {
                let (conn, correlation) = self.request_id;
                tracing::warn!(
                    request_id = %format_args!("k{conn}-{correlation}"),
                    api = api::spec(self.api_key).map_or("unknown", |s| s.name),
                    elapsed_ms = elapsed.as_millis() as u64,
                    "slow kafka request (log.slow_request_ms)"
                );
            }
            answer
        })
    }
}

/// How many times each name appears (admin requests refuse a topic named twice).
pub(crate) fn name_counts<'a>(
    names: impl Iterator<Item = &'a str>,
) -> std::collections::HashMap<&'a str, usize> {
    let mut counts = std::collections::HashMap::new();
    for name in names {
        *counts.entry(name).or_insert(0) += 1;
    }
    counts
}

/// The current time in ms since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Runs blocking work (file I/O) on the blocking pool; a task that failed is `None`.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    tokio::task::spawn_blocking(work).await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_handled_api_is_in_the_codec_table() {
        let advertised = advertised();
        assert_eq!(advertised.len(), HANDLED.len());
        assert!(advertised.iter().all(|s| HANDLED.contains(&s.key)));
    }
}
