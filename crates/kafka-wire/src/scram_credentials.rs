//! DescribeUserScramCredentials (key 50) and AlterUserScramCredentials (key 51), v0, both
//! flexible (KIP-554): the SCRAM users of a broker, managed online by a client that sends
//! salted passwords, never passwords.
//!
//! DescribeUserScramCredentials request: `users [name]` (null or empty: every user).
//! Response: `throttle_time_ms`, `error_code`, `error_message`, `results [user, error_code,
//! error_message, credential_infos [mechanism, iterations]]`.
//!
//! AlterUserScramCredentials request: `deletions [name, mechanism]`, `upsertions [name,
//! mechanism, iterations, salt, salted_password]`. Response: `throttle_time_ms`,
//! `results [user_name, error_code, error_message]`.
//!
//! Mechanisms are Kafka's `ScramMechanism` codes: [`SCRAM_SHA_256`], [`SCRAM_SHA_512`].

use bytes::Bytes;

use crate::codec::{Reader, Result, Writer};
use crate::error_code::ErrorCode;

/// `ScramMechanism.SCRAM_SHA_256`.
pub const SCRAM_SHA_256: i8 = 1;
/// `ScramMechanism.SCRAM_SHA_512`.
pub const SCRAM_SHA_512: i8 = 2;

/// DescribeUserScramCredentials: the users asked for; `None` is every user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DescribeRequest {
    /// User names, or every user.
    pub users: Option<Vec<String>>,
}

/// Decodes a DescribeUserScramCredentials body.
pub fn decode_describe(r: &mut Reader, _version: i16) -> Result<DescribeRequest> {
    let users = r.nullable_array("users", |r| {
        let name = r.string("name")?;
        r.tagged_fields()?;
        Ok(name)
    })?;
    r.tagged_fields()?;
    r.finish()?;
    Ok(DescribeRequest { users })
}

/// One credential of a described user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialInfo {
    /// The mechanism code.
    pub mechanism: i8,
    /// Its iteration count.
    pub iterations: i32,
}

/// One described user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribedUser {
    /// The name.
    pub user: String,
    /// NONE, or RESOURCE_NOT_FOUND for an unknown user.
    pub error_code: ErrorCode,
    /// The error's message.
    pub error_message: Option<String>,
    /// Its credentials.
    pub credential_infos: Vec<CredentialInfo>,
}

/// DescribeUserScramCredentials' response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribeResponse {
    /// The request-level error (CLUSTER_AUTHORIZATION_FAILED, ...).
    pub error_code: ErrorCode,
    /// Its message.
    pub error_message: Option<String>,
    /// Per user.
    pub results: Vec<DescribedUser>,
}

/// Encodes a DescribeUserScramCredentials response.
pub fn encode_describe(w: &mut Writer, _version: i16, resp: &DescribeResponse) {
    w.i32(0);
    w.error_code(resp.error_code);
    w.nullable_string(resp.error_message.as_deref());
    w.array(&resp.results, |w, u| {
        w.string(&u.user);
        w.error_code(u.error_code);
        w.nullable_string(u.error_message.as_deref());
        w.array(&u.credential_infos, |w, c| {
            w.i8(c.mechanism);
            w.i32(c.iterations);
            w.tagged_fields();
        });
        w.tagged_fields();
    });
    w.tagged_fields();
}

/// A credential to delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deletion {
    /// The user.
    pub name: String,
    /// The mechanism code.
    pub mechanism: i8,
}

/// A credential to create or replace, derived by the client.
#[derive(Clone, PartialEq, Eq)]
pub struct Upsertion {
    /// The user.
    pub name: String,
    /// The mechanism code.
    pub mechanism: i8,
    /// PBKDF2 iterations.
    pub iterations: i32,
    /// The salt.
    pub salt: Bytes,
    /// `Hi(password, salt, iterations)`.
    pub salted_password: Bytes,
}

// The salted password is a password equivalent: never in logs.
impl std::fmt::Debug for Upsertion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upsertion")
            .field("name", &self.name)
            .field("mechanism", &self.mechanism)
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

/// AlterUserScramCredentials' request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlterRequest {
    /// Credentials to delete.
    pub deletions: Vec<Deletion>,
    /// Credentials to create or replace.
    pub upsertions: Vec<Upsertion>,
}

/// Decodes an AlterUserScramCredentials body.
pub fn decode_alter(r: &mut Reader, _version: i16) -> Result<AlterRequest> {
    let deletions = r.array("deletions", |r| {
        let d = Deletion {
            name: r.string("name")?,
            mechanism: r.i8("mechanism")?,
        };
        r.tagged_fields()?;
        Ok(d)
    })?;
    let upsertions = r.array("upsertions", |r| {
        let u = Upsertion {
            name: r.string("name")?,
            mechanism: r.i8("mechanism")?,
            iterations: r.i32("iterations")?,
            salt: r.bytes("salt")?,
            salted_password: r.bytes("salted_password")?,
        };
        r.tagged_fields()?;
        Ok(u)
    })?;
    r.tagged_fields()?;
    // librdkafka (2.6.1) ends this request with a second, empty tag buffer: one zero byte
    // that Kafka's parser never reads. Accepted; anything else after the end is not.
    if r.peek(1) == Some(&[0]) && r.remaining() == 1 {
        r.tagged_fields()?;
    }
    r.finish()?;
    Ok(AlterRequest {
        deletions,
        upsertions,
    })
}

/// One user's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlterResult {
    /// The user.
    pub user: String,
    /// NONE or why its changes were refused.
    pub error_code: ErrorCode,
    /// The error's message.
    pub error_message: Option<String>,
}

/// Encodes an AlterUserScramCredentials response.
pub fn encode_alter(w: &mut Writer, _version: i16, results: &[AlterResult]) {
    w.i32(0);
    w.array(results, |w, r| {
        w.string(&r.user);
        w.error_code(r.error_code);
        w.nullable_string(r.error_message.as_deref());
        w.tagged_fields();
    });
    w.tagged_fields();
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn reader(body: &[u8]) -> Reader {
        Reader::new(Bytes::copy_from_slice(body), true)
    }

    #[test]
    fn requests_decode_and_truncations_fail() {
        // users: null; tagged fields: none.
        assert_eq!(
            decode_describe(&mut reader(&[0, 0]), 0).unwrap().users,
            None
        );
        // users: ["al"] (compact array of 1, compact string "al", no tags), no tags.
        let users = [2, 3, b'a', b'l', 0, 0];
        assert_eq!(
            decode_describe(&mut reader(&users), 0).unwrap().users,
            Some(vec!["al".to_string()])
        );
        // deletions: [("al", 1)], upsertions: [("al", 2, 4096, salt "s", salted "pp")].
        let alter = [
            2, 3, b'a', b'l', 1, 0, // one deletion
            2, 3, b'a', b'l', 2, 0, 0, 0x10, 0, 2, b's', 3, b'p', b'p', 0, // one upsertion
            0,
        ];
        let req = decode_alter(&mut reader(&alter), 0).unwrap();
        assert_eq!(
            req.deletions,
            [Deletion {
                name: "al".into(),
                mechanism: 1
            }]
        );
        let u = &req.upsertions[0];
        assert_eq!(
            (
                u.mechanism,
                u.iterations,
                &u.salt[..],
                &u.salted_password[..]
            ),
            (2, 4096, &b"s"[..], &b"pp"[..])
        );
        assert!(!format!("{u:?}").contains("pp"));
        for cut in 0..alter.len() {
            assert!(
                decode_alter(&mut reader(&alter[..cut]), 0).is_err(),
                "cut at {cut}"
            );
        }
        // librdkafka's extra empty tag buffer is accepted; other trailing bytes are not.
        let mut quirk = alter.to_vec();
        quirk.push(0);
        assert_eq!(decode_alter(&mut reader(&quirk), 0).unwrap(), req);
        quirk.push(0);
        assert!(decode_alter(&mut reader(&quirk), 0).is_err());
    }

    #[test]
    fn responses_encode_as_kafka_lays_them_out() {
        let mut w = Writer::new(true);
        encode_alter(
            &mut w,
            0,
            &[AlterResult {
                user: "al".into(),
                error_code: ErrorCode::NONE,
                error_message: None,
            }],
        );
        assert_eq!(
            w.finish().concat(),
            [0, 0, 0, 0, 2, 3, b'a', b'l', 0, 0, 0, 0, 0]
        );
        let mut w = Writer::new(true);
        let resp = DescribeResponse {
            error_code: ErrorCode::NONE,
            error_message: None,
            results: vec![DescribedUser {
                user: "al".into(),
                error_code: ErrorCode::NONE,
                error_message: None,
                credential_infos: vec![CredentialInfo {
                    mechanism: 2,
                    iterations: 4096,
                }],
            }],
        };
        encode_describe(&mut w, 0, &resp);
        assert_eq!(
            w.finish().concat(),
            [0, 0, 0, 0, 0, 0, 0, 2, 3, b'a', b'l', 0, 0, 0, 2, 2, 0, 0, 0x10, 0, 0, 0, 0]
        );
    }
}
