//! ACL_CREATE, ACL_LIST and ACL_DELETE: the engine's authorizer, changed through a running
//! server (ALTER on the cluster; DESCRIBE to list, checked by `permit`). A change bumps the
//! authorizer's generation, so every connection's cached decisions are dropped and the next
//! request anywhere sees it.

use bytes::BytesMut;
use memstream_auth::acl::{Acl, AclFilter};
use memstream_protocol::message::{AclFilterMsg, AclList, CreateAcls};
use memstream_protocol::Frame;

use super::users::store_change;
use super::{Action, Context};
use crate::wire_errors::WireCode;

/// ACL_CREATE: all or none (the first invalid ACL refuses the request).
pub(crate) fn create(create: CreateAcls, frame: &Frame, ctx: &Context<'_>) -> Action {
    let access = ctx.shared.engine.access.clone();
    let acls: Vec<Acl> = create.acls.into_iter().map(Into::into).collect();
    for acl in &acls {
        tracing::info!(%acl, "ACL added through the server");
    }
    store_change(frame, "ACL_CREATE", move || {
        access.authorizer.add(acls).map(drop)
    })
}

fn encode(acls: &[Acl]) -> bytes::Bytes {
    let mut payload = BytesMut::new();
    AclList {
        acls: acls.iter().map(Into::into).collect(),
    }
    .encode(&mut payload);
    payload.freeze()
}

/// ACL_LIST.
pub(crate) fn list(filter: AclFilterMsg, frame: &Frame, ctx: &Context<'_>) -> Action {
    let acls = ctx
        .shared
        .engine
        .access
        .authorizer
        .list(&AclFilter::from(filter));
    Action::Reply(Frame::response(frame, encode(&acls)).into())
}

/// ACL_DELETE: answers with the ACLs removed.
pub(crate) fn delete(filter: AclFilterMsg, frame: &Frame, ctx: &Context<'_>) -> Action {
    let access = ctx.shared.engine.access.clone();
    let reply = Frame::response(frame, bytes::Bytes::new());
    Action::Later(Box::pin(async move {
        let filter = AclFilter::from(filter);
        let removed = tokio::task::spawn_blocking(move || access.authorizer.remove(&filter)).await;
        Some(
            match removed {
                Ok(Ok(acls)) => {
                    for acl in &acls {
                        tracing::info!(%acl, "ACL removed through the server");
                    }
                    Frame::response(&reply, encode(&acls))
                }
                Ok(Err(e)) => Frame::error_response(&reply, e.code(), &e.to_string()),
                Err(e) => Frame::error_response(
                    &reply,
                    memstream_protocol::ErrorCode::Internal,
                    &format!("ACL_DELETE failed: {e}"),
                ),
            }
            .into(),
        )
    }))
}
