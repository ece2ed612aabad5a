//! Village income and reports (API.md "Reports"): other operating income entries, village
//! revenue and ranking, household member accounts and station sales; every report also as
//! CSV or xlsx.

use super::ListParams;
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Caller, Id, Ids};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hezuo_app::Page;
use hezuo_app::reports::{
    FileFormat, IncomeEntry, MemberAccount, RecordIncome, StationSales, Table, VillageRanking, VillageRevenue,
};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

/// How a report comes back.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    #[default]
    Json,
    Csv,
    Xlsx,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearParams {
    /// 2000 to 2100; this year (business clock) when absent.
    #[param(value_type = Option<i32>, minimum = 2000, maximum = 2100, example = 2026)]
    pub year: Option<String>,
    /// `json` (default), `csv` (UTF-8 with BOM, Chinese headers) or `xlsx`.
    #[param(inline)]
    pub format: Option<ReportFormat>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeParams {
    /// First booking date, inclusive (default: 1 January of `to`'s year).
    #[param(value_type = Option<String>, format = Date, pattern = "^(?:20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}$", example = "2026-01-01")]
    pub from: Option<String>,
    /// Last booking date, inclusive (default: today); at most five years after `from`.
    #[param(value_type = Option<String>, format = Date, pattern = "^(?:20[0-9]{2}|2100)-[0-9]{2}-[0-9]{2}$", example = "2026-12-31")]
    pub to: Option<String>,
    /// `json` (default), `csv` (UTF-8 with BOM, Chinese headers) or `xlsx`.
    #[param(inline)]
    pub format: Option<ReportFormat>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncomeYear {
    /// Only the entries counting in this year (2000 to 2100); every entry when absent.
    #[param(value_type = Option<i32>, minimum = 2000, maximum = 2100, example = 2026)]
    pub year: Option<String>,
}

/// A report as JSON or as a file of its tables.
fn report<T: Serialize>(
    format: Option<ReportFormat>,
    name: String,
    value: T,
    tables: impl FnOnce(&T) -> Vec<Table>,
) -> Result<Response, ApiError> {
    let file = match format.unwrap_or_default() {
        ReportFormat::Json => return Ok(Json(value).into_response()),
        ReportFormat::Csv => FileFormat::Csv,
        ReportFormat::Xlsx => FileFormat::Xlsx,
    };
    let body = file.render(&tables(&value))?;
    Ok((
        [
            (header::CONTENT_TYPE, file.content_type().to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.{}\"", file.extension())),
        ],
        body,
    )
        .into_response())
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Records other operating income of a village (admin, or the village's own users).
///
/// `covers_from`/`covers_to` spread a payment for several months evenly over them.
#[utoipa::path(post, path = "/api/v1/villages/{id}/income", tag = "reports", params(("id" = i64, Path)),
    request_body = RecordIncome, security(("bearer" = [])),
    responses((status = 201, body = IncomeEntry)))]
async fn record_income(
    State(s): State<AppState>,
    Caller(p, actor): Caller,
    Id(id): Id,
    ApiJson(req): ApiJson<RecordIncome>,
) -> Result<(StatusCode, Json<IncomeEntry>), ApiError> {
    Ok((StatusCode::CREATED, Json(s.app.record_income(&p, &actor, id, req).await?)))
}

/// Lists a village's income entries and reversals (optionally those counting in a year).
#[utoipa::path(get, path = "/api/v1/villages/{id}/income", tag = "reports", params(("id" = i64, Path), IncomeYear, ListParams),
    security(("bearer" = [])), responses((status = 200, body = Page<IncomeEntry>)))]
async fn list_income(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<IncomeYear>,
    ApiQuery(page): ApiQuery<ListParams>,
) -> Result<Json<Page<IncomeEntry>>, ApiError> {
    Ok(Json(s.app.list_income(&p, id, q.year.as_deref(), page.page()?).await?))
}

/// Removes an income entry by booking its reversal (both stay listed); 409 if already removed.
#[utoipa::path(delete, path = "/api/v1/villages/{id}/income/{entry_id}", tag = "reports",
    params(("id" = i64, Path), ("entry_id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, description = "the reversal", body = IncomeEntry), (status = 409, body = ErrorBody)))]
async fn reverse_income(
    State(s): State<AppState>,
    Caller(p, actor): Caller,
    Ids(id, entry): Ids,
) -> Result<Json<IncomeEntry>, ApiError> {
    Ok(Json(s.app.reverse_income(&p, &actor, id, entry).await?))
}

/// A village collective's operating income by month against its target (村级集体经营性收入).
#[utoipa::path(get, path = "/api/v1/reports/villages/{id}/revenue", tag = "reports", params(("id" = i64, Path), YearParams),
    security(("bearer" = [])),
    responses((status = 200, description = "the revenue; with `?format=csv` or `xlsx` as a file",
        content((VillageRevenue = "application/json"), (String = "text/csv"), (crate::openapi::Binary = XLSX)))))]
async fn village_revenue(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<YearParams>,
) -> Result<Response, ApiError> {
    let r = s.app.village_revenue(&p, id, q.year.as_deref()).await?;
    report(q.format, format!("village-{id}-revenue-{}", r.year), r, VillageRevenue::tables)
}

/// Every village of the caller's scope ranked by the year's income, 薄弱村 flagged.
#[utoipa::path(get, path = "/api/v1/reports/villages", tag = "reports", params(YearParams), security(("bearer" = [])),
    responses((status = 200, description = "the ranking; with `?format=csv` or `xlsx` as a file",
        content((VillageRanking = "application/json"), (String = "text/csv"), (crate::openapi::Binary = XLSX)))))]
async fn village_ranking(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    ApiQuery(q): ApiQuery<YearParams>,
) -> Result<Response, ApiError> {
    let r = s.app.village_ranking(&p, q.year.as_deref()).await?;
    report(q.format, format!("villages-{}", r.year), r, VillageRanking::tables)
}

/// A household's member account (成员账户): every sale part, refund, rebate and dividend.
#[utoipa::path(get, path = "/api/v1/reports/households/{id}/statement", tag = "reports", params(("id" = i64, Path), RangeParams),
    security(("bearer" = [])),
    responses((status = 200, description = "the member account; with `?format=csv` or `xlsx` as a file",
        content((MemberAccount = "application/json"), (String = "text/csv"), (crate::openapi::Binary = XLSX)))))]
async fn member_account(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<RangeParams>,
) -> Result<Response, ApiError> {
    let r = s.app.member_account(&p, id, q.from.as_deref(), q.to.as_deref()).await?;
    report(q.format, format!("household-{id}-{}-{}", r.from, r.to), r, MemberAccount::tables)
}

/// A station's sales by product, channel and day (staff, alliance, admin).
#[utoipa::path(get, path = "/api/v1/reports/stations/{id}/sales", tag = "reports", params(("id" = i64, Path), RangeParams),
    security(("bearer" = [])),
    responses((status = 200, description = "the sales; with `?format=csv` or `xlsx` as a file",
        content((StationSales = "application/json"), (String = "text/csv"), (crate::openapi::Binary = XLSX)))))]
async fn station_sales(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<RangeParams>,
) -> Result<Response, ApiError> {
    let r = s.app.station_sales(&p, id, q.from.as_deref(), q.to.as_deref()).await?;
    report(q.format, format!("station-{id}-sales-{}-{}", r.from, r.to), r, StationSales::tables)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(record_income, list_income))
        .routes(routes!(reverse_income))
        .routes(routes!(village_revenue))
        .routes(routes!(village_ranking))
        .routes(routes!(member_account))
        .routes(routes!(station_sales))
}
