//! The one error type of the HTTP API and its envelope (API.md "Errors").

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hezuo_app::AppError;
use serde::Serialize;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code for programs.
    pub code: String,
    /// Human text.
    pub message: String,
    /// The offending field, as a dotted path into the request, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For a rejected import: every bad row with its line number and reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<hezuo_catalog::import::RowError>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    pub rows: Vec<hezuo_catalog::import::RowError>,
    /// Seconds for a `Retry-After` header (429, 503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), field: None, rows: Vec::new(), retry_after: None }
    }

    pub fn with_field(mut self, field: Option<String>) -> ApiError {
        self.field = field.filter(|f| !f.is_empty());
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> ApiError {
        self.retry_after = Some(seconds);
        self
    }

    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such resource")
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> ApiError {
        let code = e.code();
        match e {
            AppError::Unauthorized(m) => ApiError::new(StatusCode::UNAUTHORIZED, code, m),
            AppError::Forbidden => ApiError::new(StatusCode::FORBIDDEN, code, e.to_string()),
            AppError::NotFound(_) => ApiError::new(StatusCode::NOT_FOUND, code, e.to_string()),
            AppError::Conflict { code, message } => ApiError::new(StatusCode::CONFLICT, code, message),
            AppError::Invalid { code, field, message } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).with_field(field)
            }
            AppError::Rejected { code, message, rows } => {
                ApiError { rows, ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message) }
            }
            AppError::TooManyAttempts { retry_after } => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, e.to_string()).with_retry_after(retry_after)
            }
            AppError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, code, "internal error; see the server log")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status;
        let retry_after = self.retry_after;
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                field: self.field,
                rows: self.rows,
            },
        };
        let mut res = (status, axum::Json(body)).into_response();
        if let Some(s) = retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}
