//! SaslHandshake and SaslAuthenticate once the exchange is over, or on a listener without
//! SASL (PLAINTEXT: `auth.enabled = false`). Answered as Kafka answers them: a SASL request
//! that reaches Kafka's request handlers (`KafkaApis.handleSaslHandshakeRequest` and
//! `handleSaslAuthenticateRequest`) is ILLEGAL_SASL_STATE. A client configured for SASL
//! against a PLAINTEXT listener so fails at once, with Kafka's error, rather than waiting; the
//! connection stays open, as in Kafka, for whatever the client sends next. (On a SASL
//! listener the exchange itself is `crate::authenticate`; re-authentication, KIP-368, is not
//! offered: SaslAuthenticate answers a session lifetime of 0.)

use std::sync::Arc;

use memstream_kafka_wire::sasl_authenticate::{
    self, SaslAuthenticateRequest, SaslAuthenticateResponse,
};
use memstream_kafka_wire::sasl_handshake::{self, SaslHandshakeRequest, SaslHandshakeResponse};
use memstream_kafka_wire::ErrorCode;

use super::{Client, Pending, Reply};
use crate::server::Context;

/// What SaslAuthenticate says on a PLAINTEXT listener.
const NOT_ENABLED: &str =
    "SASL is not enabled on this listener (it is PLAINTEXT): connect with security.protocol=PLAINTEXT";

/// What SaslAuthenticate says after the exchange.
const DONE: &str = "already authenticated; re-authentication is not supported";

/// Most characters of the client's mechanism name logged (SASL names are at most 20, RFC 4422).
const MECHANISM_LOGGED_CHARS_MAX: usize = 64;

fn why(ctx: &Context) -> &'static str {
    match ctx.engine.access.enabled() {
        true => DONE,
        false => NOT_ENABLED,
    }
}

pub(super) fn handshake(
    req: SaslHandshakeRequest,
    ctx: &Arc<Context>,
    reply: Reply,
    client: &Client,
) -> Option<Pending> {
    let mechanism: String = req
        .mechanism
        .chars()
        .take(MECHANISM_LOGGED_CHARS_MAX)
        .collect();
    tracing::info!(
        client_id = ?client.client_id,
        host = client.host,
        ?mechanism,
        "SaslHandshake refused with ILLEGAL_SASL_STATE: {}",
        why(ctx)
    );
    let resp = SaslHandshakeResponse {
        error_code: ErrorCode::ILLEGAL_SASL_STATE,
        mechanisms: Vec::new(),
    };
    let mut w = reply.writer();
    sasl_handshake::encode(&mut w, reply.version(), &resp);
    reply.now(w)
}

pub(super) fn authenticate(
    req: SaslAuthenticateRequest,
    ctx: &Arc<Context>,
    reply: Reply,
    client: &Client,
) -> Option<Pending> {
    // The token may hold a password: only its length is logged.
    tracing::info!(
        client_id = ?client.client_id,
        host = client.host,
        token_bytes = req.auth_bytes.len(),
        "SaslAuthenticate refused with ILLEGAL_SASL_STATE: {}",
        why(ctx)
    );
    let resp = SaslAuthenticateResponse {
        error_code: ErrorCode::ILLEGAL_SASL_STATE,
        error_message: Some(why(ctx).into()),
        auth_bytes: bytes::Bytes::new(),
        session_lifetime_ms: 0,
    };
    let mut w = reply.writer();
    sasl_authenticate::encode(&mut w, reply.version(), &resp);
    reply.now(w)
}
