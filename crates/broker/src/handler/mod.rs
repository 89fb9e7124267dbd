//! Request handlers, one file per request kind.
//!
//! [`apply`] is the dispatch point of the request path: the connection has decoded a
//! [`Request`] and hands it here with the connection's [`Session`]; the handler answers with an
//! [`Action`] telling the connection what to write and whether to go on.

mod acls;
mod auth;
mod credit;
mod fetch;
mod goodbye;
mod group_delete;
mod group_describe;
mod group_heartbeat;
mod group_join;
mod group_leave;
mod group_list;
mod hello;
mod init_producer;
mod offset_commit;
mod offset_fetch;
mod ping;
mod produce;
mod stream_create;
mod stream_delete;
mod stream_describe;
mod stream_list;
mod subscribe;
mod unsubscribe;
mod users;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use memstream_protocol::{ErrorCode, Frame, Request};

use memstream_engine::access::{Action as Needs, Denied};

use crate::state::Shared;
use crate::streams::StreamError;
use crate::wire_errors::WireCode;
pub(crate) use crate::writer::{now_ms, Response};

/// A handler that must wait (for an fsync, or for new records): resolves to its response, or
/// to `None` when the request wants none (`acks = none`).
pub(crate) type Pending = Pin<Box<dyn Future<Output = Option<Response>> + Send>>;

/// Per-connection protocol state that handlers may read and change.
#[derive(Debug, Default)]
pub(crate) struct Session {
    /// The negotiated protocol version; `None` until HELLO succeeds.
    pub version: Option<u8>,
    /// The client's self-reported name, for logs.
    pub client_name: String,
    /// Push subscriptions by stream id; dropping one stops it.
    pub subscriptions: std::collections::HashMap<u32, crate::subscription::Subscription>,
    /// The largest frame the client said (in HELLO) it accepts, if it did.
    pub peer_max_frame_bytes: Option<u32>,
    /// The client's address (ACL hosts, the login throttle).
    pub peer: Option<std::net::IpAddr>,
    /// Whether the connection is TLS.
    pub tls: bool,
    /// The verified client certificate's name (mutual TLS): the principal `User:<name>`,
    /// with no AUTH needed.
    pub cert_name: Option<String>,
    /// Who the connection is, once known: at HELLO with security off (anonymous), after a
    /// successful AUTH with it on. Until then only HELLO, AUTH, PING and GOODBYE are served.
    pub principal: Option<Arc<memstream_engine::access::Session>>,
    /// A login in progress: the exchange and its mechanism.
    pub login: Option<(memstream_engine::access::login::Login, String)>,
}

impl Session {
    /// Whether requests beyond the handshake may be served.
    pub fn ready(&self) -> bool {
        self.version.is_some() && self.principal.is_some()
    }

    /// The largest frame this connection may send: the server's limit, or the client's when
    /// it announced a smaller one.
    pub fn send_limit(&self, limits: &ConnLimits) -> u32 {
        self.peer_max_frame_bytes
            .map_or(limits.max_frame_bytes, |peer| {
                peer.min(limits.max_frame_bytes)
            })
    }
}

/// What the connection must do after a request.
pub(crate) enum Action {
    /// Queue this response and keep serving.
    Reply(Response),
    /// The response comes later; the request counts as in flight until it does.
    Later(Pending),
    /// The request wants no response.
    NoReply,
    /// Queue this response, answer what is already in flight, then close (GOODBYE).
    ReplyAndClose(Frame),
    /// Answer with this error and close the connection: the request broke the protocol.
    Fatal(Frame, ErrorCode),
}

/// Limits fixed for a connection when it was accepted, announced in the HELLO response.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnLimits {
    pub max_frame_bytes: u32,
    pub max_in_flight_requests: u32,
    pub max_write_queue_bytes: u64,
    pub idle_timeout_ms: u64,
}

/// What handlers see of the server and the connection.
pub(crate) struct Context<'a> {
    pub shared: &'a Arc<Shared>,
    pub limits: &'a ConnLimits,
    /// The connection's outbound queue, for pushes.
    pub queue: &'a crate::writer::WriteQueue,
}

/// The error response for a failed stream operation.
pub(crate) fn stream_error(to: &Frame, e: &StreamError) -> Frame {
    Frame::error_response(to, e.code(), &e.to_string())
}

/// Answers `frame` with an empty response once the offset store has made `durable` change
/// durable (or with the error it failed with): OFFSET_COMMIT and GROUP_DELETE.
pub(crate) fn when_durable(
    frame: &Frame,
    queued: Result<
        tokio::sync::oneshot::Receiver<Result<(), crate::groups::StoreError>>,
        crate::groups::GroupError,
    >,
) -> Action {
    let durable = match queued {
        Ok(durable) => durable,
        Err(e) => {
            return Action::Reply(Frame::error_response(frame, e.code(), &e.to_string()).into())
        }
    };
    let reply = Frame::response(frame, bytes::Bytes::new());
    Action::Later(Box::pin(async move {
        Some(
            match durable.await {
                Ok(Ok(())) => reply,
                Ok(Err(e)) => {
                    let e = crate::groups::GroupError::Storage(e);
                    Frame::error_response(&reply, e.code(), &e.to_string())
                }
                Err(_) => Frame::error_response(
                    &reply,
                    memstream_protocol::ErrorCode::ShuttingDown,
                    "the offset store stopped before the change was written",
                ),
            }
            .into(),
        )
    }))
}

/// Runs blocking work (file I/O, fsync) on the blocking pool. A task that panicked or was
/// cancelled answers INTERNAL in every handler: the one mapping of a failed blocking task.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StreamError> + Send + 'static,
) -> Result<T, StreamError> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| {
        Err(StreamError::TaskFailed {
            panicked: e.is_panic(),
        })
    })
}

/// Runs `request` (carried by `frame`) against the session and the server.
pub(crate) fn apply(
    request: Request,
    frame: &Frame,
    session: &mut Session,
    ctx: &Context<'_>,
) -> Action {
    if let Some(refused) = permit(&request, frame, session, ctx) {
        return refused;
    }
    match request {
        Request::Hello(hello) => hello::apply(hello, frame, session, ctx),
        Request::Auth(auth) => auth::apply(auth, frame, session, ctx),
        Request::Ping(payload) => ping::apply(payload, frame),
        Request::Goodbye(reason) => goodbye::apply(reason, frame, session),
        Request::CreateStream(create) => stream_create::apply(create, frame, ctx),
        Request::DeleteStream(stream) => stream_delete::apply(stream, frame, ctx),
        Request::ListStreams => stream_list::apply(frame, session, ctx),
        Request::DescribeStream(stream) => stream_describe::apply(stream, frame, ctx),
        Request::Produce(produce) => produce::apply(produce, frame, ctx),
        Request::Fetch(fetch) => fetch::apply(fetch, frame, session, ctx),
        Request::Subscribe(subscribe) => subscribe::apply(subscribe, frame, session, ctx),
        Request::Credit(credit) => credit::apply(credit, frame, session),
        Request::Unsubscribe => unsubscribe::apply(frame, session),
        Request::JoinGroup(join) => group_join::apply(join, frame, ctx),
        Request::Heartbeat(hb) => group_heartbeat::apply(hb, frame, ctx),
        Request::LeaveGroup(leave) => group_leave::apply(leave, frame, ctx),
        Request::CommitOffsets(commit) => offset_commit::apply(commit, frame, ctx),
        Request::FetchOffsets(fetch) => offset_fetch::apply(fetch, frame, ctx),
        Request::DescribeGroup(group) => group_describe::apply(group, frame, ctx),
        Request::DeleteGroup(group) => group_delete::apply(group, frame, ctx),
        Request::ListGroups => group_list::apply(frame, session, ctx),
        Request::InitProducer => init_producer::apply(frame, ctx),
        Request::PutUser(put) => users::put(put, frame, ctx),
        Request::DeleteUser(user) => users::delete(user, frame, ctx),
        Request::ListUsers => users::list(frame, ctx),
        Request::CreateAcls(create) => acls::create(create, frame, ctx),
        Request::ListAcls(filter) => acls::list(filter, frame, ctx),
        Request::DeleteAcls(filter) => acls::delete(filter, frame, ctx),
    }
}

/// Whether the connection's principal may perform `needs` (always, with security off).
pub(crate) fn allowed(
    ctx: &Context<'_>,
    session: &Session,
    needs: Needs<'_>,
) -> Result<(), Denied> {
    let access = &ctx.shared.engine.access;
    match &session.principal {
        Some(principal) => access.check(principal, needs),
        None if !access.enabled() => Ok(()),
        None => access.check(&access.session(None, unspecified()), needs),
    }
}

fn unspecified() -> std::net::IpAddr {
    std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)
}

/// The ACL check of a request that names its resources: `Some` is the NOT_AUTHORIZED answer.
/// Listing streams and groups and pattern subscriptions filter by ACL in their handlers.
fn permit(
    request: &Request,
    frame: &Frame,
    session: &Session,
    ctx: &Context<'_>,
) -> Option<Action> {
    let check = |needs| allowed(ctx, session, needs);
    let outcome = match request {
        Request::CreateStream(c) => check(Needs::CreateStream(&c.name)),
        Request::DeleteStream(s) => check(Needs::DeleteStream(&s.name)),
        Request::DescribeStream(s) => check(Needs::DescribeStream(&s.name)),
        Request::Produce(p) => check(Needs::Produce(&p.stream)),
        Request::Fetch(f) => check(Needs::Consume(&f.stream)),
        Request::Subscribe(s)
            if memstream_protocol::pattern::Pattern::parse(&s.pattern)
                .is_ok_and(|p| !p.is_wildcard()) =>
        {
            check(Needs::Consume(&s.pattern))
        }
        Request::JoinGroup(j) => check(Needs::UseGroup(&j.group)),
        Request::Heartbeat(h) => check(Needs::UseGroup(&h.group)),
        Request::LeaveGroup(l) => check(Needs::UseGroup(&l.group)),
        Request::CommitOffsets(c) => check(Needs::UseGroup(&c.group)).and_then(|()| {
            c.offsets.iter().try_for_each(|o| {
                check(Needs::CommitOffsets {
                    group: &c.group,
                    stream: &o.stream,
                })
            })
        }),
        Request::FetchOffsets(f) => check(Needs::FetchOffsets(&f.group)).and_then(|()| {
            f.partitions
                .iter()
                .try_for_each(|p| check(Needs::DescribeStream(&p.stream)))
        }),
        Request::DescribeGroup(g) => check(Needs::DescribeGroup(&g.name)),
        Request::DeleteGroup(g) => check(Needs::DeleteGroup(&g.name)),
        Request::InitProducer => check(Needs::IdempotentWrite),
        Request::PutUser(_)
        | Request::DeleteUser(_)
        | Request::CreateAcls(_)
        | Request::DeleteAcls(_) => check(Needs::AlterSecurity),
        Request::ListUsers | Request::ListAcls(_) => check(Needs::DescribeSecurity),
        _ => Ok(()),
    };
    let denied = outcome.err()?;
    tracing::debug!(client = %session.client_name, %denied, "request denied by ACL");
    Some(Action::Reply(
        Frame::error_response(frame, ErrorCode::NotAuthorized, &denied.to_string()).into(),
    ))
}
