use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;
use axum::Json;
use axum::extract::State;
use hezuo_app::auth::{LoginRequest, LoginResponse};
use utoipa_axum::{router::OpenApiRouter, routes};

/// Exchanges a username and password for a bearer token with an expiry.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = "4XX", body = ErrorBody)))]
async fn login(
    State(s): State<AppState>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    Ok(Json(s.app.login(req).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login))
}
