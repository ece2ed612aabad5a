use super::{readable_station, to_csv, writable_station};
use crate::page::fetch_page;
use crate::{App, AppError, Page, PageRequest, Principal, now, scope};
use chrono::{DateTime, Utc};
use hezuo_catalog::{self as catalog, ProductStatus};
use hezuo_core::{Money, Quantity};
use hezuo_db::entities::{lot, product};
use hezuo_db::sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use hezuo_db::sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, QuerySelect,
    Set,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProduct {
    /// e.g. 阳山水蜜桃; searchable by any part.
    #[schema(value_type = crate::openapi::ProductName)]
    pub name: String,
    /// kg, 斤, box, piece, or any unit the station names.
    #[schema(value_type = crate::openapi::Unit)]
    pub unit: String,
    /// The merchant code (商家编码) the station's platform shops use; unique per station.
    #[schema(value_type = Option<crate::openapi::Sku>)]
    pub sku: Option<String>,
    /// List price per unit, more than 0.
    #[schema(value_type = crate::openapi::PriceInput)]
    pub price: Money,
    /// Defaults to `draft`.
    pub status: Option<ProductStatus>,
    #[schema(value_type = Option<crate::openapi::Category>)]
    pub category: Option<String>,
    #[schema(value_type = Option<crate::openapi::Description>)]
    pub description: Option<String>,
    #[schema(value_type = Option<Vec<crate::openapi::ImageUrl>>, max_items = 10)]
    pub image_urls: Option<Vec<String>>,
    /// `low-stock` lists the product while listed and below this.
    #[schema(value_type = Option<crate::openapi::ThresholdInput>)]
    pub low_stock_threshold: Option<Quantity>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProduct {
    #[schema(value_type = Option<crate::openapi::ProductName>)]
    pub name: Option<String>,
    #[schema(value_type = Option<crate::openapi::Unit>)]
    pub unit: Option<String>,
    /// Blank removes the merchant code.
    #[schema(value_type = Option<crate::openapi::Sku>)]
    pub sku: Option<String>,
    #[schema(value_type = Option<crate::openapi::PriceInput>)]
    pub price: Option<Money>,
    pub status: Option<ProductStatus>,
    #[schema(value_type = Option<crate::openapi::Category>)]
    pub category: Option<String>,
    #[schema(value_type = Option<crate::openapi::Description>)]
    pub description: Option<String>,
    #[schema(value_type = Option<Vec<crate::openapi::ImageUrl>>, max_items = 10)]
    pub image_urls: Option<Vec<String>>,
    #[schema(value_type = Option<crate::openapi::ThresholdInput>)]
    pub low_stock_threshold: Option<Quantity>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Product {
    pub id: i64,
    pub station_id: i64,
    pub name: String,
    pub unit: String,
    pub sku: Option<String>,
    pub price: Money,
    pub status: ProductStatus,
    pub category: Option<String>,
    pub description: Option<String>,
    pub image_urls: Vec<String>,
    pub low_stock_threshold: Option<Quantity>,
    /// Σ remaining of the product's lots.
    pub stock: Quantity,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One row of the products CSV export.
#[derive(Debug, Serialize)]
struct ProductCsv<'a> {
    id: i64,
    name: &'a str,
    unit: &'a str,
    sku: &'a str,
    price: Money,
    status: &'a str,
    category: &'a str,
    stock: Quantity,
    low_stock_threshold: String,
    description: &'a str,
    image_urls: String,
}

/// Filters of the product list.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductFilter {
    /// `draft`, `listed` or `delisted`.
    pub status: Option<ProductStatus>,
    /// Any part of the name.
    #[param(max_length = 100, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$", example = "水蜜桃")]
    pub q: Option<String>,
}

pub(crate) fn product_view(m: product::Model, stock: i64) -> Result<Product, AppError> {
    Ok(Product {
        id: m.id,
        station_id: m.station_id,
        status: ProductStatus::parse(&m.status)
            .ok_or_else(|| AppError::Internal(format!("product {} status {}", m.id, m.status)))?,
        image_urls: serde_json::from_str(&m.image_urls)
            .map_err(|e| AppError::Internal(format!("product {} images: {e}", m.id)))?,
        name: m.name,
        unit: m.unit,
        sku: m.sku,
        price: Money::from_cents(m.price),
        category: m.category,
        description: m.description,
        low_stock_threshold: m.low_stock_threshold.map(Quantity::from_thousandths),
        stock: Quantity::from_thousandths(stock),
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

/// Current stock (Σ remaining of lots) of each product; products without lots are absent.
pub(crate) async fn stocks(db: &impl ConnectionTrait, product_ids: &[i64]) -> Result<HashMap<i64, i64>, AppError> {
    if product_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut stock = HashMap::with_capacity(product_ids.len());
    // A bounded list per query: SQLite takes at most 32,766 bound values, PostgreSQL 65,535.
    for ids in product_ids.chunks(ID_LIST_MAX) {
        let rows: Vec<(i64, i64)> = lot::Entity::find()
            .select_only()
            .column(lot::Column::ProductId)
            // SUM of BIGINT is NUMERIC on PostgreSQL; cast back.
            .column_as(Expr::cust("CAST(SUM(remaining) AS BIGINT)"), "stock")
            .filter(lot::Column::ProductId.is_in(ids.iter().copied()))
            .group_by(lot::Column::ProductId)
            .into_tuple()
            .all(db)
            .await?;
        stock.extend(rows);
    }
    Ok(stock)
}

async fn with_stock(db: &impl ConnectionTrait, models: Vec<product::Model>) -> Result<Vec<Product>, AppError> {
    let ids: Vec<i64> = models.iter().map(|m| m.id).collect();
    let stock = stocks(db, &ids).await?;
    models
        .into_iter()
        .map(|m| {
            let s = stock.get(&m.id).copied().unwrap_or(0);
            product_view(m, s)
        })
        .collect()
}

/// Ids bound in one `IN (…)` list.
pub(crate) const ID_LIST_MAX: usize = 1_000;

fn images_json(urls: &[String]) -> Result<String, AppError> {
    serde_json::to_string(urls).map_err(|e| AppError::Internal(e.to_string()))
}

/// `name LIKE %q%` with the pattern's own wildcards escaped.
fn name_contains(q: &str) -> Condition {
    let escaped = q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    Condition::all().add(Expr::col("name").like(LikeExpr::new(format!("%{escaped}%")).escape('\\')))
}

impl App {
    pub async fn create_product(
        &self,
        p: &Principal,
        station_id: i64,
        req: CreateProduct,
    ) -> Result<Product, AppError> {
        writable_station(&self.db, p, station_id).await?;
        let images = catalog::image_urls(&req.image_urls.unwrap_or_default())?;
        let t = now();
        let m = product::ActiveModel {
            station_id: Set(station_id),
            name: Set(catalog::name(&req.name)?),
            unit: Set(catalog::unit(&req.unit)?),
            sku: Set(catalog::sku(req.sku.as_deref())?),
            price: Set(catalog::price(req.price)?.cents()),
            status: Set(req.status.unwrap_or(ProductStatus::Draft).as_str().to_owned()),
            category: Set(catalog::optional_text("category", req.category.as_deref(), catalog::MAX_CATEGORY_CHARS)?),
            description: Set(catalog::optional_text(
                "description",
                req.description.as_deref(),
                catalog::MAX_DESCRIPTION_CHARS,
            )?),
            image_urls: Set(images_json(&images)?),
            low_stock_threshold: Set(req
                .low_stock_threshold
                .map(catalog::low_stock_threshold)
                .transpose()?
                .map(Quantity::thousandths)),
            created_at: Set(t),
            updated_at: Set(t),
            ..Default::default()
        }
        .insert(&*self.writer().await)
        .await?;
        product_view(m, 0)
    }

    pub async fn get_product(&self, p: &Principal, id: i64) -> Result<Product, AppError> {
        let m = product::Entity::find_by_id(id)
            .filter(scope::station_rows(p)?)
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound("product"))?;
        let stock = stocks(&self.db, &[id]).await?.get(&id).copied().unwrap_or(0);
        product_view(m, stock)
    }

    pub async fn update_product(&self, p: &Principal, id: i64, req: UpdateProduct) -> Result<Product, AppError> {
        let m = product::Entity::find_by_id(id)
            .filter(scope::station_rows_writable(p)?)
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound("product"))?;
        let mut am = m.into_active_model();
        use crate::setup::set_if;
        set_if(&mut am.name, req.name.map(|v| catalog::name(&v)).transpose()?);
        set_if(&mut am.unit, req.unit.map(|v| catalog::unit(&v)).transpose()?);
        if let Some(s) = req.sku {
            am.sku = Set(catalog::sku(Some(&s))?);
        }
        set_if(&mut am.price, req.price.map(catalog::price).transpose()?.map(Money::cents));
        set_if(&mut am.status, req.status.map(|s| s.as_str().to_owned()));
        if let Some(c) = req.category {
            am.category = Set(catalog::optional_text("category", Some(&c), catalog::MAX_CATEGORY_CHARS)?);
        }
        if let Some(d) = req.description {
            am.description = Set(catalog::optional_text("description", Some(&d), catalog::MAX_DESCRIPTION_CHARS)?);
        }
        if let Some(urls) = req.image_urls {
            am.image_urls = Set(images_json(&catalog::image_urls(&urls)?)?);
        }
        if let Some(t) = req.low_stock_threshold {
            am.low_stock_threshold = Set(Some(catalog::low_stock_threshold(t)?.thousandths()));
        }
        if am.is_changed() {
            am.updated_at = Set(now());
        }
        let saved = crate::setup::save(am, &*self.writer().await).await?;
        let stock = stocks(&self.db, &[id]).await?.get(&id).copied().unwrap_or(0);
        product_view(saved, stock)
    }

    fn product_query(station_id: i64, filter: &ProductFilter) -> hezuo_db::sea_orm::Select<product::Entity> {
        let mut q = product::Entity::find().filter(product::Column::StationId.eq(station_id));
        if let Some(s) = filter.status {
            q = q.filter(product::Column::Status.eq(s.as_str()));
        }
        if let Some(text) = filter.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            q = q.filter(name_contains(text));
        }
        q
    }

    pub async fn list_products(
        &self,
        p: &Principal,
        station_id: i64,
        filter: &ProductFilter,
        page: PageRequest,
    ) -> Result<Page<Product>, AppError> {
        readable_station(self.reader(), p, station_id).await?;
        let page =
            fetch_page(self.reader(), Self::product_query(station_id, filter), Condition::all(), page, |m| m.id, |m| m)
                .await?;
        Ok(Page { items: with_stock(self.reader(), page.items).await?, next_cursor: page.next_cursor })
    }

    /// Every product of the station matching the filter, with stock, as CSV.
    pub async fn export_products_csv(
        &self,
        p: &Principal,
        station_id: i64,
        filter: &ProductFilter,
    ) -> Result<String, AppError> {
        readable_station(self.reader(), p, station_id).await?;
        let models = Self::product_query(station_id, filter).all(self.reader()).await?;
        let products = with_stock(self.reader(), models).await?;
        to_csv(products.iter().map(|p| ProductCsv {
            id: p.id,
            name: &p.name,
            unit: &p.unit,
            sku: p.sku.as_deref().unwrap_or(""),
            price: p.price,
            status: p.status.as_str(),
            category: p.category.as_deref().unwrap_or(""),
            stock: p.stock,
            low_stock_threshold: p.low_stock_threshold.map(|t| t.to_string()).unwrap_or_default(),
            description: p.description.as_deref().unwrap_or(""),
            image_urls: p.image_urls.join("|"),
        }))
    }

    /// Listed products of the station whose stock is below their threshold.
    pub async fn low_stock(&self, p: &Principal, station_id: i64) -> Result<Vec<Product>, AppError> {
        readable_station(&self.db, p, station_id).await?;
        let models = product::Entity::find()
            .filter(product::Column::StationId.eq(station_id))
            .filter(product::Column::Status.eq(ProductStatus::Listed.as_str()))
            .filter(product::Column::LowStockThreshold.is_not_null())
            .filter(Expr::cust(
                "low_stock_threshold > COALESCE((SELECT SUM(l.remaining) FROM lots l WHERE l.product_id = products.id), 0)",
            ))
            .all(&self.db)
            .await?;
        with_stock(&self.db, models).await
    }
}
