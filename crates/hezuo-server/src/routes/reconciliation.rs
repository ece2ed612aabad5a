//! Reconciliation of platform statements (API.md "Reconciliation").

use super::{ListParams, check_channel_filter};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Caller, CsvBody, Id};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hezuo_app::Page;
use hezuo_app::reconciliation::{ItemFilter, ItemView, Resolve, StatementView, items_csv, items_xlsx};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// The channel's code (of the caller's alliance).
    #[param(min_length = 1, max_length = 32, pattern = "^[a-z0-9_-]{1,32}$", example = "taobao")]
    pub channel: String,
    /// The statement's layout; `generic` when absent (422 `invalid_field` for any other).
    #[param(inline, value_type = Option<StatementFormat>)]
    pub format: Option<String>,
}

/// The layouts of platform statements.
// For the document only: the use case reads the text and names a wrong value with 422.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum StatementFormat {
    Generic,
    Wechat,
    Alipay,
}

/// Imports a platform statement and matches it against the books.
///
/// The file is CSV, UTF-8 with or without BOM, or GBK. 201 with the statement; the same file
/// again: 200 with the first import.
#[utoipa::path(post, path = "/api/v1/reconciliation/statements", tag = "reconciliation", params(ImportParams),
    request_body(content = String, content_type = "text/csv"), security(("bearer" = [])),
    responses((status = 201, body = StatementView), (status = 200, description = "the same file again", body = StatementView),
        (status = 422, description = "unreadable, truncated or corrupt file: nothing imported", body = ErrorBody)))]
async fn import(
    State(s): State<AppState>,
    Caller(p, actor): Caller,
    ApiQuery(q): ApiQuery<ImportParams>,
    req: axum::extract::Request,
) -> Result<(StatusCode, Json<StatementView>), ApiError> {
    check_channel_filter("channel", Some(&q.channel))?;
    let format = q.format.as_deref().unwrap_or("generic");
    // Role, channel and format first: a caller who may not import is refused before a byte of
    // a (possibly huge) body is read.
    s.app.check_statement_import(&p, &q.channel, format).await?;
    let CsvBody(body) = <CsvBody as axum::extract::FromRequest<AppState>>::from_request(req, &s).await?;
    let done = s.app.import_statement(&p, &actor, &q.channel, format, &body).await?;
    let status = if done.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(done.statement)))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatementFilter {
    /// Only this channel's statements (a channel code).
    #[param(min_length = 1, max_length = 32, pattern = "^[a-z0-9_-]{1,32}$", example = "taobao")]
    pub channel: Option<String>,
}

/// The statements in the caller's scope, each with its summary.
#[utoipa::path(get, path = "/api/v1/reconciliation/statements", tag = "reconciliation", params(StatementFilter, ListParams),
    security(("bearer" = [])), responses((status = 200, body = Page<StatementView>)))]
async fn list_statements(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    ApiQuery(f): ApiQuery<StatementFilter>,
    ApiQuery(page): ApiQuery<ListParams>,
) -> Result<Json<Page<StatementView>>, ApiError> {
    check_channel_filter("channel", f.channel.as_deref())?;
    Ok(Json(s.app.list_statements(&p, f.channel.as_deref(), page.page()?).await?))
}

/// Shows a statement with its summary.
#[utoipa::path(get, path = "/api/v1/reconciliation/statements/{id}", tag = "reconciliation", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = StatementView)))]
async fn get_statement(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
) -> Result<Json<StatementView>, ApiError> {
    Ok(Json(s.app.get_statement(&p, id).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ItemParams {
    /// Only the items of this status (422 `invalid_field` for any other).
    #[param(inline, value_type = Option<ItemStatus>)]
    pub status: Option<String>,
    /// `json` (default, paged), `csv` or `xlsx` (every item).
    #[param(inline)]
    pub format: Option<ItemFormat>,
}

/// What matching found for an external id.
// For the document only: the use case reads the text and names a wrong value with 422.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
pub enum ItemStatus {
    Matched,
    AmountMismatch,
    MissingInBooks,
    MissingInStatement,
    Duplicate,
}

/// How the items come back.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ItemFormat {
    #[default]
    Json,
    Csv,
    Xlsx,
}

/// The statement's items by status; `?format=csv|xlsx` exports them all.
#[utoipa::path(get, path = "/api/v1/reconciliation/statements/{id}/items", tag = "reconciliation",
    params(("id" = i64, Path), ItemParams, ListParams), security(("bearer" = [])),
    responses((status = 200, description = "a page of items; with `?format=csv` or `xlsx`, every item as a file",
        content((Page<ItemView> = "application/json"), (String = "text/csv"),
            (crate::openapi::Binary = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")))))]
async fn items(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<ItemParams>,
    ApiQuery(page): ApiQuery<ListParams>,
) -> Result<Response, ApiError> {
    let filter = ItemFilter { status: q.status.clone() };
    let page = page.page()?;
    let file = |ct: &str, name: String, body: Vec<u8>| {
        (
            [
                (header::CONTENT_TYPE, ct.to_owned()),
                (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            ],
            body,
        )
            .into_response()
    };
    match q.format.unwrap_or_default() {
        ItemFormat::Json => Ok(Json(s.app.statement_items(&p, id, &filter, page).await?).into_response()),
        ItemFormat::Csv => {
            let all = s.app.all_statement_items(&p, id, &filter).await?;
            Ok(file("text/csv; charset=utf-8", format!("statement-{id}.csv"), items_csv(&all)?.into_bytes()))
        }
        ItemFormat::Xlsx => {
            let all = s.app.all_statement_items(&p, id, &filter).await?;
            Ok(file(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                format!("statement-{id}.xlsx"),
                items_xlsx(&all)?,
            ))
        }
    }
}

/// Resolves an item with a note (once; 409 `already_resolved` after).
#[utoipa::path(post, path = "/api/v1/reconciliation/items/{id}/resolve", tag = "reconciliation", params(("id" = i64, Path)),
    request_body = Resolve, security(("bearer" = [])),
    responses((status = 200, body = ItemView), (status = 409, body = ErrorBody)))]
async fn resolve(
    State(s): State<AppState>,
    Caller(p, actor): Caller,
    Id(id): Id,
    ApiJson(req): ApiJson<Resolve>,
) -> Result<Json<ItemView>, ApiError> {
    Ok(Json(s.app.resolve_item(&p, &actor, id, req).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_statements))
        .routes(routes!(get_statement))
        .routes(routes!(items))
        .routes(routes!(resolve))
}

/// The statement upload, which takes the statement body limit.
pub fn upload_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(import))
}
