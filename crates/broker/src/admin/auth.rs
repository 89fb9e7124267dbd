//! Who is calling the admin API, and whether they may: [`Caller`] is an extractor every
//! handler takes. With security on (`auth.enabled`) the caller is the principal of an
//! `Authorization: Bearer <token>` (from `memstream token create`), of `Basic` credentials
//! (a user of the store), or of the verified client certificate (mutual TLS); anything else
//! is 401 after the failure delay, logged with the peer. Each handler then checks the
//! engine [`Action`](Needs) it performs (403 with what was needed), the same ACLs every
//! listener enforces. With security off every caller may do everything.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use memstream_engine::access::{Access, Action as Needs, Principal, Session};

use super::error::{ApiError, ApiResult};
use super::Peer;
use crate::state::Shared;

/// An authenticated caller.
pub(crate) struct Caller {
    session: Session,
    access: Arc<Access>,
    pub peer: IpAddr,
}

impl Caller {
    /// 403 unless the caller may perform `needs`.
    pub fn check(&self, needs: Needs<'_>) -> ApiResult<()> {
        self.access.check(&self.session, needs).map_err(|denied| {
            tracing::info!(peer = %self.peer, %denied, "admin request denied by ACL");
            ApiError::new(StatusCode::FORBIDDEN, "NOT_AUTHORIZED", denied.to_string())
        })
    }

    /// Whether the caller may perform `needs` (lists show only what the caller may see).
    pub fn may(&self, needs: Needs<'_>) -> bool {
        self.access.check(&self.session, needs).is_ok()
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError {
        challenge: true,
        ..ApiError::new(StatusCode::UNAUTHORIZED, "AUTHENTICATION_REQUIRED", message)
    }
}

impl FromRequestParts<Arc<Shared>> for Caller {
    type Rejection = ApiError;

    /// A script's request (`X-Requested-With`, as the console sends) gets its 401 without
    /// the `WWW-Authenticate` challenge, so the browser does not open its own login dialog
    /// over the console's.
    async fn from_request_parts(parts: &mut Parts, shared: &Arc<Shared>) -> ApiResult<Caller> {
        let scripted = parts.headers.contains_key("x-requested-with");
        authenticate(parts, shared).await.map_err(|mut e| {
            e.challenge &= !scripted;
            e
        })
    }
}

async fn authenticate(parts: &mut Parts, shared: &Arc<Shared>) -> ApiResult<Caller> {
    let access = shared.engine.access.clone();
    let peer =
        parts.extensions.get::<Peer>().cloned().ok_or_else(|| {
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", "no peer")
        })?;
    let caller = |principal: Option<Principal>| Caller {
        session: access.session(principal, peer.ip),
        access: access.clone(),
        peer: peer.ip,
    };
    if !access.enabled() {
        return Ok(caller(None));
    }
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().map(str::to_owned));
    let value = match authorization {
        None => {
            // Mutual TLS: the client certificate is the login.
            return match peer.cert_name.clone() {
                Some(name) => Ok(caller(Some(Principal::user(name)))),
                None => Err(unauthorized(
                    "authentication required: a bearer token, basic credentials or a client certificate",
                )),
            };
        }
        Some(Ok(value)) => value,
        Some(Err(_)) => String::new(),
    };
    let check = {
        let access = access.clone();
        let ip = peer.ip;
        move || -> Result<Principal, String> {
            let now = access.clock_ms();
            if let Some(token) = value.strip_prefix("Bearer ") {
                return access.check_token(token.trim(), ip, now, crate::writer::now_ms());
            }
            let Some(basic) = value.strip_prefix("Basic ") else {
                return Err("an Authorization header that is neither Bearer nor Basic".into());
            };
            let decoded = base64_decode(basic.trim()).ok_or("Basic credentials not in base64")?;
            let text = String::from_utf8(decoded).map_err(|_| "Basic credentials not UTF-8")?;
            let (user, password) = text
                .split_once(':')
                .ok_or("Basic credentials without a colon")?;
            access
                .check_password(user, password.as_bytes(), ip, now)
                .map_err(|f| f.to_string())
        }
    };
    // A password costs a PBKDF2 derivation: off the runtime.
    let checked = tokio::task::spawn_blocking(check)
        .await
        .unwrap_or_else(|_| Err("the check failed".into()));
    match checked {
        Ok(principal) => Ok(caller(Some(principal))),
        Err(why) => {
            tracing::warn!(peer = %peer.ip, reason = %why, "admin authentication failed");
            tokio::time::sleep(access.failure_delay()).await;
            Err(unauthorized("authentication failed"))
        }
    }
}

/// Standard base64 (RFC 4648, with padding), as HTTP basic sends it.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}
