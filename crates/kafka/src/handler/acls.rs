//! DescribeAcls, CreateAcls and DeleteAcls on the engine's authorizer (the ACLs every
//! listener enforces, in the data directory). Describing needs DESCRIBE on the cluster,
//! creating and deleting ALTER (CLUSTER_AUTHORIZATION_FAILED otherwise). With security off
//! (`auth.enabled = false`) they answer SECURITY_DISABLED, as Kafka does without an
//! authorizer: stored ACLs would not be enforced, and saying so is better than pretending.

use std::collections::BTreeMap;
use std::sync::Arc;

use memstream_kafka_wire::create_acls::{
    self, CreateAclsRequest, CreateAclsResponse, CreationResult,
};
use memstream_kafka_wire::delete_acls::{
    self, DeleteAclsRequest, DeleteAclsResponse, FilterResult, MatchingAcl,
};
use memstream_kafka_wire::describe_acls::{
    self, AclEntry, AclResource, DescribeAclsRequest, DescribeAclsResponse,
};
use memstream_kafka_wire::ErrorCode;

use super::{allowed, blocking, Action, Client, Conn, Pending, Reply};
use crate::acl_codes;
use crate::server::Context;

/// The message of every refusal with security off.
const NO_AUTHORIZER: &str = "security is off on this broker (auth.enabled = false)";

/// Why the request is refused before it is looked at, if it is.
fn refusal(ctx: &Context, conn: &Conn, action: Action<'_>) -> Option<(ErrorCode, String)> {
    if !ctx.engine.access.enabled() {
        return Some((ErrorCode::SECURITY_DISABLED, NO_AUTHORIZER.into()));
    }
    let what = match action {
        Action::DescribeSecurity => "describe",
        _ => "alter",
    };
    (!allowed(ctx, &conn.session, action)).then(|| {
        (
            ErrorCode::CLUSTER_AUTHORIZATION_FAILED,
            format!("{what} on the cluster is needed to {what} ACLs"),
        )
    })
}

pub(super) fn describe(
    req: DescribeAclsRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
    client: &Client,
) -> Option<Pending> {
    let answer = |error_code, error_message, resources| {
        let resp = DescribeAclsResponse {
            throttle_time_ms: 0,
            error_code,
            error_message,
            resources,
        };
        let mut w = reply.writer();
        describe_acls::encode(&mut w, reply.version(), &resp);
        reply.now(w)
    };
    if let Some((code, message)) = refusal(ctx, conn, Action::DescribeSecurity) {
        tracing::info!(client_id = ?client.client_id, host = client.host, code = code.name(), "DescribeAcls refused");
        return answer(code, Some(message), Vec::new());
    }
    let filter = match acl_codes::filter(&req) {
        Ok(f) => f,
        Err(e) => return answer(ErrorCode::INVALID_REQUEST, Some(e), Vec::new()),
    };
    // Grouped by resource pattern, as Kafka answers.
    let mut by_resource: BTreeMap<(i8, String, i8), Vec<AclEntry>> = BTreeMap::new();
    for acl in ctx.engine.access.authorizer.list(&filter) {
        let b = acl_codes::binding(&acl);
        by_resource
            .entry((b.resource_type, b.resource_name, b.pattern_type))
            .or_default()
            .push(AclEntry {
                principal: b.principal,
                host: b.host,
                operation: b.operation,
                permission_type: b.permission_type,
            });
    }
    let resources = by_resource
        .into_iter()
        .map(
            |((resource_type, resource_name, pattern_type), acls)| AclResource {
                resource_type,
                resource_name,
                pattern_type,
                acls,
            },
        )
        .collect();
    answer(ErrorCode::NONE, None, resources)
}

pub(super) fn create(
    req: CreateAclsRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
    client: &Client,
) -> Option<Pending> {
    let encode = move |results: Vec<CreationResult>| {
        let resp = CreateAclsResponse {
            throttle_time_ms: 0,
            results,
        };
        let mut w = reply.writer();
        create_acls::encode(&mut w, reply.version(), &resp);
        reply.finish(w)
    };
    if let Some((code, message)) = refusal(ctx, conn, Action::AlterSecurity) {
        tracing::info!(client_id = ?client.client_id, host = client.host, code = code.name(), "CreateAcls refused");
        let refused = CreationResult {
            error_code: code,
            error_message: Some(message),
        };
        let results = vec![refused; req.creations.len()];
        return Some(Box::pin(std::future::ready(Some(encode(results)))));
    }
    let checked: Vec<Result<_, String>> = req.creations.iter().map(acl_codes::acl).collect();
    let principal = conn.session.principal().to_string();
    let ctx = ctx.clone();
    Some(Box::pin(async move {
        let valid: Vec<_> = checked
            .iter()
            .filter_map(|c| c.as_ref().ok())
            .cloned()
            .collect();
        let count = valid.len();
        let access = ctx.engine.access.clone();
        // One durable write for the request's valid ACLs.
        let stored = match count {
            0 => Ok(0),
            _ => blocking(move || access.authorizer.add(valid).map_err(|e| e.to_string()))
                .await
                .unwrap_or_else(|| Err("the ACL store task failed".into())),
        };
        if let Err(e) = &stored {
            tracing::warn!(error = %e, "CreateAcls failed");
        } else if count > 0 {
            tracing::info!(%principal, acls = count, "ACLs created (CreateAcls)");
        }
        let results = checked
            .into_iter()
            .map(|c| match (c, &stored) {
                (Err(e), _) => CreationResult {
                    error_code: ErrorCode::INVALID_REQUEST,
                    error_message: Some(e),
                },
                (Ok(_), Err(e)) => CreationResult {
                    error_code: ErrorCode::UNKNOWN_SERVER_ERROR,
                    error_message: Some(e.clone()),
                },
                (Ok(_), Ok(_)) => CreationResult {
                    error_code: ErrorCode::NONE,
                    error_message: None,
                },
            })
            .collect();
        Some(encode(results))
    }))
}

pub(super) fn delete(
    req: DeleteAclsRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
    client: &Client,
) -> Option<Pending> {
    let encode = move |filter_results: Vec<FilterResult>| {
        let resp = DeleteAclsResponse {
            throttle_time_ms: 0,
            filter_results,
        };
        let mut w = reply.writer();
        delete_acls::encode(&mut w, reply.version(), &resp);
        reply.finish(w)
    };
    let failed = |error_code, message: String| FilterResult {
        error_code,
        error_message: Some(message),
        matching_acls: Vec::new(),
    };
    if let Some((code, message)) = refusal(ctx, conn, Action::AlterSecurity) {
        tracing::info!(client_id = ?client.client_id, host = client.host, code = code.name(), "DeleteAcls refused");
        let results = req
            .filters
            .iter()
            .map(|_| failed(code, message.clone()))
            .collect();
        return Some(Box::pin(std::future::ready(Some(encode(results)))));
    }
    let filters: Vec<Result<_, String>> = req.filters.iter().map(acl_codes::filter).collect();
    let access = ctx.engine.access.clone();
    Some(Box::pin(async move {
        let results = blocking(move || {
            filters
                .into_iter()
                .map(|f| match f {
                    Err(e) => failed(ErrorCode::INVALID_REQUEST, e),
                    Ok(filter) => match access.authorizer.remove(&filter) {
                        Ok(removed) => FilterResult {
                            error_code: ErrorCode::NONE,
                            error_message: None,
                            matching_acls: removed
                                .iter()
                                .map(|a| MatchingAcl {
                                    error_code: ErrorCode::NONE,
                                    error_message: None,
                                    acl: acl_codes::binding(a),
                                })
                                .collect(),
                        },
                        Err(e) => failed(ErrorCode::UNKNOWN_SERVER_ERROR, e.to_string()),
                    },
                })
                .collect()
        })
        .await?;
        Some(encode(results))
    }))
}
