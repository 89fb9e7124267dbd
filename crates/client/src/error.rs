//! The client's error type.

use memstream_protocol::{ErrorBody, ErrorCode, FrameError};

/// Everything a client call can fail with. Errors the server sent carry its numbered code
/// ([`code`](Self::code)); connection failures say whether a retry may help
/// ([`is_retriable`](Self::is_retriable)).
///
/// ```no_run
/// # async fn demo() -> Result<(), memstream_client::ClientError> {
/// use memstream_protocol::ErrorCode;
/// let client = memstream_client::Client::connect("127.0.0.1:7878").await?;
/// match client.admin().describe_stream("missing").await {
///     Err(e) if e.code() == Some(ErrorCode::StreamNotFound) => println!("no such stream"),
///     Err(e) => return Err(e),
///     Ok(stream) => println!("{} partitions", stream.partitions.len()),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// Connecting or the socket failed. Shared, so that one failure can be handed to every
    /// request it failed (the error is `Clone`).
    #[error("i/o error: {0}")]
    Io(std::sync::Arc<std::io::Error>),
    /// The server sent bytes that are not a valid frame.
    #[error("protocol error from server: {0}")]
    Protocol(std::sync::Arc<FrameError>),
    /// The server answered with an error frame.
    #[error("server error {name} ({code}): {message}")]
    Server {
        /// The raw wire code.
        code: u16,
        /// Its name, or `UNKNOWN` for a code this client does not know.
        name: &'static str,
        /// The server's message.
        message: String,
    },
    /// The server's response could not be parsed.
    #[error("malformed response: {0}")]
    Malformed(String),
    /// The connection is closed; `reason` is the server's GOODBYE or error, when it sent one.
    #[error("connection closed{}", .reason.as_ref().map(|r| format!(": {} ({})", r.message, r.code)).unwrap_or_default())]
    Closed {
        /// Why the server closed, when it said.
        reason: Option<ErrorBody>,
    },
    /// The caller passed something the client cannot send.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// No response within the request timeout.
    #[error("request timed out after {0:?}")]
    Timeout(std::time::Duration),
    /// Logging in could not be done on this side (no credentials, no common mechanism, a
    /// server whose signature is wrong). A refused password is [`ClientError::Server`]
    /// with AUTHENTICATION_FAILED.
    #[error("authentication: {0}")]
    Auth(String),
    /// The TLS handshake failed (an untrusted certificate, the wrong name, a server
    /// without TLS).
    #[error("TLS: {0}")]
    Tls(String),
}

impl From<std::io::Error> for ClientError {
    fn from(e: std::io::Error) -> ClientError {
        ClientError::Io(std::sync::Arc::new(e))
    }
}

impl From<FrameError> for ClientError {
    fn from(e: FrameError) -> ClientError {
        ClientError::Protocol(std::sync::Arc::new(e))
    }
}

impl ClientError {
    /// The server's error code, for [`ClientError::Server`].
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Server { code, .. } => ErrorCode::from_u16(*code),
            ClientError::Closed { reason: Some(r) } => r.known_code(),
            _ => None,
        }
    }

    /// Whether trying again on a new connection may succeed: the connection failed, closed or
    /// timed out (the server may or may not have applied the request).
    pub fn is_retriable(&self) -> bool {
        matches!(
            self,
            ClientError::Io(_) | ClientError::Closed { .. } | ClientError::Timeout(_)
        )
    }

    pub(crate) fn from_body(body: ErrorBody) -> ClientError {
        ClientError::Server {
            code: body.code,
            name: body.known_code().map_or("UNKNOWN", ErrorCode::name),
            message: body.message,
        }
    }
}
