use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use axum::Json;
use axum::extract::State;
use hezuo_app::auth::{LoginRequest, LoginResponse};
use utoipa_axum::{router::OpenApiRouter, routes};

/// Logs in with a username and password for a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, description = "a bearer token for 12 hours", body = LoginResponse),
        (status = 401, description = "unknown username, wrong password or disabled user (`unauthorized`)", body = ErrorBody),
        (status = 429, description = "too many failed logins for this username (`too_many_attempts`)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "seconds until the username may log in again")))))]
async fn login(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    Ok(Json(s.app.login(req).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login))
}
