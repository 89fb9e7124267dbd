//! The client's options and its reconnect policy.

use std::time::Duration;

/// Connection settings.
///
/// ```
/// use std::time::Duration;
/// use memstream_client::ClientOptions;
///
/// let options = ClientOptions {
///     request_timeout: Duration::from_secs(5),
///     ..ClientOptions::default()
/// };
/// assert!(options.reconnect.enabled);
/// ```
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Name sent in HELLO, visible in server logs.
    pub client_name: String,
    /// How long any request waits for its response, reconnecting included.
    pub request_timeout: Duration,
    /// Requests queued for the socket before `request` waits.
    pub send_queue_frames_max: usize,
    /// What happens when the connection drops.
    pub reconnect: ReconnectPolicy,
    /// A subscription that has received nothing for this long checks, with a PING, that its
    /// connection still answers, and gives the connection up if it does not.
    pub keepalive_interval: Duration,
    /// The largest frame this client accepts, announced in HELLO; `None` (the default)
    /// accepts whatever the server's limit is. The server then never sends a larger frame: a
    /// stored batch that would need one is refused with MESSAGE_TOO_LARGE.
    pub max_frame_bytes: Option<u32>,
    /// Who to log in as when the server requires it (its HELLO lists SCRAM mechanisms);
    /// `None` fails such a connection with a message saying so.
    pub credentials: Option<Credentials>,
    /// Connect with TLS: the rustls configuration (trusted CAs, a client certificate for
    /// mutual TLS) and the name the server's certificate must carry.
    pub tls: Option<ClientTls>,
}

/// TLS for a client.
#[derive(Clone)]
pub struct ClientTls {
    /// The rustls configuration.
    pub config: std::sync::Arc<rustls::ClientConfig>,
    /// The name to check the server's certificate against; `None`: the address's IP.
    pub server_name: Option<String>,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

/// A user name and password for SCRAM. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user.
    pub user: String,
    /// The password, as bytes (SCRAM derives a key from it; it is never sent).
    pub password: Vec<u8>,
}

impl Credentials {
    /// `user` with `password`.
    pub fn new(user: impl Into<String>, password: impl Into<Vec<u8>>) -> Credentials {
        Credentials {
            user: user.into(),
            password: password.into(),
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            client_name: format!("memstream-client/{}", env!("CARGO_PKG_VERSION")),
            request_timeout: Duration::from_secs(30),
            send_queue_frames_max: 1024,
            reconnect: ReconnectPolicy::default(),
            keepalive_interval: Duration::from_secs(15),
            max_frame_bytes: None,
            credentials: None,
            tls: None,
        }
    }
}

/// Reconnecting after a dropped connection: exponential backoff with jitter, from
/// `backoff_initial` doubling up to `backoff_max`, for at most `give_up_after`.
///
/// ```
/// use std::time::Duration;
/// use memstream_client::{ClientOptions, ReconnectPolicy};
///
/// let patient = ClientOptions {
///     reconnect: ReconnectPolicy {
///         give_up_after: Duration::from_secs(600),
///         ..ReconnectPolicy::default()
///     },
///     ..ClientOptions::default()
/// };
/// let never = ClientOptions { reconnect: ReconnectPolicy::disabled(), ..ClientOptions::default() };
/// assert!(patient.reconnect.enabled && !never.reconnect.enabled);
/// ```
#[derive(Debug, Clone)]
pub struct ReconnectPolicy {
    /// Reconnect at all; when false a dropped connection stays closed.
    pub enabled: bool,
    /// Wait before the second attempt (the first is immediate).
    pub backoff_initial: Duration,
    /// Longest wait between attempts.
    pub backoff_max: Duration,
    /// Stop trying after this long; the caller gets the last error.
    pub give_up_after: Duration,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        ReconnectPolicy {
            enabled: true,
            backoff_initial: Duration::from_millis(20),
            backoff_max: Duration::from_secs(2),
            give_up_after: Duration::from_secs(60),
        }
    }
}

impl ReconnectPolicy {
    /// Never reconnect.
    pub fn disabled() -> ReconnectPolicy {
        ReconnectPolicy {
            enabled: false,
            ..ReconnectPolicy::default()
        }
    }
}
