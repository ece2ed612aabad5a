//! Platform feeds (API.md "Platform feeds and webhooks"): a channel's feed settings, its state
//! and a run on demand. Secrets go in and never come out.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller, Id};
use axum::Json;
use axum::extract::State;
use hezuo_app::feeds::{Feed, PutFeed, SyncSummary};
use utoipa_axum::{router::OpenApiRouter, routes};

type Found<T> = Result<Json<T>, ApiError>;

/// Creates or replaces the channel's feed (alliance for its channels, admin any).
#[utoipa::path(put, path = "/api/v1/channels/{id}/feed", tag = "feeds", params(("id" = i64, Path)), request_body = PutFeed,
    security(("bearer" = [])), responses((status = 200, body = Feed)))]
async fn put_feed(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiJson(req): ApiJson<PutFeed>,
) -> Found<Feed> {
    Ok(Json(s.app.put_feed(&p, id, req).await?))
}

/// The channel's feed: settings without secrets, cursor, last run and parked items.
#[utoipa::path(get, path = "/api/v1/channels/{id}/feed", tag = "feeds", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = Feed)))]
async fn get_feed(State(s): State<AppState>, Caller(p, _): Caller, Id(id): Id) -> Found<Feed> {
    Ok(Json(s.app.get_feed(&p, id).await?))
}

/// Runs the feed now (one run per channel at a time: 409 `feed_busy` while one runs).
#[utoipa::path(post, path = "/api/v1/channels/{id}/feed:sync", tag = "feeds", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = SyncSummary)))]
async fn sync_feed(State(s): State<AppState>, Caller(p, _): Caller, Id(id): Id) -> Found<SyncSummary> {
    Ok(Json(s.app.sync_feed(&p, id).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(put_feed, get_feed)).routes(routes!(sync_feed))
}
