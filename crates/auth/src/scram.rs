//! SCRAM (RFC 5802) with SHA-256 and SHA-512 (RFC 7677), both sides, over bytes.
//!
//! The server side ([`ScramServer`]) takes the client's two messages and answers with the
//! server-first and server-final messages; the client side ([`ScramClient`]) is the mirror,
//! used by the native client and by tests. No channel binding (`n,,` or `y,,`; `p=` is
//! refused), no SASLprep: passwords are used as the bytes given, as Kafka does.
//!
//! An unknown user gets a server-first message that looks like a real one (a salt derived
//! from a per-process secret and the name, the configured iterations) and fails at the proof
//! exactly as a wrong password does.

#![deny(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

/// Fewest PBKDF2 iterations accepted, from either side (RFC 7677 section 4).
pub const ITERATIONS_MIN: u32 = 4096;
/// Most PBKDF2 iterations accepted, from either side: a bound on the work one login costs.
pub const ITERATIONS_MAX: u32 = 1_000_000;
/// Salt length of new credentials, in bytes.
pub const SALT_BYTES: usize = 16;
/// Longest client message accepted, in bytes.
pub const MESSAGE_BYTES_MAX: usize = 4096;
/// Random bytes in each side's nonce (base64 makes them 32 printable characters).
const NONCE_BYTES: usize = 24;

/// A SCRAM mechanism.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Mechanism {
    /// SCRAM-SHA-256.
    #[serde(rename = "SCRAM-SHA-256")]
    ScramSha256,
    /// SCRAM-SHA-512.
    #[serde(rename = "SCRAM-SHA-512")]
    ScramSha512,
}

impl Mechanism {
    /// Both, strongest last.
    pub const ALL: [Mechanism; 2] = [Mechanism::ScramSha256, Mechanism::ScramSha512];

    /// The SASL name.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }

    /// The mechanism with SASL name `name` (exact, as SASL names are upper case).
    pub fn from_name(name: &str) -> Option<Mechanism> {
        Mechanism::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Length of the hash, in bytes.
    pub fn key_len(self) -> usize {
        match self {
            Mechanism::ScramSha256 => 32,
            Mechanism::ScramSha512 => 64,
        }
    }

    fn hmac(self, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        fn run<M: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
            // HMAC takes a key of any length: this cannot fail.
            let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key)
                .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
            for p in parts {
                mac.update(p);
            }
            mac.finalize().into_bytes().to_vec()
        }
        match self {
            Mechanism::ScramSha256 => run::<Hmac<Sha256>>(key, parts),
            Mechanism::ScramSha512 => run::<Hmac<Sha512>>(key, parts),
        }
    }

    fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            Mechanism::ScramSha256 => Sha256::digest(data).to_vec(),
            Mechanism::ScramSha512 => Sha512::digest(data).to_vec(),
        }
    }

    /// `Hi(password, salt, i)`: PBKDF2 with this mechanism's HMAC.
    fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        let mut out = vec![0u8; self.key_len()];
        match self {
            Mechanism::ScramSha256 => {
                pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out)
            }
            Mechanism::ScramSha512 => {
                pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, iterations, &mut out)
            }
        }
        out
    }
}

impl std::fmt::Display for Mechanism {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a server stores for one user and mechanism (RFC 5802 section 3): enough to verify a
/// proof, never enough to log in as the user.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScramCredential {
    /// The mechanism.
    pub mechanism: Mechanism,
    /// The salt.
    #[serde(with = "b64")]
    pub salt: Vec<u8>,
    /// PBKDF2 iterations.
    pub iterations: u32,
    /// `H(HMAC(SaltedPassword, "Client Key"))`.
    #[serde(with = "b64")]
    pub stored_key: Vec<u8>,
    /// `HMAC(SaltedPassword, "Server Key")`.
    #[serde(with = "b64")]
    pub server_key: Vec<u8>,
}

impl std::fmt::Debug for ScramCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramCredential")
            .field("mechanism", &self.mechanism)
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

struct Keys {
    client_key: Vec<u8>,
    stored_key: Vec<u8>,
    server_key: Vec<u8>,
}

fn keys(m: Mechanism, password: &[u8], salt: &[u8], iterations: u32) -> Keys {
    let salted = m.salted_password(password, salt, iterations);
    let client_key = m.hmac(&salted, &[b"Client Key"]);
    Keys {
        stored_key: m.hash(&client_key),
        server_key: m.hmac(&salted, &[b"Server Key"]),
        client_key,
    }
}

impl ScramCredential {
    /// The credential for `password` with this salt and iteration count.
    pub fn derive(m: Mechanism, password: &[u8], salt: &[u8], iterations: u32) -> ScramCredential {
        let k = keys(m, password, salt, iterations);
        ScramCredential {
            mechanism: m,
            salt: salt.to_vec(),
            iterations,
            stored_key: k.stored_key,
            server_key: k.server_key,
        }
    }

    /// The credential for a salted password a client derived (`Hi(password, salt, i)`, as
    /// Kafka's AlterUserScramCredentials sends it): the password itself is never seen.
    pub fn from_salted(
        m: Mechanism,
        salted_password: &[u8],
        salt: &[u8],
        iterations: u32,
    ) -> ScramCredential {
        let client_key = m.hmac(salted_password, &[b"Client Key"]);
        ScramCredential {
            mechanism: m,
            salt: salt.to_vec(),
            iterations,
            stored_key: m.hash(&client_key),
            server_key: m.hmac(salted_password, &[b"Server Key"]),
        }
    }

    /// A new credential for `password` with a random salt.
    pub fn generate(
        m: Mechanism,
        password: &[u8],
        iterations: u32,
    ) -> Result<ScramCredential, ScramError> {
        let mut salt = vec![0u8; SALT_BYTES];
        getrandom::fill(&mut salt).map_err(|e| ScramError::Random(e.to_string()))?;
        Ok(ScramCredential::derive(m, password, &salt, iterations))
    }

    /// Whether `password` is the one this credential was made from (constant time in the
    /// comparison; one PBKDF2 derivation).
    pub fn verify_password(&self, password: &[u8]) -> bool {
        let k = keys(self.mechanism, password, &self.salt, self.iterations);
        bool::from(k.stored_key.ct_eq(&self.stored_key))
    }

    /// Checks a credential read from disk.
    pub fn check(&self) -> Result<(), String> {
        if !(ITERATIONS_MIN..=ITERATIONS_MAX).contains(&self.iterations) {
            return Err(format!(
                "{} iterations {} outside {ITERATIONS_MIN}..={ITERATIONS_MAX}",
                self.mechanism, self.iterations
            ));
        }
        let n = self.mechanism.key_len();
        if self.stored_key.len() != n || self.server_key.len() != n {
            return Err(format!("{} keys are not {n} bytes", self.mechanism));
        }
        if self.salt.is_empty() || self.salt.len() > 1024 {
            return Err(format!(
                "{} salt of {} bytes",
                self.mechanism,
                self.salt.len()
            ));
        }
        Ok(())
    }
}

mod b64 {
    use base64::engine::general_purpose::STANDARD as B64;
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&B64.encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        B64.decode(s.as_bytes()).map_err(serde::de::Error::custom)
    }
}

/// Why an exchange stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScramError {
    /// The message breaks RFC 5802's grammar.
    #[error("malformed SCRAM message: {0}")]
    Malformed(&'static str),
    /// Channel binding was asked for; this server offers none.
    #[error("channel binding is not supported")]
    ChannelBinding,
    /// The authorization identity is not the user name.
    #[error("an authorization identity other than the user name is not supported")]
    Authzid,
    /// The message came at the wrong step.
    #[error("SCRAM message out of order")]
    OutOfOrder,
    /// The proof (server side) or the server signature (client side) is wrong.
    #[error("authentication failed")]
    AuthenticationFailed,
    /// The server answered with `e=`.
    #[error("the server refused: {0}")]
    ServerError(String),
    /// The server asked for an iteration count outside the accepted range.
    #[error("iteration count {0} outside {ITERATIONS_MIN}..={ITERATIONS_MAX}")]
    Iterations(u32),
    /// The random source failed.
    #[error("random source: {0}")]
    Random(String),
}

fn nonce() -> Result<String, ScramError> {
    let mut raw = [0u8; NONCE_BYTES];
    getrandom::fill(&mut raw).map_err(|e| ScramError::Random(e.to_string()))?;
    Ok(B64.encode(raw))
}

/// Splits `msg` into its `k=value` attributes.
fn attributes(msg: &str) -> impl Iterator<Item = (u8, &str)> + '_ {
    msg.split(',').map(|a| match a.as_bytes() {
        [k, b'=', ..] => (*k, a.get(2..).unwrap_or("")),
        _ => (0, a),
    })
}

fn text(msg: &[u8]) -> Result<&str, ScramError> {
    if msg.len() > MESSAGE_BYTES_MAX {
        return Err(ScramError::Malformed("message too long"));
    }
    std::str::from_utf8(msg).map_err(|_| ScramError::Malformed("not UTF-8"))
}

/// Decodes a saslname (`=2C` is `,`, `=3D` is `=`).
fn unescape(name: &str) -> Result<String, ScramError> {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(i) = rest.find('=') {
        out.push_str(rest.get(..i).unwrap_or(""));
        let tail = rest.get(i..).unwrap_or("");
        if let Some(t) = tail.strip_prefix("=2C") {
            out.push(',');
            rest = t;
        } else if let Some(t) = tail.strip_prefix("=3D") {
            out.push('=');
            rest = t;
        } else {
            return Err(ScramError::Malformed("bad escape in a name"));
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Encodes a name as a saslname.
fn escape(name: &str) -> String {
    name.replace('=', "=3D").replace(',', "=2C")
}

fn printable_nonce(n: &str) -> bool {
    !n.is_empty() && n.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b',')
}

#[derive(Debug)]
enum ServerStage {
    ClientFirst,
    ServerFirst {
        gs2_header: String,
        client_first_bare: String,
        client_nonce: String,
        user: String,
    },
    ClientFinal {
        gs2_header: String,
        client_nonce: String,
        nonce: String,
        auth_prefix: String,
        credential: ScramCredential,
        known: bool,
    },
    Done,
}

/// The server side of one exchange.
pub struct ScramServer {
    mechanism: Mechanism,
    server_nonce: String,
    stage: ServerStage,
}

impl std::fmt::Debug for ScramServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramServer")
            .field("mechanism", &self.mechanism)
            .finish_non_exhaustive()
    }
}

impl ScramServer {
    /// A new exchange with a random server nonce.
    pub fn new(mechanism: Mechanism) -> Result<ScramServer, ScramError> {
        Ok(ScramServer::with_nonce(mechanism, nonce()?))
    }

    /// A new exchange with this server nonce (test vectors).
    pub fn with_nonce(mechanism: Mechanism, server_nonce: String) -> ScramServer {
        ScramServer {
            mechanism,
            server_nonce,
            stage: ServerStage::ClientFirst,
        }
    }

    /// Reads the client-first message; returns the user name to look up.
    pub fn client_first(&mut self, msg: &[u8]) -> Result<String, ScramError> {
        if !matches!(self.stage, ServerStage::ClientFirst) {
            return Err(ScramError::OutOfOrder);
        }
        let msg = text(msg)?;
        let (cbind, rest) = msg
            .split_once(',')
            .ok_or(ScramError::Malformed("no GS2 header"))?;
        match cbind {
            "n" | "y" => {}
            c if c.starts_with("p=") => return Err(ScramError::ChannelBinding),
            _ => return Err(ScramError::Malformed("bad channel binding flag")),
        }
        let (authzid, bare) = rest
            .split_once(',')
            .ok_or(ScramError::Malformed("no GS2 header"))?;
        let mut attrs = attributes(bare);
        let user = match attrs.next() {
            Some((b'n', name)) => unescape(name)?,
            Some((b'm', _)) => {
                return Err(ScramError::Malformed("unsupported mandatory extension"))
            }
            _ => return Err(ScramError::Malformed("no user name")),
        };
        let client_nonce = match attrs.next() {
            Some((b'r', n)) if printable_nonce(n) => n.to_string(),
            _ => return Err(ScramError::Malformed("no client nonce")),
        };
        // Extensions (Kafka's tokenauth=...) are allowed and ignored.
        if user.is_empty() {
            return Err(ScramError::Malformed("empty user name"));
        }
        if !authzid.is_empty() {
            let id = authzid
                .strip_prefix("a=")
                .ok_or(ScramError::Malformed("bad authorization identity"))?;
            if unescape(id)? != user {
                return Err(ScramError::Authzid);
            }
        }
        let gs2_header_len = cbind.len().saturating_add(authzid.len()).saturating_add(2);
        self.stage = ServerStage::ServerFirst {
            gs2_header: msg.get(..gs2_header_len).unwrap_or("").to_string(),
            client_first_bare: bare.to_string(),
            client_nonce,
            user: user.clone(),
        };
        Ok(user)
    }

    /// The server-first message for the user's credential, or for an unknown user (`None`):
    /// a salt derived from `unknown_user_key` and the name, `unknown_iterations` rounds.
    pub fn server_first(
        &mut self,
        credential: Option<&ScramCredential>,
        unknown_user_key: &[u8],
        unknown_iterations: u32,
    ) -> Result<Vec<u8>, ScramError> {
        let ServerStage::ServerFirst {
            gs2_header,
            client_first_bare,
            client_nonce,
            user,
        } = std::mem::replace(&mut self.stage, ServerStage::Done)
        else {
            return Err(ScramError::OutOfOrder);
        };
        let m = self.mechanism;
        let (credential, known) = match credential {
            Some(c) if c.mechanism == m => (c.clone(), true),
            _ => {
                let salt = m.hmac(
                    unknown_user_key,
                    &[m.name().as_bytes(), b"\0", user.as_bytes()],
                );
                let fake = ScramCredential {
                    mechanism: m,
                    salt: salt.get(..SALT_BYTES).unwrap_or(&salt).to_vec(),
                    iterations: unknown_iterations,
                    stored_key: m.hmac(unknown_user_key, &[b"stored\0", user.as_bytes()]),
                    server_key: m.hmac(unknown_user_key, &[b"server\0", user.as_bytes()]),
                };
                (fake, false)
            }
        };
        let nonce = format!("{client_nonce}{}", self.server_nonce);
        let server_first = format!(
            "r={nonce},s={},i={}",
            B64.encode(&credential.salt),
            credential.iterations
        );
        let auth_prefix = format!("{client_first_bare},{server_first}");
        self.stage = ServerStage::ClientFinal {
            gs2_header,
            client_nonce,
            nonce,
            auth_prefix,
            credential,
            known,
        };
        Ok(server_first.into_bytes())
    }

    /// Reads the client-final message; on a valid proof returns the server-final message.
    pub fn client_final(&mut self, msg: &[u8]) -> Result<Vec<u8>, ScramError> {
        let ServerStage::ClientFinal {
            gs2_header,
            client_nonce,
            nonce,
            auth_prefix,
            credential,
            known,
        } = std::mem::replace(&mut self.stage, ServerStage::Done)
        else {
            return Err(ScramError::OutOfOrder);
        };
        let msg = text(msg)?;
        let (without_proof, proof) = msg
            .rsplit_once(",p=")
            .ok_or(ScramError::Malformed("no proof"))?;
        let mut attrs = attributes(without_proof);
        match attrs.next() {
            Some((b'c', cb)) if B64.decode(cb).ok().as_deref() == Some(gs2_header.as_bytes()) => {}
            Some((b'c', _)) => return Err(ScramError::Malformed("channel binding differs")),
            _ => return Err(ScramError::Malformed("no channel binding")),
        }
        match attrs.next() {
            // librdkafka sends its own nonce again in front of the combined one (its
            // client-final is `r=<client nonce><server's r>`); Kafka accepts that by
            // checking only the end, this server that one form exactly.
            Some((b'r', r))
                if r == nonce || r.strip_suffix(nonce.as_str()) == Some(client_nonce.as_str()) => {}
            Some((b'r', _)) => return Err(ScramError::Malformed("nonce differs")),
            _ => return Err(ScramError::Malformed("no nonce")),
        }
        let proof = B64
            .decode(proof)
            .map_err(|_| ScramError::Malformed("proof is not base64"))?;
        let m = self.mechanism;
        if proof.len() != m.key_len() {
            return Err(ScramError::Malformed("proof of the wrong length"));
        }
        let auth_message = format!("{auth_prefix},{without_proof}");
        let signature = m.hmac(&credential.stored_key, &[auth_message.as_bytes()]);
        let client_key: Vec<u8> = proof.iter().zip(&signature).map(|(p, s)| p ^ s).collect();
        let ok = m.hash(&client_key).ct_eq(&credential.stored_key);
        if !bool::from(ok) || !known {
            return Err(ScramError::AuthenticationFailed);
        }
        let server_signature = m.hmac(&credential.server_key, &[auth_message.as_bytes()]);
        Ok(format!("v={}", B64.encode(server_signature)).into_bytes())
    }
}

enum ClientStage {
    Start,
    ClientFirst { bare: String },
    ServerFirst { server_signature: Vec<u8> },
    Done,
}

/// The client side of one exchange.
pub struct ScramClient {
    mechanism: Mechanism,
    user: String,
    password: Vec<u8>,
    client_nonce: String,
    stage: ClientStage,
}

impl std::fmt::Debug for ScramClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramClient")
            .field("mechanism", &self.mechanism)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl ScramClient {
    /// A new exchange for `user` with a random client nonce.
    pub fn new(m: Mechanism, user: &str, password: &[u8]) -> Result<ScramClient, ScramError> {
        Ok(ScramClient::with_nonce(m, user, password, nonce()?))
    }

    /// A new exchange with this client nonce (test vectors).
    pub fn with_nonce(m: Mechanism, user: &str, password: &[u8], nonce: String) -> ScramClient {
        ScramClient {
            mechanism: m,
            user: user.to_string(),
            password: password.to_vec(),
            client_nonce: nonce,
            stage: ClientStage::Start,
        }
    }

    /// The client-first message.
    pub fn client_first(&mut self) -> Vec<u8> {
        let bare = format!("n={},r={}", escape(&self.user), self.client_nonce);
        let msg = format!("n,,{bare}");
        self.stage = ClientStage::ClientFirst { bare };
        msg.into_bytes()
    }

    /// Reads the server-first message; returns the client-final message.
    pub fn server_first(&mut self, msg: &[u8]) -> Result<Vec<u8>, ScramError> {
        let ClientStage::ClientFirst { bare } =
            std::mem::replace(&mut self.stage, ClientStage::Done)
        else {
            return Err(ScramError::OutOfOrder);
        };
        let msg = text(msg)?;
        if let Some(e) = msg.strip_prefix("e=") {
            return Err(ScramError::ServerError(e.chars().take(200).collect()));
        }
        let mut attrs = attributes(msg);
        let nonce = match attrs.next() {
            Some((b'r', r))
                if r.starts_with(&self.client_nonce) && r.len() > self.client_nonce.len() =>
            {
                r
            }
            _ => return Err(ScramError::Malformed("server nonce does not extend ours")),
        };
        let salt = match attrs.next() {
            Some((b's', s)) => B64
                .decode(s)
                .map_err(|_| ScramError::Malformed("salt is not base64"))?,
            _ => return Err(ScramError::Malformed("no salt")),
        };
        let iterations: u32 = match attrs.next() {
            Some((b'i', i)) => i
                .parse()
                .map_err(|_| ScramError::Malformed("bad iteration count"))?,
            _ => return Err(ScramError::Malformed("no iteration count")),
        };
        if !(ITERATIONS_MIN..=ITERATIONS_MAX).contains(&iterations) {
            return Err(ScramError::Iterations(iterations));
        }
        let m = self.mechanism;
        let k = keys(m, &self.password, &salt, iterations);
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{bare},{msg},{without_proof}");
        let signature = m.hmac(&k.stored_key, &[auth_message.as_bytes()]);
        let proof: Vec<u8> = k
            .client_key
            .iter()
            .zip(&signature)
            .map(|(a, b)| a ^ b)
            .collect();
        self.stage = ClientStage::ServerFirst {
            server_signature: m.hmac(&k.server_key, &[auth_message.as_bytes()]),
        };
        Ok(format!("{without_proof},p={}", B64.encode(proof)).into_bytes())
    }

    /// Checks the server-final message: the server knew the credential.
    pub fn server_final(&mut self, msg: &[u8]) -> Result<(), ScramError> {
        let ClientStage::ServerFirst { server_signature } =
            std::mem::replace(&mut self.stage, ClientStage::Done)
        else {
            return Err(ScramError::OutOfOrder);
        };
        let msg = text(msg)?;
        if let Some(e) = msg.strip_prefix("e=") {
            return Err(ScramError::ServerError(e.chars().take(200).collect()));
        }
        let v = msg
            .split(',')
            .next()
            .and_then(|a| a.strip_prefix("v="))
            .ok_or(ScramError::Malformed("no server signature"))?;
        let v = B64
            .decode(v)
            .map_err(|_| ScramError::Malformed("server signature is not base64"))?;
        if bool::from(v.ct_eq(&server_signature)) {
            Ok(())
        } else {
            Err(ScramError::AuthenticationFailed)
        }
    }
}

#[cfg(test)]
mod tests;
