//! The SASL PLAIN message (RFC 4616): `[authzid] NUL authcid NUL passwd`.
//!
//! PLAIN sends the password itself, so servers offer it only over TLS unless told otherwise
//! (`auth.allow_plain_without_tls`). An authorization identity other than the user is
//! refused: a user may act only as itself.

#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

/// Longest PLAIN message accepted, in bytes.
pub const MESSAGE_BYTES_MAX: usize = 2048;

/// A parsed PLAIN message. Its `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainMessage {
    /// The user (authcid).
    pub username: String,
    /// The password, as sent.
    pub password: Vec<u8>,
}

impl std::fmt::Debug for PlainMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlainMessage")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Why a PLAIN message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlainError {
    /// Longer than [`MESSAGE_BYTES_MAX`].
    #[error("PLAIN message longer than {MESSAGE_BYTES_MAX} bytes")]
    TooLong,
    /// Not three NUL-separated fields.
    #[error("PLAIN message is not authzid NUL user NUL password")]
    Fields,
    /// The user name is empty or not UTF-8.
    #[error("PLAIN user name is empty or not UTF-8")]
    User,
    /// The password is empty.
    #[error("PLAIN password is empty")]
    Password,
    /// The authorization identity is another user.
    #[error("PLAIN authorization identity differs from the user name")]
    Authzid,
}

/// Parses a PLAIN message.
pub fn parse(msg: &[u8]) -> Result<PlainMessage, PlainError> {
    if msg.len() > MESSAGE_BYTES_MAX {
        return Err(PlainError::TooLong);
    }
    let mut fields = msg.splitn(3, |b| *b == 0);
    let (Some(authzid), Some(user), Some(password)) = (fields.next(), fields.next(), fields.next())
    else {
        return Err(PlainError::Fields);
    };
    if password.contains(&0) {
        return Err(PlainError::Fields);
    }
    let username = std::str::from_utf8(user).map_err(|_| PlainError::User)?;
    if username.is_empty() {
        return Err(PlainError::User);
    }
    if password.is_empty() {
        return Err(PlainError::Password);
    }
    if !authzid.is_empty() && authzid != user {
        return Err(PlainError::Authzid);
    }
    Ok(PlainMessage {
        username: username.to_string(),
        password: password.to_vec(),
    })
}

/// Encodes a PLAIN message with an empty authorization identity.
pub fn encode(username: &str, password: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        username
            .len()
            .saturating_add(password.len())
            .saturating_add(2),
    );
    out.push(0);
    out.extend_from_slice(username.as_bytes());
    out.push(0);
    out.extend_from_slice(password);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rules() {
        let m = parse(&encode("alice", b"pw")).unwrap();
        assert_eq!(
            (m.username.as_str(), m.password.as_slice()),
            ("alice", &b"pw"[..])
        );
        assert!(!format!("{m:?}").contains("pw\""), "{m:?}");
        assert_eq!(parse(b"alice\0alice\0pw").unwrap().username, "alice");
        assert_eq!(parse(b"bob\0alice\0pw"), Err(PlainError::Authzid));
        assert_eq!(parse(b"\0alice"), Err(PlainError::Fields));
        assert_eq!(parse(b"\0\0pw"), Err(PlainError::User));
        assert_eq!(parse(b"\0alice\0"), Err(PlainError::Password));
        assert_eq!(parse(b"\0alice\0p\0w"), Err(PlainError::Fields));
        assert_eq!(parse(b"\0\xff\0pw"), Err(PlainError::User));
        assert_eq!(
            parse(&vec![1; MESSAGE_BYTES_MAX + 1]),
            Err(PlainError::TooLong)
        );
    }

    proptest::proptest! {
        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = parse(&bytes);
        }
    }
}
