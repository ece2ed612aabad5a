//! Orders and ledger endpoints (API.md "Orders", "Ledger and periods").

use super::ListParams;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Caller, Id};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hezuo_app::Page;
use hezuo_app::ledger::{AccountView, DateRange, TransactionView};
use hezuo_app::orders::*;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

type Found<T> = Result<Json<T>, ApiError>;

/// Places an order, drawing its lots oldest first and booking its attribution.
///
/// 201 when created; the same request again: 200 with the same order; the same
/// (channel, external_id) with a different body: 409; not enough stock: 422 `insufficient_stock`.
#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", request_body = PlaceOrder, security(("bearer" = [])),
    responses((status = 201, body = OrderView), (status = 200, description = "the same request again", body = OrderView),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn place_order(
    State(s): State<AppState>,
    Caller(p, actor): Caller,
    ApiJson(req): ApiJson<PlaceOrder>,
) -> Result<(StatusCode, Json<OrderView>), ApiError> {
    let placed = s.app.place_order(&p, &actor, req).await?;
    let status = if placed.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(placed.order)))
}

/// Lists the orders in scope.
#[utoipa::path(get, path = "/api/v1/orders", tag = "orders", params(OrderFilter, ListParams), security(("bearer" = [])),
    responses((status = 200, body = Page<OrderView>)))]
async fn list_orders(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    ApiQuery(f): ApiQuery<OrderFilter>,
    ApiQuery(q): ApiQuery<ListParams>,
) -> Found<Page<OrderView>> {
    super::check_channel_filter("channel", f.channel.as_deref())?;
    Ok(Json(s.app.list_orders(&p, &f, q.page()?).await?))
}

/// The order with every line's lot parts and their five amounts.
#[utoipa::path(get, path = "/api/v1/orders/{id}", tag = "orders", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = OrderView)))]
async fn get_order(State(s): State<AppState>, Caller(p, _): Caller, Id(id): Id) -> Found<OrderView> {
    Ok(Json(s.app.get_order(&p, id).await?))
}

/// A refund of part or all of a line; 422 `refund_exceeds` beyond what is left.
#[utoipa::path(post, path = "/api/v1/orders/{id}/refunds", tag = "orders", params(("id" = i64, Path)), request_body = CreateRefund,
    security(("bearer" = [])), responses((status = 201, body = RefundView)))]
async fn refund(
    State(s): State<AppState>,
    Caller(p, actor): Caller,
    Id(id): Id,
    ApiJson(req): ApiJson<CreateRefund>,
) -> Result<(StatusCode, Json<RefundView>), ApiError> {
    Ok((StatusCode::CREATED, Json(s.app.refund(&p, &actor, id, req).await?)))
}

/// A full refund with restock of a placed or shipped order; again: the same order.
#[utoipa::path(post, path = "/api/v1/orders/{id}/cancel", tag = "orders", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = OrderView)))]
async fn cancel(State(s): State<AppState>, Caller(p, actor): Caller, Id(id): Id) -> Found<OrderView> {
    Ok(Json(s.app.cancel_order(&p, &actor, id).await?))
}

/// Ships a placed order with its tracking number.
#[utoipa::path(post, path = "/api/v1/orders/{id}/ship", tag = "orders", params(("id" = i64, Path)), request_body = ShipOrder,
    security(("bearer" = [])), responses((status = 200, body = OrderView)))]
async fn ship(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiJson(req): ApiJson<ShipOrder>,
) -> Found<OrderView> {
    Ok(Json(s.app.ship_order(&p, id, req).await?))
}

/// Completes a shipped order.
#[utoipa::path(post, path = "/api/v1/orders/{id}/complete", tag = "orders", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = OrderView)))]
async fn complete(State(s): State<AppState>, Caller(p, _): Caller, Id(id): Id) -> Found<OrderView> {
    Ok(Json(s.app.complete_order(&p, id).await?))
}

/// An account's balance (from per-day sums) and postings, optionally within booking dates.
#[utoipa::path(get, path = "/api/v1/ledger/accounts/{account}", tag = "ledger",
    params(("account" = String, Path, description = "household:{id}, village:{id}, station:{id}, coop:{id}:pool, coop:{id}:reserve, channel:{code}, fees:channel:{code}",
            pattern = "^(?:(?:household|village|station):[0-9]{1,18}|coop:[0-9]{1,18}:(?:pool|reserve)|(?:fees:)?channel:[a-z0-9_-]{1,32})$", example = "household:1"),
        DateRange, ListParams),
    security(("bearer" = [])), responses((status = 200, body = AccountView)))]
async fn account(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Path(account): Path<String>,
    ApiQuery(range): ApiQuery<DateRange>,
    ApiQuery(q): ApiQuery<ListParams>,
) -> Found<AccountView> {
    Ok(Json(s.app.account(&p, &account, &range, q.page()?).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderRef {
    pub order_id: i64,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Transactions {
    pub items: Vec<TransactionView>,
}

/// Lists an order's sale and refund transactions.
#[utoipa::path(get, path = "/api/v1/ledger/transactions", tag = "ledger", params(OrderRef), security(("bearer" = [])),
    responses((status = 200, body = Transactions)))]
async fn transactions(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    ApiQuery(r): ApiQuery<OrderRef>,
) -> Found<Transactions> {
    Ok(Json(Transactions { items: s.app.order_transactions(&p, r.order_id).await? }))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(place_order, list_orders))
        .routes(routes!(get_order))
        .routes(routes!(refund))
        .routes(routes!(cancel))
        .routes(routes!(ship))
        .routes(routes!(complete))
        .routes(routes!(account))
        .routes(routes!(transactions))
}
