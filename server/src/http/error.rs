//! Errors as RabbitMQ's management API sends them: a status and a JSON body
//! `{"error": ..., "reason": ...}`, so scripts written against RabbitMQ can
//! parse ours.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use warren_core::error::{AmqpError, ReplyCode};

/// An API error: becomes `{"error", "reason"}` with its status.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub error: String,
    pub reason: String,
}

impl ApiError {
    pub fn new(status: StatusCode, error: &str, reason: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error: error.to_string(),
            reason: reason.into(),
        }
    }

    /// An unknown vhost, queue, exchange or user, worded as RabbitMQ does.
    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "Object Not Found", "Not Found")
    }

    pub fn bad_request(reason: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", reason)
    }

    pub fn unauthorized(reason: &str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "not_authorized", reason)
    }

    /// Logged in but not allowed (not an administrator, no access to a
    /// vhost): RabbitMQ answers these with 401 too, spelled "not_authorised".
    pub fn forbidden(reason: &str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "not_authorised", reason)
    }

    /// The broker task is gone: the server is shutting down.
    pub fn unavailable() -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "the broker is shutting down",
        )
    }
}

impl From<crate::admin::BrokerGone> for ApiError {
    fn from(_: crate::admin::BrokerGone) -> ApiError {
        ApiError::unavailable()
    }
}

/// An AMQP error from an action, mapped as RabbitMQ's management plugin maps
/// the channel errors it gets: 404 not found, 401 access refused, 400 for
/// the rest (precondition failed, bad arguments).
impl From<AmqpError> for ApiError {
    fn from(e: AmqpError) -> ApiError {
        // The wire text starts with the code's name ("NOT_FOUND - ..."); the
        // management API gives only the explanation.
        let prefix = format!("{} - ", e.code.name());
        let reason = e.text.strip_prefix(&prefix).unwrap_or(&e.text).to_string();
        match e.code {
            ReplyCode::NotFound => ApiError::new(StatusCode::NOT_FOUND, "not_found", reason),
            ReplyCode::AccessRefused => {
                ApiError::new(StatusCode::UNAUTHORIZED, "not_authorised", reason)
            }
            ReplyCode::NotAllowed => ApiError::new(StatusCode::NOT_FOUND, "not_found", reason),
            _ => ApiError::bad_request(reason),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.error, "reason": self.reason });
        let mut r = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Basic realm=\"RabbitMQ Management\""),
            );
        }
        r
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
