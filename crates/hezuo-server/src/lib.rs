//! The HTTP API of hezuo: axum routers over the use cases of `hezuo-app`, the error envelope,
//! authentication, limits, request ids, tracing, metrics and the OpenAPI document.

mod access_log;
mod error;
mod extract;
mod metrics;
mod openapi;
mod rate_limit;
mod read_your_writes;
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

pub use hezuo_app::{IMPORT_BODY_LIMIT, STATEMENT_BODY_LIMIT};

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
        .merge(routes::reports::routes())
        .merge(routes::feeds::routes())
        .merge(routes::webhooks::routes())
        .layer(DefaultBodyLimit::max(json_limit));
    let files = routes::catalog::import_routes().layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT));
    let statements = routes::reconciliation::upload_routes().layer(DefaultBodyLimit::max(STATEMENT_BODY_LIMIT));
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi()).merge(json).merge(files).merge(statements)
}

/// The OpenAPI document as served at `/api/openapi.json`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    openapi::finish(api(0).split_for_parts().1)
}

/// Unknown paths: the error envelope under `/api/`, the console's Chinese page elsewhere.
async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    use axum::response::IntoResponse;
    if uri.path().starts_with("/api/") { ApiError::not_found().into_response() } else { hezuo_web::not_found().await }
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed on this path")
}

/// A request that takes longer than the limit (reading its body included) is answered 503
/// `request_timeout` in the error envelope. Its work stops where it is: a transaction it had
/// begun rolls back, but an order already handed to the SQLite writer may still be booked, so
/// the client repeats the request (orders and statements are idempotent) or looks it up.
async fn time_limit(
    axum::extract::State(limit): axum::extract::State<Duration>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "request_timeout",
            format!(
                "the request took longer than {} s; it may or may not have taken effect: repeat it (orders and statements are idempotent) or look it up",
                limit.as_secs()
            ),
        )
        .with_retry_after(1)
        .into_response(),
    }
}

/// The whole service.
pub fn router(app: App) -> Router {
    let json_limit = app.config.json_body_limit;
    let request_timeout = app.config.request_timeout;
    let metrics = Metrics::new(&app.metrics);
    let recent_writers = app.read_your_writes_window().map(read_your_writes::RecentWriters::new);
    let limits = rate_limit::Limits::new(&app);
    let console = hezuo_web::router(app.clone())
        .route_layer(axum::middleware::from_fn_with_state(metrics.clone(), metrics::track));
    let state = AppState { app, metrics };
    let (api_router, doc) = api(json_limit).split_for_parts();
    let router = Router::new()
        .merge(api_router)
        .merge(SwaggerUi::new("/docs").url("/api/openapi.json", openapi::finish(doc)))
        .merge(routes::ops::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(axum::middleware::from_fn_with_state(state.metrics.clone(), metrics::track))
        .with_state(state)
        .merge(console);
    let router = match recent_writers {
        Some(w) => router.layer(axum::middleware::from_fn_with_state(w, read_your_writes::route_reads)),
        None => router,
    };
    let router = router.layer(axum::middleware::from_fn_with_state(request_timeout, time_limit));
    let router = match limits {
        Some(l) => router.layer(axum::middleware::from_fn_with_state(l, rate_limit::limit)),
        None => router,
    };
    router
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(access_log::span).on_response(access_log::on_response))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// How long a client may take to send a request's headers, and how long a keep-alive
/// connection may sit idle waiting for the next request.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves until `shutdown` resolves; requests in flight then finish before this returns.
///
/// Connections are served by hyper directly (not `axum::serve`) so that slow clients cannot
/// hold the service: headers must arrive within `HEADER_READ_TIMEOUT` (also the idle bound of
/// a keep-alive connection), and at most `config.max_connections` connections are open at
/// once — beyond, new ones wait in the listen backlog — so the process stays below its file
/// descriptor limit. Accept errors (such as running out of descriptors) are logged and retried.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: App,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let max_connections = app.config.max_connections.max(1);
    let grace = app.config.shutdown_grace;
    let stopping = app.clone();
    let router = router(app);
    let permits = Arc::new(tokio::sync::Semaphore::new(max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = permits.clone().acquire_owned() => p.map_err(std::io::Error::other)?,
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = stream;
        let _ = stream.set_nodelay(true);
        // The peer's address for the rate limits (`rate_limit.rs`).
        let service = hyper_util::service::TowerToHyperService::new(tower::ServiceExt::map_request(
            router.clone(),
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                req
            },
        ));
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder.timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT).keep_alive(true);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
    // Not ready from now on; no new connection; what is under way (an order waiting in the
    // writer's queue included) finishes and is answered, within the grace period.
    stopping.begin_shutdown();
    drop(listener);
    let open = permits.available_permits();
    tracing::info!(connections = max_connections - open, "shutting down: finishing requests in flight");
    if tokio::time::timeout(grace, graceful.shutdown()).await.is_err() {
        tracing::warn!(grace_s = grace.as_secs(), "requests still in flight when the grace period ended");
    }
    Ok(())
}
