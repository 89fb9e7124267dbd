//! Who a connection is: a principal `User:<name>`, as Kafka writes them. A connection that
//! did not authenticate (security off) is `User:ANONYMOUS`, Kafka's name for it. ACLs name a
//! principal or `User:*` for every principal.

use std::fmt;

/// The only principal type: Kafka's `User`.
pub const USER_TYPE: &str = "User";

/// The principal of a connection that did not authenticate.
pub const ANONYMOUS: &str = "ANONYMOUS";

/// Longest user name accepted, in bytes.
pub const USER_NAME_BYTES_MAX: usize = 128;

/// An authenticated (or anonymous) identity.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Principal {
    name: String,
}

/// Why a principal or a user name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrincipalError {
    /// Not `User:<name>`.
    #[error("principal {0:?} is not of the form User:NAME")]
    NotUser(String),
    /// The name breaks [`check_user_name`].
    #[error("user name {name:?}: {why}")]
    BadName {
        /// The name as given (cut to the limit).
        name: String,
        /// What is wrong.
        why: &'static str,
    },
}

/// A user name is 1 to [`USER_NAME_BYTES_MAX`] bytes of UTF-8 without whitespace or control
/// characters, and is not `*` (the wildcard of ACLs).
pub fn check_user_name(name: &str) -> Result<(), PrincipalError> {
    let bad = |why| PrincipalError::BadName {
        name: name.chars().take(USER_NAME_BYTES_MAX).collect(),
        why,
    };
    if name.is_empty() {
        return Err(bad("empty"));
    }
    if name.len() > USER_NAME_BYTES_MAX {
        return Err(bad("longer than 128 bytes"));
    }
    if name == "*" {
        return Err(bad("`*` is the wildcard, not a user"));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("contains whitespace or a control character"));
    }
    Ok(())
}

impl Principal {
    /// `User:<name>`; the name is not checked (it came from the user store or a certificate).
    pub fn user(name: impl Into<String>) -> Principal {
        Principal { name: name.into() }
    }

    /// `User:ANONYMOUS`.
    pub fn anonymous() -> Principal {
        Principal::user(ANONYMOUS)
    }

    /// The name after `User:`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Parses `User:<name>` (the wildcard `User:*` included, for ACLs).
    pub fn parse(s: &str) -> Result<Principal, PrincipalError> {
        match s.split_once(':') {
            Some((USER_TYPE, "*")) => Ok(Principal::user("*")),
            Some((USER_TYPE, name)) => {
                check_user_name(name)?;
                Ok(Principal::user(name))
            }
            _ => Err(PrincipalError::NotUser(s.chars().take(64).collect())),
        }
    }

    /// Whether this is the wildcard `User:*`.
    pub fn is_wildcard(&self) -> bool {
        self.name == "*"
    }
}

impl fmt::Display for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{USER_TYPE}:{}", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display() {
        assert_eq!(
            Principal::parse("User:alice").unwrap().to_string(),
            "User:alice"
        );
        assert!(Principal::parse("User:*").unwrap().is_wildcard());
        assert_eq!(Principal::anonymous().to_string(), "User:ANONYMOUS");
        assert!(matches!(
            Principal::parse("alice"),
            Err(PrincipalError::NotUser(_))
        ));
        assert!(matches!(
            Principal::parse("Group:x"),
            Err(PrincipalError::NotUser(_))
        ));
        assert!(Principal::parse("User:").is_err());
        assert!(Principal::parse("User:a b").is_err());
    }

    #[test]
    fn user_names() {
        assert!(check_user_name("svc-orders@prod.example").is_ok());
        assert!(check_user_name("*").is_err());
        assert!(check_user_name(&"x".repeat(129)).is_err());
        assert!(check_user_name("tab\there").is_err());
    }
}
