//! Users and ACLs of a running server: [`Admin::put_user`], [`Admin::delete_user`],
//! [`Admin::list_users`], [`Admin::create_acls`], [`Admin::list_acls`],
//! [`Admin::delete_acls`]. The caller needs ALTER on the cluster to change and DESCRIBE to
//! list (a superuser has both); otherwise the server answers NOT_AUTHORIZED.

use memstream_auth::acl::{Acl, AclFilter};
use memstream_auth::scram::{Mechanism, ScramCredential};
use memstream_protocol::message::{
    AclFilterMsg, AclList, CreateAcls, PutMode, PutUser, UserInfo, UserList, UserRef,
    ACLS_PER_REQUEST_MAX,
};
use memstream_protocol::Request;

use crate::admin::Admin;
use crate::error::ClientError;

fn malformed(e: impl std::fmt::Display) -> ClientError {
    ClientError::Malformed(e.to_string())
}

impl Admin<'_> {
    /// Sets `name`'s password (per `mode`: a new user, an existing one, or either). The
    /// SCRAM credentials (SHA-256 and SHA-512, a random salt each, `iterations` rounds of
    /// PBKDF2) are made here; only they reach the server, never the password.
    pub async fn put_user(
        &self,
        name: &str,
        password: &[u8],
        mode: PutMode,
        iterations: u32,
    ) -> Result<(), ClientError> {
        let credentials = Mechanism::ALL
            .into_iter()
            .map(|m| {
                ScramCredential::generate(m, password, iterations)
                    .map(|c| (&c).into())
                    .map_err(|e| ClientError::InvalidArgument(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        let request = Request::PutUser(PutUser {
            name: name.to_owned(),
            mode,
            credentials,
        });
        self.client().call(&request).await.map(drop)
    }

    /// Removes a user.
    pub async fn delete_user(&self, name: &str) -> Result<(), ClientError> {
        let request = Request::DeleteUser(UserRef {
            name: name.to_owned(),
        });
        self.client().call(&request).await.map(drop)
    }

    /// Every user, by name, with its mechanisms (no key material).
    pub async fn list_users(&self) -> Result<Vec<UserInfo>, ClientError> {
        let frame = self.client().call(&Request::ListUsers).await?;
        Ok(UserList::decode(&frame.payload).map_err(malformed)?.users)
    }

    /// Adds ACLs, all or none (at most [`ACLS_PER_REQUEST_MAX`] per call).
    pub async fn create_acls(&self, acls: &[Acl]) -> Result<(), ClientError> {
        if acls.is_empty() || acls.len() > ACLS_PER_REQUEST_MAX {
            return Err(ClientError::InvalidArgument(format!(
                "{} ACLs: a call adds 1..={ACLS_PER_REQUEST_MAX}",
                acls.len()
            )));
        }
        let request = Request::CreateAcls(CreateAcls {
            acls: acls.iter().map(Into::into).collect(),
        });
        self.client().call(&request).await.map(drop)
    }

    /// The ACLs `filter` selects.
    pub async fn list_acls(&self, filter: &AclFilter) -> Result<Vec<Acl>, ClientError> {
        let frame = self
            .client()
            .call(&Request::ListAcls(AclFilterMsg::from(filter)))
            .await?;
        acls(&frame.payload)
    }

    /// Removes the ACLs `filter` selects; returns them.
    pub async fn delete_acls(&self, filter: &AclFilter) -> Result<Vec<Acl>, ClientError> {
        let frame = self
            .client()
            .call(&Request::DeleteAcls(AclFilterMsg::from(filter)))
            .await?;
        acls(&frame.payload)
    }
}

fn acls(payload: &[u8]) -> Result<Vec<Acl>, ClientError> {
    Ok(AclList::decode(payload)
        .map_err(malformed)?
        .acls
        .into_iter()
        .map(Into::into)
        .collect())
}
