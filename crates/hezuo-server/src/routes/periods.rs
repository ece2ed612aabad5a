//! Period close and ledger export (API.md "Ledger and periods").

use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiQuery, Caller, Id, id};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use hezuo_app::export::Format;
use hezuo_app::periods::{CloseView, ClosedPeriod};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

/// Previews a period's close as things stand (nothing booked), or shows the booked close.
#[utoipa::path(get, path = "/api/v1/cooperatives/{id}/periods/{period}/close", tag = "periods",
    params(("id" = i64, Path), ("period" = String, Path, description = "A month, YYYY-MM (years 2000 to 2999)", pattern = "^2[0-9]{3}-(0[1-9]|1[0-2])$", example = "2026-06")), security(("bearer" = [])),
    responses((status = 200, body = CloseView)))]
async fn preview(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Path((coop, period)): Path<(String, String)>,
) -> Result<Json<CloseView>, ApiError> {
    Ok(Json(s.app.preview_close(&p, id(&coop)?, &period).await?))
}

/// Closes a period: reserve, rebates and dividends booked in one transaction.
///
/// Closing a closed period returns the same result; 409 `previous_period_open`; 422
/// `period_not_ended`.
#[utoipa::path(post, path = "/api/v1/cooperatives/{id}/periods/{period}/close", tag = "periods",
    params(("id" = i64, Path), ("period" = String, Path, description = "A month, YYYY-MM (years 2000 to 2999)", pattern = "^2[0-9]{3}-(0[1-9]|1[0-2])$", example = "2026-06")), security(("bearer" = [])),
    responses((status = 200, body = CloseView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn close(
    State(s): State<AppState>,
    Caller(p, actor): Caller,
    Path((coop, period)): Path<(String, String)>,
) -> Result<Json<CloseView>, ApiError> {
    Ok(Json(s.app.close_period(&p, &actor, id(&coop)?, &period).await?))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ClosedPeriods {
    pub items: Vec<ClosedPeriod>,
}

/// The cooperative's closed periods, latest first.
#[utoipa::path(get, path = "/api/v1/cooperatives/{id}/periods", tag = "periods", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 200, body = ClosedPeriods)))]
async fn list(State(s): State<AppState>, Caller(p, _): Caller, Id(id): Id) -> Result<Json<ClosedPeriods>, ApiError> {
    Ok(Json(ClosedPeriods { items: s.app.closed_periods(&p, id).await? }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// The journal's dialect (422 `invalid_field` for any other).
    #[param(inline, value_type = JournalFormat)]
    pub format: String,
}

/// The plain-text accounting tools a journal is written for.
// For the document only: the use case reads the text and names a wrong value with 422.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum JournalFormat {
    Beancount,
    Hledger,
}

/// The whole ledger in the caller's scope as a beancount or hledger journal.
#[utoipa::path(get, path = "/api/v1/ledger/export", tag = "ledger", params(ExportParams), security(("bearer" = [])),
    responses((status = 200, content_type = "text/plain", body = String)))]
async fn export(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    ApiQuery(q): ApiQuery<ExportParams>,
) -> Result<Response, ApiError> {
    let format = Format::parse(&q.format)?;
    let mut body = Vec::new();
    s.app.export_ledger(&p, format, &mut body).await?;
    let name = match format {
        Format::Beancount => "hezuo.beancount",
        Format::Hledger => "hezuo.journal",
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body,
    )
        .into_response())
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(preview, close)).routes(routes!(list)).routes(routes!(export))
}
