//! The HTTP API of hezuo: axum routers over the use cases of `hezuo-app`, the error envelope,
//! authentication, limits, request ids, tracing, metrics and the OpenAPI document.

mod access_log;
mod error;
mod extract;
mod metrics;
mod openapi;
mod routes;

pub use error::{ApiError, ErrorBody};
pub use metrics::Metrics;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::{HeaderName, StatusCode};
use hezuo_app::App;
use std::sync::Arc;
use std::time::Duration;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_swagger_ui::SwaggerUi;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub metrics: Arc<Metrics>,
}

impl FromRef<AppState> for Arc<Metrics> {
    fn from_ref(s: &AppState) -> Arc<Metrics> {
        s.metrics.clone()
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Largest CSV file a bulk import takes (about 100,000 rows).
pub const IMPORT_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// Largest platform statement an upload takes (a million-row statement is about 60–150 MiB).
pub const STATEMENT_BODY_LIMIT: usize = 256 * 1024 * 1024;

/// The API routes with their OpenAPI description; JSON bodies get the JSON limit, CSV
/// imports their own.
fn api(json_limit: usize) -> OpenApiRouter<AppState> {
    let json = OpenApiRouter::new()
        .merge(routes::auth::routes())
        .merge(routes::setup::routes())
        .merge(routes::catalog::routes())
        .merge(routes::orders::routes())
        .merge(routes::periods::routes())
        .merge(routes::reconciliation::routes())
        .layer(DefaultBodyLimit::max(json_limit));
    let files = routes::catalog::import_routes().layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT));
    let statements = routes::reconciliation::upload_routes().layer(DefaultBodyLimit::max(STATEMENT_BODY_LIMIT));
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi()).merge(json).merge(files).merge(statements)
}

/// The OpenAPI document as served at `/api/openapi.json`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    api(0).split_for_parts().1
}

async fn not_found() -> ApiError {
    ApiError::not_found()
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed on this path")
}

/// The whole service.
pub fn router(app: App) -> Router {
    let json_limit = app.config.json_body_limit;
    let state = AppState { app, metrics: Metrics::new() };
    let (api_router, doc) = api(json_limit).split_for_parts();
    Router::new()
        .merge(api_router)
        .merge(SwaggerUi::new("/docs").url("/api/openapi.json", doc))
        .merge(routes::ops::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(axum::middleware::from_fn_with_state(state.metrics.clone(), metrics::track))
        .with_state(state)
        .layer(TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(30)))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(access_log::span).on_response(access_log::on_response))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// Serves until `shutdown` resolves; requests in flight then finish before this returns.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: App,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(app)).with_graceful_shutdown(shutdown).await
}
