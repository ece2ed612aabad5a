//! Catalog and stock endpoints (API.md "Catalog and stock"): products, lots, adjustments,
//! traceability, CSV import and export, low stock.

use super::{ListParams, check_search};
use crate::AppState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Caller, CsvBody, Id};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hezuo_app::Page;
use hezuo_app::catalog::*;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

type Created<T> = Result<(StatusCode, Json<T>), ApiError>;
type Found<T> = Result<Json<T>, ApiError>;

/// `?format=`: `json` (default) or `csv` (every row, no paging).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Format {
    /// `json` (a page) when absent.
    #[param(inline)]
    pub format: Option<ListFormat>,
}

/// A list as a page of JSON or as a CSV file of every row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ListFormat {
    Json,
    Csv,
}

impl Format {
    fn csv(&self) -> bool {
        self.format == Some(ListFormat::Csv)
    }
}

fn csv_response(name: &str, body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body,
    )
        .into_response()
}

/// A list of items without paging.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

/// Adds a product to a station.
#[utoipa::path(post, path = "/api/v1/stations/{id}/products", tag = "catalog", params(("id" = i64, Path)),
    request_body = CreateProduct, security(("bearer" = [])),
    responses((status = 201, body = Product)))]
async fn create_product(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiJson(req): ApiJson<CreateProduct>,
) -> Created<Product> {
    Ok((StatusCode::CREATED, Json(s.app.create_product(&p, id, req).await?)))
}

/// The station's products with their stock; `?format=csv` exports them all.
#[utoipa::path(get, path = "/api/v1/stations/{id}/products", tag = "catalog",
    params(("id" = i64, Path), ProductFilter, ListParams, Format), security(("bearer" = [])),
    responses((status = 200, description = "a page of products; with `?format=csv`, every match as a CSV file",
        content((Page<Product> = "application/json"), (String = "text/csv")))))]
async fn list_products(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiQuery(filter): ApiQuery<ProductFilter>,
    ApiQuery(list): ApiQuery<ListParams>,
    ApiQuery(format): ApiQuery<Format>,
) -> Result<Response, ApiError> {
    check_search(filter.q.as_deref())?;
    let page = list.page()?;
    if format.csv() {
        return Ok(csv_response("products.csv", s.app.export_products_csv(&p, id, &filter).await?));
    }
    Ok(Json(s.app.list_products(&p, id, &filter, page).await?).into_response())
}

/// Shows a product with its stock.
#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "catalog", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Product)))]
async fn get_product(State(s): State<AppState>, Caller(p, _): Caller, Id(id): Id) -> Found<Product> {
    Ok(Json(s.app.get_product(&p, id).await?))
}

/// Changes a product.
#[utoipa::path(patch, path = "/api/v1/products/{id}", tag = "catalog", params(("id" = i64, Path)), request_body = UpdateProduct,
    security(("bearer" = [])), responses((status = 200, body = Product)))]
async fn update_product(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiJson(req): ApiJson<UpdateProduct>,
) -> Found<Product> {
    Ok(Json(s.app.update_product(&p, id, req).await?))
}

/// Receives produce from a member household into a new lot.
#[utoipa::path(post, path = "/api/v1/products/{id}/lots", tag = "catalog", params(("id" = i64, Path)), request_body = CreateLot,
    security(("bearer" = [])), responses((status = 201, body = Lot)))]
async fn create_lot(
    State(s): State<AppState>,
    Caller(p, actor): Caller,
    Id(id): Id,
    ApiJson(req): ApiJson<CreateLot>,
) -> Created<Lot> {
    Ok((StatusCode::CREATED, Json(s.app.create_lot(&p, &actor, id, req).await?)))
}

/// The product's lots, oldest first (the order sales draw them in).
#[utoipa::path(get, path = "/api/v1/products/{id}/lots", tag = "catalog", params(("id" = i64, Path), ListParams),
    security(("bearer" = [])), responses((status = 200, body = Page<Lot>)))]
async fn list_product_lots(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiQuery(q): ApiQuery<ListParams>,
) -> Found<Page<Lot>> {
    Ok(Json(s.app.list_product_lots(&p, id, q.page()?).await?))
}

/// Traceability (溯源): the lot, its household and village, movements and order lines.
#[utoipa::path(get, path = "/api/v1/lots/{id}", tag = "catalog", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = LotTrace)))]
async fn trace_lot(State(s): State<AppState>, Caller(p, _): Caller, Id(id): Id) -> Found<LotTrace> {
    Ok(Json(s.app.trace_lot(&p, id).await?))
}

/// The public trace of a produce label (`/t/{code}` as JSON): no login. The product, the
/// station that issued the label, the township and village of origin, the day received and
/// the cooperative — never the household. Cached for five minutes.
#[utoipa::path(get, path = "/api/v1/trace/{code}", tag = "catalog",
    params(("code" = inline(hezuo_app::openapi::TraceCode), Path, description = "The code printed on the label")),
    responses((status = 200, body = PublicTrace), (status = 404, body = ErrorBody)))]
async fn public_trace(State(s): State<AppState>, axum::extract::Path(code): axum::extract::Path<String>) -> Response {
    match s.app.public_trace(&code).await {
        Ok(t) => ([(header::CACHE_CONTROL, "public, max-age=300")], Json(t)).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Spoilage, loss or a count correction; 422 `insufficient_stock` if the lot would go below 0.
#[utoipa::path(post, path = "/api/v1/lots/{id}/adjustments", tag = "catalog", params(("id" = i64, Path)),
    request_body = CreateAdjustment, security(("bearer" = [])),
    responses((status = 201, body = Adjustment)))]
async fn adjust_lot(
    State(s): State<AppState>,
    Caller(p, actor): Caller,
    Id(id): Id,
    ApiJson(req): ApiJson<CreateAdjustment>,
) -> Created<Adjustment> {
    Ok((StatusCode::CREATED, Json(s.app.adjust_lot(&p, &actor, id, req).await?)))
}

/// Every lot of the station; `?format=csv` exports them all.
#[utoipa::path(get, path = "/api/v1/stations/{id}/lots", tag = "catalog", params(("id" = i64, Path), ListParams, Format),
    security(("bearer" = [])),
    responses((status = 200, description = "a page of lots; with `?format=csv`, every lot as a CSV file",
        content((Page<Lot> = "application/json"), (String = "text/csv")))))]
async fn list_station_lots(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    ApiQuery(list): ApiQuery<ListParams>,
    ApiQuery(format): ApiQuery<Format>,
) -> Result<Response, ApiError> {
    let page = list.page()?;
    if format.csv() {
        return Ok(csv_response("lots.csv", s.app.export_lots_csv(&p, id).await?));
    }
    Ok(Json(s.app.list_station_lots(&p, id, page).await?).into_response())
}

/// Listed products whose stock is below their threshold.
#[utoipa::path(get, path = "/api/v1/stations/{id}/low-stock", tag = "catalog", params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = Items<Product>)))]
async fn low_stock(State(s): State<AppState>, Caller(p, _): Caller, Id(id): Id) -> Found<Items<Product>> {
    Ok(Json(Items { items: s.app.low_stock(&p, id).await? }))
}

/// CSV import of products, all or nothing (UTF-8 with or without BOM, or GBK).
#[utoipa::path(post, path = "/api/v1/stations/{id}/products:import", tag = "catalog", params(("id" = i64, Path)),
    request_body(content = String, content_type = "text/csv"), security(("bearer" = [])),
    responses((status = 201, body = ImportResult), (status = 422, description = "every bad row, nothing imported", body = ErrorBody)))]
async fn import_products(
    State(s): State<AppState>,
    Caller(p, _): Caller,
    Id(id): Id,
    CsvBody(body): CsvBody,
) -> Created<ImportResult> {
    Ok((StatusCode::CREATED, Json(s.app.import_products(&p, id, &body).await?)))
}

/// CSV import of lots from member households, all or nothing.
#[utoipa::path(post, path = "/api/v1/stations/{id}/lots:import", tag = "catalog", params(("id" = i64, Path)),
    request_body(content = String, content_type = "text/csv"), security(("bearer" = [])),
    responses((status = 201, body = ImportResult), (status = 422, description = "every bad row, nothing imported", body = ErrorBody)))]
async fn import_lots(
    State(s): State<AppState>,
    Caller(p, actor): Caller,
    Id(id): Id,
    CsvBody(body): CsvBody,
) -> Created<ImportResult> {
    Ok((StatusCode::CREATED, Json(s.app.import_lots(&p, &actor, id, &body).await?)))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_product, list_products))
        .routes(routes!(get_product, update_product))
        .routes(routes!(create_lot, list_product_lots))
        .routes(routes!(trace_lot))
        .routes(routes!(public_trace))
        .routes(routes!(adjust_lot))
        .routes(routes!(list_station_lots))
        .routes(routes!(low_stock))
}

/// The import routes, which take larger bodies than JSON.
pub fn import_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(import_products)).routes(routes!(import_lots))
}
