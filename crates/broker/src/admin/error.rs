//! The admin API's one error shape: `{"code": "STREAM_NOT_FOUND", "message": "..."}` with
//! the HTTP status that goes with it. Codes are the native protocol's error names where an
//! engine error maps to one (`crate::wire_errors`), so the two front-ends say the same
//! thing; the rest are HTTP's own (`NOT_FOUND`, `METHOD_NOT_ALLOWED`, ...).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use memstream_protocol::ErrorCode;

use crate::wire_errors::WireCode;

/// A refused or failed admin request.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Ask for credentials (`WWW-Authenticate`), on a 401.
    pub challenge: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            challenge: false,
        }
    }

    /// 400: a parameter is missing or wrong; the message names it.
    pub fn bad_parameter(name: &str, why: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            format!("{name}: {why}"),
        )
    }

    /// 404 for a route no handler serves.
    pub fn no_route(path: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("no such resource: {path}"),
        )
    }

    /// 504: the handler ran past `admin.request_timeout_ms`.
    pub fn timeout(after: std::time::Duration) -> ApiError {
        ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "REQUEST_TIMEOUT",
            format!(
                "the request took longer than admin.request_timeout_ms ({} ms)",
                after.as_millis()
            ),
        )
    }

    /// The error of a native code, with the HTTP status that fits it.
    pub fn from_code(code: ErrorCode, message: impl Into<String>) -> ApiError {
        let status = match code {
            ErrorCode::StreamNotFound
            | ErrorCode::PartitionNotFound
            | ErrorCode::GroupNotFound
            | ErrorCode::UserNotFound
            | ErrorCode::UnknownMember => StatusCode::NOT_FOUND,
            ErrorCode::StreamAlreadyExists
            | ErrorCode::UserAlreadyExists
            | ErrorCode::GroupNotEmpty
            | ErrorCode::RebalanceInProgress => StatusCode::CONFLICT,
            ErrorCode::InvalidArgument
            | ErrorCode::InvalidStreamName
            | ErrorCode::OffsetOutOfRange
            | ErrorCode::MalformedPayload => StatusCode::BAD_REQUEST,
            ErrorCode::MessageTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::LimitReached => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::NotAuthorized => StatusCode::FORBIDDEN,
            ErrorCode::AuthenticationRequired | ErrorCode::AuthenticationFailed => {
                StatusCode::UNAUTHORIZED
            }
            ErrorCode::ShuttingDown | ErrorCode::TooManyConnections => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, code.name(), message)
    }

    /// An engine error.
    pub fn engine(e: &(impl WireCode + std::fmt::Display)) -> ApiError {
        ApiError::from_code(e.code(), e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "code": self.code, "message": self.message });
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.challenge {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"memstream\", Bearer realm=\"memstream\""),
            );
        }
        response
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> ApiError {
        // Syntax and data errors (axum's 400 and 422) are both 400: serde's message names
        // the field.
        let (status, code) = match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE")
            }
            _ => (StatusCode::BAD_REQUEST, "INVALID_ARGUMENT"),
        };
        ApiError::new(status, code, format!("request body: {}", r.body_text()))
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(r: axum::extract::rejection::PathRejection) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            format!("path: {}", r.body_text()),
        )
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", r.body_text())
    }
}

/// What handlers return.
pub(crate) type ApiResult<T> = Result<T, ApiError>;
