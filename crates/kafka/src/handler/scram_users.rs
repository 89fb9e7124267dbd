//! DescribeUserScramCredentials and AlterUserScramCredentials (KIP-554) on the engine's user
//! store: users managed online through a running server, by a principal with DESCRIBE
//! (to describe) or ALTER (to change) on the cluster. The client sends a salted password
//! (`Hi(password, salt, i)`), from which the server keeps StoredKey and ServerKey; the
//! password itself never reaches the broker.

use std::collections::HashSet;
use std::sync::Arc;

use memstream_auth::scram::{Mechanism, ScramCredential, ITERATIONS_MAX, ITERATIONS_MIN};
use memstream_auth::StoreError;
use memstream_kafka_wire::scram_credentials::{
    self, AlterRequest, AlterResult, CredentialInfo, DescribeRequest, DescribeResponse,
    DescribedUser, SCRAM_SHA_256, SCRAM_SHA_512,
};
use memstream_kafka_wire::ErrorCode;

use super::{allowed, blocking, now_ms, Action, Conn, Pending, Reply};
use crate::server::Context;

fn mechanism(code: i8) -> Option<Mechanism> {
    match code {
        SCRAM_SHA_256 => Some(Mechanism::ScramSha256),
        SCRAM_SHA_512 => Some(Mechanism::ScramSha512),
        _ => None,
    }
}

fn code_of(m: Mechanism) -> i8 {
    match m {
        Mechanism::ScramSha256 => SCRAM_SHA_256,
        Mechanism::ScramSha512 => SCRAM_SHA_512,
    }
}

pub(super) fn describe(
    req: DescribeRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
) -> Option<Pending> {
    let users = &ctx.engine.access.users;
    let resp = if !allowed(ctx, &conn.session, Action::DescribeSecurity) {
        DescribeResponse {
            error_code: ErrorCode::CLUSTER_AUTHORIZATION_FAILED,
            error_message: Some("DESCRIBE on the cluster is needed to describe users".into()),
            results: Vec::new(),
        }
    } else {
        let names: Vec<String> = match req.users {
            Some(names) if !names.is_empty() => names,
            _ => users.list().into_iter().map(|u| u.name).collect(),
        };
        let mut seen = HashSet::new();
        let results = names
            .into_iter()
            .map(|user| {
                let refused = |error_code, message: &str| DescribedUser {
                    user: user.clone(),
                    error_code,
                    error_message: Some(message.into()),
                    credential_infos: Vec::new(),
                };
                if !seen.insert(user.clone()) {
                    return refused(ErrorCode::DUPLICATE_RESOURCE, "the user is named twice");
                }
                match users.describe(&user) {
                    None => refused(ErrorCode::RESOURCE_NOT_FOUND, "no such user"),
                    Some(credentials) => DescribedUser {
                        credential_infos: credentials
                            .into_iter()
                            .map(|(m, iterations)| CredentialInfo {
                                mechanism: code_of(m),
                                iterations: i32::try_from(iterations).unwrap_or(i32::MAX),
                            })
                            .collect(),
                        user,
                        error_code: ErrorCode::NONE,
                        error_message: None,
                    },
                }
            })
            .collect();
        DescribeResponse {
            error_code: ErrorCode::NONE,
            error_message: None,
            results,
        }
    };
    let mut w = reply.writer();
    scram_credentials::encode_describe(&mut w, reply.version(), &resp);
    reply.now(w)
}

/// The mechanism of one deletion or upsertion: a known code, named once per user.
fn checked_mechanism(
    named: &mut HashSet<(String, i8)>,
    user: &str,
    code: i8,
) -> Result<Mechanism, (ErrorCode, String)> {
    if !named.insert((user.to_owned(), code)) {
        return Err((
            ErrorCode::DUPLICATE_RESOURCE,
            "a credential is named twice".into(),
        ));
    }
    mechanism(code).ok_or_else(|| {
        (
            ErrorCode::UNSUPPORTED_SASL_MECHANISM,
            format!("mechanism {code} is not SCRAM-SHA-256 (1) or SCRAM-SHA-512 (2)"),
        )
    })
}

/// One user's changes, checked.
struct Changes {
    user: String,
    deletions: Vec<Mechanism>,
    upsertions: Vec<ScramCredential>,
    refused: Option<(ErrorCode, String)>,
}

pub(super) fn alter(
    req: AlterRequest,
    ctx: &Arc<Context>,
    conn: &Conn,
    reply: Reply,
) -> Option<Pending> {
    let permitted = allowed(ctx, &conn.session, Action::AlterSecurity);
    let mut by_user: Vec<Changes> = Vec::new();
    let mut named: HashSet<(String, i8)> = HashSet::new();
    fn entry(by_user: &mut Vec<Changes>, user: &str) -> usize {
        match by_user.iter().position(|c| c.user == user) {
            Some(i) => i,
            None => {
                by_user.push(Changes {
                    user: user.to_owned(),
                    deletions: Vec::new(),
                    upsertions: Vec::new(),
                    refused: None,
                });
                by_user.len() - 1
            }
        }
    }
    for d in &req.deletions {
        let i = entry(&mut by_user, &d.name);
        match checked_mechanism(&mut named, &d.name, d.mechanism) {
            Ok(m) => by_user[i].deletions.push(m),
            Err(refused) => by_user[i].refused = Some(refused),
        }
    }
    for u in &req.upsertions {
        let i = entry(&mut by_user, &u.name);
        let iterations = u32::try_from(u.iterations).unwrap_or(0);
        let credential = checked_mechanism(&mut named, &u.name, u.mechanism).and_then(|m| {
            if !(ITERATIONS_MIN..=ITERATIONS_MAX).contains(&iterations) {
                return Err((
                    ErrorCode::UNACCEPTABLE_CREDENTIAL,
                    format!(
                        "iterations {} outside {ITERATIONS_MIN}..={ITERATIONS_MAX}",
                        u.iterations
                    ),
                ));
            }
            if u.salted_password.len() != m.key_len() || u.salt.is_empty() {
                return Err((
                    ErrorCode::UNACCEPTABLE_CREDENTIAL,
                    format!(
                        "a {m} salted password is {} bytes, with a salt",
                        m.key_len()
                    ),
                ));
            }
            Ok(ScramCredential::from_salted(
                m,
                &u.salted_password,
                &u.salt,
                iterations,
            ))
        });
        match credential {
            Ok(c) => by_user[i].upsertions.push(c),
            Err(refused) => by_user[i].refused = Some(refused),
        }
    }
    let access = ctx.engine.access.clone();
    let principal = conn.session.principal().to_string();
    Some(Box::pin(async move {
        let results = blocking(move || {
            by_user
                .into_iter()
                .map(|c| {
                    let outcome = match (&c.refused, permitted) {
                        (_, false) => Err((ErrorCode::CLUSTER_AUTHORIZATION_FAILED, "ALTER on the cluster is needed to change users".to_string())),
                        (Some(refused), true) => Err(refused.clone()),
                        (None, true) => apply(&access.users, &c),
                    };
                    if outcome.is_ok() {
                        tracing::info!(%principal, user = %c.user, deleted = c.deletions.len(), upserted = c.upsertions.len(), "SCRAM credentials changed (AlterUserScramCredentials)");
                    }
                    let (error_code, error_message) = match outcome {
                        Ok(()) => (ErrorCode::NONE, None),
                        Err((code, message)) => (code, Some(message)),
                    };
                    AlterResult {
                        user: c.user,
                        error_code,
                        error_message,
                    }
                })
                .collect::<Vec<_>>()
        })
        .await?;
        let mut w = reply.writer();
        scram_credentials::encode_alter(&mut w, reply.version(), &results);
        Some(reply.finish(w))
    }))
}

fn apply(users: &memstream_auth::users::UserStore, c: &Changes) -> Result<(), (ErrorCode, String)> {
    let failed = |e: StoreError| match e {
        StoreError::NotFound { .. } => (ErrorCode::RESOURCE_NOT_FOUND, e.to_string()),
        StoreError::Invalid(_) => (ErrorCode::UNACCEPTABLE_CREDENTIAL, e.to_string()),
        other => (ErrorCode::UNKNOWN_SERVER_ERROR, other.to_string()),
    };
    for m in &c.deletions {
        users.remove_credential(&c.user, *m).map_err(failed)?;
    }
    for credential in &c.upsertions {
        users
            .upsert_credential(&c.user, credential.clone(), now_ms())
            .map_err(failed)?;
    }
    Ok(())
}
