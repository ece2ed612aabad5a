//! Outgoing webhooks (API.md "Platform feeds and webhooks", PLATFORMS.md §5): an alliance's
//! endpoints, their deliveries with every attempt, and redelivery by hand.

use super::ListParams;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Caller, Id, id};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use hezuo_app::Page;
use hezuo_app::webhooks::{CreateWebhook, CreatedWebhook, DeliveryView, PatchWebhook, Webhook};
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

type Found<T> = Result<Json<T>, ApiError>;

/// Registers an endpoint for the alliance's events; answers its secret, this once.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = CreateWebhook,
    security(("bearer" = [])), responses((status = 201, body = CreatedWebhook)))]
async fn create_webhook(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    ApiJson(req): ApiJson<CreateWebhook>,
) -> Result<(StatusCode, Json<CreatedWebhook>), ApiError> {
    Ok((StatusCode::CREATED, Json(s.app.create_webhook(&p, req).await?)))
}

/// The caller's endpoints (an admin's: all).
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", params(ListParams), security(("bearer" = [])),
    responses((status = 200, body = Page<Webhook>)))]
async fn list_webhooks(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    ApiQuery(q): ApiQuery<ListParams>,
) -> Found<Page<Webhook>> {
    Ok(Json(s.app.list_webhooks(&p, q.page()?).await?))
}

/// Shows an endpoint (without its secret).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = Webhook)))]
async fn get_webhook(State(s): State<AppState>, Caller(p, _): Caller, Id(id): Id) -> Found<Webhook> {
    Ok(Json(s.app.get_webhook(&p, id).await?))
}

/// Changes an endpoint's URL or events, or disables or enables it.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = i64, Path)),
    request_body = PatchWebhook, security(("bearer" = [])), responses((status = 200, body = Webhook)))]
async fn patch_webhook(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiJson(req): ApiJson<PatchWebhook>,
) -> Found<Webhook> {
    Ok(Json(s.app.patch_webhook(&p, id, req).await?))
}

/// The endpoint's deliveries in the order they were written, each with every attempt.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = i64, Path), ListParams),
    security(("bearer" = [])), responses((status = 200, body = Page<DeliveryView>)))]
async fn list_deliveries(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<ListParams>,
) -> Found<Page<DeliveryView>> {
    Ok(Json(s.app.webhook_deliveries(&p, id, q.page()?).await?))
}

/// Sends a delivery again now, with the same `webhook-id`; its retry schedule starts over.
/// 409 `endpoint_disabled` while the endpoint is disabled, `delivery_in_progress` while an
/// attempt is under way.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery_id}:redeliver", tag = "webhooks",
    params(("id" = i64, Path), ("delivery_id" = i64, Path)), security(("bearer" = [])),
    responses((status = 202, description = "the delivery, due now", body = DeliveryView), (status = 409, body = ErrorBody)))]
async fn redeliver(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Path((endpoint, delivery)): Path<(String, String)>,
) -> Result<(StatusCode, Json<DeliveryView>), ApiError> {
    // The router matches whole segments: `{delivery_id}:redeliver` arrives as one.
    let delivery = delivery.strip_suffix(":redeliver").ok_or_else(ApiError::not_found)?;
    Ok((StatusCode::ACCEPTED, Json(s.app.redeliver(&p, id(&endpoint)?, id(delivery)?).await?)))
}

#[derive(OpenApi)]
#[openapi(paths(redeliver))]
struct RedeliverDoc;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(get_webhook, patch_webhook))
        .routes(routes!(list_deliveries))
        .route("/api/v1/webhooks/{id}/deliveries/{delivery}", post(redeliver))
        .merge(OpenApiRouter::with_openapi(RedeliverDoc::openapi()))
}
