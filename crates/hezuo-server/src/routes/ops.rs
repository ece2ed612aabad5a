use crate::AppState;
use crate::error::ApiError;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

async fn readyz(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    match s.app.ready().await {
        Ok(()) => Ok(Json(match s.app.replica_status() {
            // The replica's state informs; the service is ready on the primary alone.
            Some(replica) => json!({"status": "ready", "replica": replica}),
            None => json!({"status": "ready"}),
        })),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            let why = if s.app.stopping() { "shutting down" } else { "database unreachable or migrations pending" };
            Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", why))
        }
    }
}

async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    s.app.refresh_metrics().await;
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], s.metrics.render())
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/metrics", get(metrics))
}
