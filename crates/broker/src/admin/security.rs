//! `/api/v1/users`, `/api/v1/acls`, `/api/v1/tokens`: the engine's security stores through the
//! admin API. Reading needs DESCRIBE on the cluster, changing ALTER (a superuser has both),
//! as the native USER_*/ACL_* requests and Kafka's admin APIs. A password sent here (create,
//! change) is turned into SCRAM credentials at once and never stored or logged; send it over
//! TLS (`[admin.tls]`). A token is shown once, when it is created, and stored hashed.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use memstream_auth::acl::{
    Acl, AclFilter, Operation, PatternFilter, PatternType, Permission, ResourceType,
};
use memstream_auth::StoreError;
use memstream_engine::access::Action as Needs;
use serde::Deserialize;

use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use crate::state::Shared;
use crate::wire_errors::WireCode;

fn store_error(e: &StoreError) -> ApiError {
    ApiError::from_code(e.code(), e.to_string())
}

/// Runs a store change on the blocking pool (it replaces a file and fsyncs).
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> ApiResult<T> {
    match tokio::task::spawn_blocking(work).await {
        Ok(done) => done.map_err(|e| store_error(&e)),
        Err(e) => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            e.to_string(),
        )),
    }
}

/// `GET /api/v1/users`: names, mechanisms, dates; no key material.
pub(crate) async fn users(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
) -> ApiResult<Json<serde_json::Value>> {
    caller.check(Needs::DescribeSecurity)?;
    Ok(Json(
        serde_json::json!({ "users": shared.engine.access.users.list() }),
    ))
}

/// `GET /api/v1/users/{name}`: its mechanisms with their iteration counts.
pub(crate) async fn user(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    caller: Caller,
) -> ApiResult<Json<serde_json::Value>> {
    caller.check(Needs::DescribeSecurity)?;
    let users = &shared.engine.access.users;
    let credentials = users.describe(&name).ok_or_else(|| {
        store_error(&StoreError::NotFound {
            what: "user",
            name: name.clone(),
        })
    })?;
    let summary = users.list().into_iter().find(|u| u.name == name);
    let mechanisms: Vec<serde_json::Value> = credentials
        .into_iter()
        .map(|(m, iterations)| serde_json::json!({"mechanism": m.name(), "iterations": iterations}))
        .collect();
    Ok(Json(serde_json::json!({
        "name": name,
        "created_ms": summary.as_ref().map(|u| u.created_ms),
        "updated_ms": summary.as_ref().map(|u| u.updated_ms),
        "mechanisms": mechanisms,
    })))
}

/// A password, in a body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewUser {
    name: String,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewPassword {
    password: String,
}

/// `POST /api/v1/users`: 201.
pub(crate) async fn add_user(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    body: Result<Json<NewUser>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let Json(new) = body?;
    caller.check(Needs::AlterSecurity)?;
    let access = shared.engine.access.clone();
    tracing::info!(user = %new.name, peer = %caller.peer, "user added through the admin API");
    blocking(move || {
        access
            .users
            .add(&new.name, new.password.as_bytes(), crate::writer::now_ms())
    })
    .await?;
    Ok(StatusCode::CREATED)
}

/// `PATCH /api/v1/users/{name}`: a new password; 204.
pub(crate) async fn change_user(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    caller: Caller,
    body: Result<Json<NewPassword>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let Json(change) = body?;
    caller.check(Needs::AlterSecurity)?;
    let access = shared.engine.access.clone();
    tracing::info!(user = %name, peer = %caller.peer, "password changed through the admin API");
    blocking(move || {
        access
            .users
            .set_password(&name, change.password.as_bytes(), crate::writer::now_ms())
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/v1/users/{name}`: 204.
pub(crate) async fn remove_user(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    caller: Caller,
) -> ApiResult<StatusCode> {
    caller.check(Needs::AlterSecurity)?;
    let access = shared.engine.access.clone();
    tracing::info!(user = %name, peer = %caller.peer, "user removed through the admin API");
    blocking(move || access.users.remove(&name)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An ACL filter in a query: each absent field matches everything.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FilterQuery {
    principal: Option<String>,
    host: Option<String>,
    resource_type: Option<ResourceType>,
    name: Option<String>,
    /// `any` (default: any pattern type with exactly the name), `literal`, `prefixed`, or
    /// `match` (every ACL that applies to a resource of that name).
    pattern: Option<String>,
    operation: Option<String>,
    permission: Option<Permission>,
}

impl FilterQuery {
    fn filter(self) -> ApiResult<AclFilter> {
        let pattern = match self.pattern.as_deref() {
            None | Some("any") => PatternFilter::Any,
            Some("match") => PatternFilter::Match,
            Some("literal") => PatternFilter::Exact(PatternType::Literal),
            Some("prefixed") => PatternFilter::Exact(PatternType::Prefixed),
            Some(other) => {
                return Err(ApiError::bad_parameter(
                    "pattern",
                    format!("{other:?} is not any, literal, prefixed or match"),
                ))
            }
        };
        let operation = self
            .operation
            .map(|o| {
                Operation::from_name(&o).ok_or_else(|| {
                    ApiError::bad_parameter("operation", format!("{o:?} is not an operation"))
                })
            })
            .transpose()?;
        Ok(AclFilter {
            principal: self.principal,
            host: self.host,
            resource_type: self.resource_type,
            name: self.name,
            pattern,
            operation,
            permission: self.permission,
        })
    }
}

/// `GET /api/v1/acls?principal=...&resource_type=...`.
pub(crate) async fn acls(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    query: Result<Query<FilterQuery>, QueryRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let Query(q) = query?;
    caller.check(Needs::DescribeSecurity)?;
    let filter = q.filter()?;
    let acls = shared.engine.access.authorizer.list(&filter);
    Ok(Json(serde_json::json!({ "acls": acls })))
}

/// `POST /api/v1/acls`: one ACL or a list, all or none; 201.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum NewAcls {
    One(Acl),
    Many(Vec<Acl>),
}

pub(crate) async fn add_acls(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    body: Result<Json<NewAcls>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let Json(new) = body?;
    caller.check(Needs::AlterSecurity)?;
    let acls = match new {
        NewAcls::One(acl) => vec![acl],
        NewAcls::Many(acls) => acls,
    };
    for acl in &acls {
        tracing::info!(%acl, peer = %caller.peer, "ACL added through the admin API");
    }
    let access = shared.engine.access.clone();
    let added = blocking(move || access.authorizer.add(acls)).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "added": added })),
    ))
}

/// `DELETE /api/v1/acls?...`: the ACLs the filter selects (at least one field); returns
/// them.
pub(crate) async fn remove_acls(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    query: Result<Query<FilterQuery>, QueryRejection>,
) -> ApiResult<Json<serde_json::Value>> {
    let Query(q) = query?;
    caller.check(Needs::AlterSecurity)?;
    let filter = q.filter()?;
    if filter == AclFilter::default() {
        return Err(ApiError::bad_parameter(
            "query",
            "a filter is needed (principal, resource_type, name, ...); removing every ACL takes one that matches them",
        ));
    }
    let access = shared.engine.access.clone();
    let removed = blocking(move || access.authorizer.remove(&filter)).await?;
    for acl in &removed {
        tracing::info!(%acl, peer = %caller.peer, "ACL removed through the admin API");
    }
    Ok(Json(serde_json::json!({ "removed": removed })))
}

/// `GET /api/v1/tokens`: names, users, dates; no secrets.
pub(crate) async fn tokens(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
) -> ApiResult<Json<serde_json::Value>> {
    caller.check(Needs::DescribeSecurity)?;
    let tokens: Vec<serde_json::Value> = shared
        .engine
        .access
        .tokens
        .list()
        .into_iter()
        .map(|(name, t)| {
            serde_json::json!({
                "name": name,
                "user": t.user,
                "created_ms": t.created_ms,
                "expires_ms": t.expires_ms,
            })
        })
        .collect();
    Ok(Json(serde_json::json!({ "tokens": tokens })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewToken {
    name: String,
    /// A user of the store it acts as; without it the token is `User:<name>`.
    user: Option<String>,
    expires_in_days: Option<u64>,
}

/// `POST /api/v1/tokens`: 201 with the token, shown this once.
pub(crate) async fn add_token(
    State(shared): State<Arc<Shared>>,
    caller: Caller,
    body: Result<Json<NewToken>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let Json(new) = body?;
    caller.check(Needs::AlterSecurity)?;
    let access = shared.engine.access.clone();
    if let Some(user) = &new.user {
        if !access.users.contains(user) {
            return Err(store_error(&StoreError::NotFound {
                what: "user",
                name: user.clone(),
            }));
        }
    }
    let now = crate::writer::now_ms();
    let user = new.user.unwrap_or_else(|| new.name.clone());
    let expires = new
        .expires_in_days
        .map(|d| now.saturating_add(d.saturating_mul(86_400_000)));
    let name = new.name.clone();
    tracing::info!(token = %name, %user, peer = %caller.peer, "token created through the admin API");
    let secret = {
        let user = user.clone();
        blocking(move || access.tokens.create(&name, &user, now, expires)).await?
    };
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "name": new.name,
            "user": user,
            "expires_ms": expires,
            "token": secret,
        })),
    ))
}

/// `DELETE /api/v1/tokens/{name}`: 204; it stops working at once.
pub(crate) async fn revoke_token(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    caller: Caller,
) -> ApiResult<StatusCode> {
    caller.check(Needs::AlterSecurity)?;
    let access = shared.engine.access.clone();
    tracing::info!(token = %name, peer = %caller.peer, "token revoked through the admin API");
    blocking(move || access.tokens.revoke(&name)).await?;
    Ok(StatusCode::NO_CONTENT)
}
