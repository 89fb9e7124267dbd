//! Request handlers, one file per request kind.
//!
//! [`apply`] is the dispatch point of the request path: the connection has decoded a
//! [`Request`] and hands it here with the connection's [`Session`]; the handler answers with an
//! [`Action`] telling the connection what to write and whether to go on.

mod goodbye;
mod hello;
mod ping;

use memstream_protocol::{ErrorCode, Frame, Request};

use crate::server::Shared;

/// Per-connection protocol state that handlers may read and change.
#[derive(Debug, Default)]
pub(crate) struct Session {
    /// The negotiated protocol version; `None` until HELLO succeeds.
    pub version: Option<u8>,
    /// The client's self-reported name, for logs.
    pub client_name: String,
}

/// What the connection must do after a request.
#[derive(Debug)]
pub(crate) enum Action {
    /// Queue this response and keep serving.
    Reply(Frame),
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
    pub shared: &'a Shared,
    pub limits: &'a ConnLimits,
}

/// Runs `request` (carried by `frame`) against the session and the server.
pub(crate) fn apply(
    request: Request,
    frame: &Frame,
    session: &mut Session,
    ctx: &Context<'_>,
) -> Action {
    match request {
        Request::Hello(hello) => hello::apply(hello, frame, session, ctx),
        Request::Ping(payload) => ping::apply(payload, frame),
        Request::Goodbye(reason) => goodbye::apply(reason, frame, session),
    }
}
