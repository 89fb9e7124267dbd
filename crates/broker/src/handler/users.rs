//! USER_PUT, USER_DELETE and USER_LIST: the engine's user store, changed through a running
//! server (ALTER on the cluster; DESCRIBE to list, checked by `permit`). The credentials
//! arrive made by the client, so no password reaches the server.

use bytes::{Bytes, BytesMut};
use memstream_auth::scram::ScramCredential;
use memstream_protocol::message::{PutUser, UserInfo, UserList, UserRef};
use memstream_protocol::Frame;

use super::{now_ms, Action, Context};
use crate::wire_errors::WireCode;

/// Runs a change of the security stores on the blocking pool (it replaces a file and
/// fsyncs), answering with an empty response or the store's error.
pub(super) fn store_change(
    frame: &Frame,
    what: &'static str,
    change: impl FnOnce() -> Result<(), memstream_auth::StoreError> + Send + 'static,
) -> Action {
    let reply = Frame::response(frame, Bytes::new());
    Action::Later(Box::pin(async move {
        let done = tokio::task::spawn_blocking(change).await;
        Some(
            match done {
                Ok(Ok(())) => reply,
                Ok(Err(e)) => {
                    tracing::info!(error = %e, "{what} refused");
                    Frame::error_response(&reply, e.code(), &e.to_string())
                }
                Err(e) => Frame::error_response(
                    &reply,
                    memstream_protocol::ErrorCode::Internal,
                    &format!("{what} failed: {e}"),
                ),
            }
            .into(),
        )
    }))
}

/// USER_PUT.
pub(crate) fn put(put: PutUser, frame: &Frame, ctx: &Context<'_>) -> Action {
    let access = ctx.shared.engine.access.clone();
    let credentials: Vec<ScramCredential> = put.credentials.into_iter().map(Into::into).collect();
    let (name, mode) = (put.name, put.mode.into());
    tracing::info!(user = %name, ?mode, "user credentials set through the server");
    store_change(frame, "USER_PUT", move || {
        access.users.put(&name, credentials, mode, now_ms())
    })
}

/// USER_DELETE.
pub(crate) fn delete(user: UserRef, frame: &Frame, ctx: &Context<'_>) -> Action {
    let access = ctx.shared.engine.access.clone();
    tracing::info!(user = %user.name, "user removed through the server");
    store_change(frame, "USER_DELETE", move || {
        access.users.remove(&user.name)
    })
}

/// USER_LIST.
pub(crate) fn list(frame: &Frame, ctx: &Context<'_>) -> Action {
    let users = &ctx.shared.engine.access.users;
    let list = UserList {
        users: users
            .list()
            .into_iter()
            .map(|u| UserInfo {
                mechanisms: users
                    .describe(&u.name)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(m, iterations)| (m.into(), iterations))
                    .collect(),
                name: u.name,
                created_ms: u.created_ms,
                updated_ms: u.updated_ms,
            })
            .collect(),
    };
    let mut payload = BytesMut::new();
    list.encode(&mut payload);
    Action::Reply(Frame::response(frame, payload.freeze()).into())
}
