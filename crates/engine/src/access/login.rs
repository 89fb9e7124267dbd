//! Logins: the SASL mechanisms (SCRAM-SHA-256, SCRAM-SHA-512, PLAIN) as one state machine
//! over the user store, which the Kafka front-end feeds from SaslAuthenticate and the native
//! one from AUTH frames; passwords for HTTP basic; tokens. Each attempt is throttled per
//! client address and counted, and a wrong password and an unknown user fail the same way
//! at the same step (SCRAM answers an unknown user with a fake salt, so the difference is
//! never visible before the proof). The front-end waits [`super::Access::failure_delay`]
//! before answering a failure.
//!
//! PLAIN and passwords cost one PBKDF2 derivation (`auth.scram_iterations` rounds):
//! front-ends run [`Login::step`] off the async runtime.

use std::net::IpAddr;
use std::sync::atomic::Ordering;

use memstream_auth::plain;
use memstream_auth::scram::{self, ScramServer};
use memstream_auth::tokens::TokenRefusal;
use memstream_auth::Principal;

use super::Access;

/// The mechanism names, as SASL spells them.
pub const SCRAM_SHA_256: &str = "SCRAM-SHA-256";
/// See [`SCRAM_SHA_256`].
pub const SCRAM_SHA_512: &str = "SCRAM-SHA-512";
/// See [`SCRAM_SHA_256`].
pub const PLAIN: &str = "PLAIN";

/// Why a login failed (for logs and metrics; clients hear only "authentication failed").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// A wrong password, or a user that does not exist: the same to the client.
    #[error("wrong credentials (or unknown user {user:?})")]
    BadCredentials {
        /// The user name the client gave.
        user: String,
    },
    /// Too many failures from this address this minute; not checked.
    #[error("too many failed logins from this address (auth.max_failures_per_minute)")]
    Throttled,
    /// The exchange broke its mechanism's rules.
    #[error("malformed {mechanism} exchange: {detail}")]
    Malformed {
        /// The mechanism.
        mechanism: &'static str,
        /// What was wrong.
        detail: String,
    },
}

/// What to answer after one client message.
#[derive(Debug)]
pub enum Step {
    /// Send this challenge and wait for the next client message.
    Challenge(Vec<u8>),
    /// Logged in: send this final message (empty for PLAIN); the connection is `principal`.
    Success {
        /// The mechanism's last server message.
        message: Vec<u8>,
        /// Who logged in.
        principal: Principal,
    },
    /// Failed: answer with the protocol's authentication error after the failure delay.
    Failure(Failure),
}

#[derive(Debug)]
enum Stage {
    ScramFirst(ScramServer, scram::Mechanism),
    ScramFinal(ScramServer, String),
    Plain,
    Done,
}

/// One login attempt on one connection.
#[derive(Debug)]
pub struct Login {
    stage: Stage,
    peer: IpAddr,
}

/// A mechanism the server does not offer on this connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mechanism {asked:?} is not offered here (offered: {})", offered.join(", "))]
pub struct Unsupported {
    /// What the client asked for (cut to 64 characters).
    pub asked: String,
    /// What it may ask for.
    pub offered: Vec<&'static str>,
}

impl Access {
    /// The mechanisms offered on a connection, TLS or not: SCRAM always, PLAIN only over TLS
    /// unless `auth.allow_plain_without_tls`.
    pub fn mechanisms(&self, tls: bool) -> Vec<&'static str> {
        let mut m = vec![SCRAM_SHA_256, SCRAM_SHA_512];
        if tls || self.allow_plain_without_tls.load(Ordering::Relaxed) {
            m.push(PLAIN);
        }
        m
    }

    /// Starts a login with `mechanism` from `peer`.
    pub fn login(&self, mechanism: &str, peer: IpAddr, tls: bool) -> Result<Login, Unsupported> {
        let offered = self.mechanisms(tls);
        let unsupported = || Unsupported {
            asked: mechanism.chars().take(64).collect(),
            offered: offered.clone(),
        };
        if !offered.contains(&mechanism) {
            return Err(unsupported());
        }
        let stage = match mechanism {
            PLAIN => Stage::Plain,
            name => {
                let m = scram::Mechanism::from_name(name).ok_or_else(unsupported)?;
                match ScramServer::new(m) {
                    Ok(server) => Stage::ScramFirst(server, m),
                    Err(e) => {
                        tracing::error!(error = %e, "cannot start a SCRAM exchange");
                        return Err(unsupported());
                    }
                }
            }
        };
        Ok(Login { stage, peer })
    }

    /// Checks a user name and password (HTTP basic) with the throttle and counters.
    pub fn check_password(
        &self,
        user: &str,
        password: &[u8],
        peer: IpAddr,
        now_ms: u64,
    ) -> Result<Principal, Failure> {
        if !self.throttle.allows(peer, now_ms) {
            return Err(self.throttled());
        }
        if self.users.verify_password(user, password) {
            self.counters.successes.fetch_add(1, Ordering::Relaxed);
            Ok(Principal::user(user))
        } else {
            Err(self.failed(peer, now_ms, Failure::BadCredentials { user: user.into() }))
        }
    }

    /// Checks an admin API token with the throttle and counters; `Err` says why (logged).
    pub fn check_token(
        &self,
        token: &str,
        peer: IpAddr,
        now_ms: u64,
        wall_ms: u64,
    ) -> Result<Principal, String> {
        if !self.throttle.allows(peer, now_ms) {
            return Err(self.throttled().to_string());
        }
        match self.tokens.verify(token, wall_ms) {
            Ok((_, principal)) => {
                self.counters.successes.fetch_add(1, Ordering::Relaxed);
                Ok(principal)
            }
            Err(refusal) => {
                let why = match refusal {
                    TokenRefusal::Unknown => "unknown or revoked token",
                    TokenRefusal::Expired => "expired token",
                };
                self.counters.failures.fetch_add(1, Ordering::Relaxed);
                self.throttle.failed(peer, now_ms);
                Err(why.to_string())
            }
        }
    }

    fn throttled(&self) -> Failure {
        self.counters.throttled.fetch_add(1, Ordering::Relaxed);
        Failure::Throttled
    }

    fn failed(&self, peer: IpAddr, now_ms: u64, failure: Failure) -> Failure {
        self.counters.failures.fetch_add(1, Ordering::Relaxed);
        self.throttle.failed(peer, now_ms);
        failure
    }
}

impl Login {
    /// Feeds one client message; `now_ms` is a monotonic clock for the throttle.
    pub fn step(&mut self, access: &Access, input: &[u8], now_ms: u64) -> Step {
        let stage = std::mem::replace(&mut self.stage, Stage::Done);
        let malformed = |mechanism, detail: String| Failure::Malformed { mechanism, detail };
        let failure = match stage {
            Stage::ScramFirst(mut server, m) => {
                if !access.throttle.allows(self.peer, now_ms) {
                    return Step::Failure(access.throttled());
                }
                match server.client_first(input) {
                    Ok(user) => {
                        let credential = access.users.credential(&user, m);
                        match server.server_first(
                            credential.as_ref(),
                            &access.unknown_user_key,
                            access.users.iterations(),
                        ) {
                            Ok(challenge) => {
                                self.stage = Stage::ScramFinal(server, user);
                                return Step::Challenge(challenge);
                            }
                            Err(e) => malformed(m.name(), e.to_string()),
                        }
                    }
                    Err(e) => malformed(m.name(), e.to_string()),
                }
            }
            Stage::ScramFinal(mut server, user) => match server.client_final(input) {
                Ok(message) => {
                    access.counters.successes.fetch_add(1, Ordering::Relaxed);
                    return Step::Success {
                        message,
                        principal: Principal::user(user),
                    };
                }
                Err(scram::ScramError::AuthenticationFailed) => Failure::BadCredentials { user },
                Err(e) => malformed("SCRAM", e.to_string()),
            },
            Stage::Plain => match plain::parse(input) {
                Ok(msg) => {
                    return match access.check_password(
                        &msg.username,
                        &msg.password,
                        self.peer,
                        now_ms,
                    ) {
                        Ok(principal) => Step::Success {
                            message: Vec::new(),
                            principal,
                        },
                        Err(f) => Step::Failure(f),
                    };
                }
                Err(e) => malformed(PLAIN, e.to_string()),
            },
            Stage::Done => malformed("SASL", "the exchange is over".into()),
        };
        Step::Failure(access.failed(self.peer, now_ms, failure))
    }
}
