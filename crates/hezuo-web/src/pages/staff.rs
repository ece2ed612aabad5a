//! Station staff: products with stock, new and edited products, receiving lots.

use super::{Errors, Layout, State, failure, ok, parse, render};
use crate::session::Session;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hezuo_app::catalog::{CreateLot, CreateProduct, Lot, Product, ProductFilter, UpdateProduct};
use hezuo_app::{AppError, PageRequest, Principal};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};

/// The status of a product in Chinese.
pub fn status_label(s: &str) -> &'static str {
    match s {
        "listed" => "已上架",
        "delisted" => "已下架",
        _ => "草稿",
    }
}

pub const STATUSES: [(&str, &str); 3] = [("draft", "草稿"), ("listed", "已上架"), ("delisted", "已下架")];

/// Every item of a paged list, page after page, up to `max` items.
pub async fn all_pages<T, F, Fut>(max: usize, mut fetch: F) -> Result<Vec<T>, AppError>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<hezuo_app::Page<T>, AppError>>,
{
    let mut items = Vec::new();
    let mut after = None;
    loop {
        let page = fetch(PageRequest { limit: PageRequest::MAX_LIMIT, after }).await?;
        items.extend(page.items);
        match page.next_cursor.and_then(|c| c.parse::<i64>().ok()) {
            Some(c) if items.len() < max => after = Some(c),
            _ => return Ok(items),
        }
    }
}

pub struct ProductRow {
    pub p: Product,
    pub low: bool,
    pub status: &'static str,
}

#[derive(Template)]
#[template(path = "staff/products.html")]
struct ProductsPage {
    l: Layout,
    station_id: i64,
    station: String,
    rows: Vec<ProductRow>,
    low_count: usize,
    q: String,
    status: String,
    statuses: [(&'static str, &'static str); 3],
}

#[derive(Deserialize, Default)]
pub struct ProductQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
}

/// `GET /stations/{id}/products`: products with stock; those below their threshold marked.
pub async fn products(
    axum::extract::State(c): State,
    session: Session,
    Path(station_id): Path<i64>,
    Query(q): Query<ProductQuery>,
) -> Response {
    let p = &session.principal;
    let station = match c.app.get_station(p, station_id).await {
        Ok(s) => s,
        Err(e) => return failure(&e, Some(&session)),
    };
    let filter = ProductFilter { status: hezuo_catalog::ProductStatus::parse(&q.status), q: super::optional(&q.q) };
    let products = all_pages(5_000, |page| c.app.list_products(p, station_id, &filter, page)).await;
    let low = c.app.low_stock(p, station_id).await;
    let (products, low) = match (products, low) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => return failure(&e, Some(&session)),
    };
    let low: HashSet<i64> = low.iter().map(|p| p.id).collect();
    let rows: Vec<ProductRow> = products
        .into_iter()
        .map(|p| ProductRow { low: low.contains(&p.id), status: status_label(p.status.as_str()), p })
        .collect();
    let low_count = rows.iter().filter(|r| r.low).count();
    ok(&ProductsPage {
        l: session.layout("商品与库存"),
        station_id,
        station: station.name,
        rows,
        low_count,
        q: q.q,
        status: q.status,
        statuses: STATUSES,
    })
}

/// The product form's fields as typed.
#[derive(Deserialize, Default, Clone)]
pub struct ProductForm {
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub sku: String,
    #[serde(default)]
    pub price: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub low_stock_threshold: String,
    #[serde(default)]
    pub description: String,
}

const PRODUCT_FIELDS: &[&str] =
    &["name", "unit", "sku", "price", "status", "category", "low_stock_threshold", "description"];

impl ProductForm {
    fn of(p: &Product) -> ProductForm {
        ProductForm {
            csrf: String::new(),
            name: p.name.clone(),
            unit: p.unit.clone(),
            sku: p.sku.clone().unwrap_or_default(),
            price: p.price.to_string(),
            status: p.status.as_str().to_owned(),
            category: p.category.clone().unwrap_or_default(),
            low_stock_threshold: p.low_stock_threshold.map(|t| t.to_string()).unwrap_or_default(),
            description: p.description.clone().unwrap_or_default(),
        }
    }

    fn fields(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("name", &self.name),
            ("unit", &self.unit),
            ("sku", &self.sku),
            ("price", &self.price),
            ("status", &self.status),
            ("category", &self.category),
            ("low_stock_threshold", &self.low_stock_threshold),
            ("description", &self.description),
        ]
    }
}

#[derive(Template)]
#[template(path = "staff/product_form.html")]
struct ProductFormPage {
    l: Layout,
    action: String,
    back: String,
    f: ProductForm,
    errors: Errors,
    statuses: [(&'static str, &'static str); 3],
    product: Option<Product>,
    lots: Vec<Lot>,
    households: HashMap<i64, String>,
    /// The lot just received (收货), whose label the page offers to print.
    received: Option<i64>,
}

impl ProductFormPage {
    fn household(&self, id: &i64) -> String {
        self.households.get(id).cloned().unwrap_or_else(|| format!("农户 {id}"))
    }
}

/// `GET /stations/{id}/products/new`.
pub async fn new_product(axum::extract::State(c): State, session: Session, Path(station_id): Path<i64>) -> Response {
    if let Err(e) = c.app.get_station(&session.principal, station_id).await {
        return failure(&e, Some(&session));
    }
    let f = ProductForm { status: "listed".into(), ..Default::default() };
    product_form(&session, station_id, None, f, Errors::default(), StatusCode::OK, Vec::new(), HashMap::new(), None)
}

#[allow(clippy::too_many_arguments)]
fn product_form(
    session: &Session,
    station_id: i64,
    product: Option<Product>,
    f: ProductForm,
    errors: Errors,
    status: StatusCode,
    lots: Vec<Lot>,
    households: HashMap<i64, String>,
    received: Option<i64>,
) -> Response {
    let (title, action) = match &product {
        Some(p) => (format!("商品：{}", p.name), format!("/products/{}", p.id)),
        None => ("新增商品".to_owned(), format!("/stations/{station_id}/products/new")),
    };
    render(
        status,
        &ProductFormPage {
            l: session.layout(title),
            action,
            back: format!("/stations/{station_id}/products"),
            f,
            errors: errors.within(PRODUCT_FIELDS),
            statuses: STATUSES,
            product,
            lots,
            households,
            received,
        },
    )
}

/// `POST /stations/{id}/products/new`: `App::create_product`.
pub async fn create_product(
    axum::extract::State(c): State,
    session: Session,
    Path(station_id): Path<i64>,
    Form(f): Form<ProductForm>,
) -> Response {
    if let Err(r) = session.check(&f.csrf) {
        return r;
    }
    let created = match parse::<CreateProduct>(&f.fields()) {
        Ok(req) => c.app.create_product(&session.principal, station_id, req).await.map_err(|e| Errors::from_app(&e)),
        Err(e) => Err(e),
    };
    match created {
        Ok(p) => Redirect::to(&format!("/products/{}?saved=1", p.id)).into_response(),
        Err(errors) => product_form(
            &session,
            station_id,
            None,
            f,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
            Vec::new(),
            HashMap::new(),
            None,
        ),
    }
}

/// Names of the households a station may receive from: the members of its cooperative.
async fn member_households(c: &crate::Console, p: &Principal, station_id: i64) -> Result<Vec<(i64, String)>, AppError> {
    let station = c.app.get_station(p, station_id).await?;
    let members = all_pages(5_000, |page| c.app.list_members(p, station.cooperative_id, page)).await?;
    let ids: HashSet<i64> = members.iter().filter_map(|m| m.household_id).collect();
    let mut names = Vec::with_capacity(ids.len());
    for h in all_pages(20_000, |page| c.app.list_households(p, None, page)).await? {
        if ids.contains(&h.id) {
            names.push((h.id, h.name));
        }
    }
    Ok(names)
}

#[derive(Deserialize, Default)]
pub struct ProductPageQuery {
    #[serde(default)]
    received: String,
}

/// `GET /products/{id}`: the product's form and its lots; `?received=` names the lot just
/// received, whose label the page offers to print.
pub async fn product(
    axum::extract::State(c): State,
    session: Session,
    Path(id): Path<i64>,
    Query(q): Query<ProductPageQuery>,
) -> Response {
    let p = &session.principal;
    let product = match c.app.get_product(p, id).await {
        Ok(x) => x,
        Err(e) => return failure(&e, Some(&session)),
    };
    let received = q.received.trim().parse().ok();
    show_product(&c, &session, product, None, Errors::default(), StatusCode::OK, received).await
}

async fn show_product(
    c: &crate::Console,
    session: &Session,
    product: Product,
    form: Option<ProductForm>,
    errors: Errors,
    status: StatusCode,
    received: Option<i64>,
) -> Response {
    let p = &session.principal;
    let lots = match all_pages(5_000, |page| c.app.list_product_lots(p, product.id, page)).await {
        Ok(l) => l,
        Err(e) => return failure(&e, Some(session)),
    };
    let households = member_households(c, p, product.station_id).await.unwrap_or_default().into_iter().collect();
    let f = form.unwrap_or_else(|| ProductForm::of(&product));
    let received = received.filter(|id| lots.iter().any(|l| l.id == *id));
    product_form(session, product.station_id, Some(product), f, errors, status, lots, households, received)
}

/// `POST /products/{id}`: `App::update_product` with every field of the form.
pub async fn update_product(
    axum::extract::State(c): State,
    session: Session,
    Path(id): Path<i64>,
    Form(f): Form<ProductForm>,
) -> Response {
    if let Err(r) = session.check(&f.csrf) {
        return r;
    }
    let p = &session.principal;
    let product = match c.app.get_product(p, id).await {
        Ok(x) => x,
        Err(e) => return failure(&e, Some(&session)),
    };
    // Cleared optional fields are sent as empty, as the API takes them.
    let mut fields = f.fields();
    fields.retain(|(k, v)| !v.trim().is_empty() || !matches!(*k, "category" | "description" | "low_stock_threshold"));
    let updated = match parse::<UpdateProduct>(&fields) {
        Ok(req) => c.app.update_product(p, id, req).await.map_err(|e| Errors::from_app(&e)),
        Err(e) => Err(e),
    };
    match updated {
        Ok(_) => Redirect::to(&format!("/products/{id}?saved=1")).into_response(),
        Err(errors) => {
            show_product(&c, &session, product, Some(f), errors, StatusCode::UNPROCESSABLE_ENTITY, None).await
        }
    }
}

#[derive(Deserialize, Default)]
pub struct LotForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    household_id: String,
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    floor_price: String,
}

const LOT_FIELDS: &[&str] = &["household_id", "quantity", "floor_price"];

#[derive(Template)]
#[template(path = "staff/receive.html")]
struct ReceivePage {
    l: Layout,
    product: Product,
    households: Vec<(i64, String)>,
    household_id: String,
    quantity: String,
    floor_price: String,
    errors: Errors,
}

async fn receive_page(
    c: &crate::Console,
    session: &Session,
    product: Product,
    f: LotForm,
    errors: Errors,
    status: StatusCode,
) -> Response {
    let households = match member_households(c, &session.principal, product.station_id).await {
        Ok(h) => h,
        Err(e) => return failure(&e, Some(session)),
    };
    render(
        status,
        &ReceivePage {
            l: session.layout(format!("收货：{}", product.name)),
            product,
            households,
            household_id: f.household_id,
            quantity: f.quantity,
            floor_price: f.floor_price,
            errors: errors.within(LOT_FIELDS),
        },
    )
}

/// `GET /products/{id}/lots/new`: receive a lot from a member household (收货).
pub async fn receive_form(axum::extract::State(c): State, session: Session, Path(id): Path<i64>) -> Response {
    match c.app.get_product(&session.principal, id).await {
        Ok(product) => receive_page(&c, &session, product, LotForm::default(), Errors::default(), StatusCode::OK).await,
        Err(e) => failure(&e, Some(&session)),
    }
}

/// `POST /products/{id}/lots/new`: `App::create_lot`.
pub async fn receive(
    axum::extract::State(c): State,
    session: Session,
    Path(id): Path<i64>,
    Form(f): Form<LotForm>,
) -> Response {
    if let Err(r) = session.check(&f.csrf) {
        return r;
    }
    let product = match c.app.get_product(&session.principal, id).await {
        Ok(x) => x,
        Err(e) => return failure(&e, Some(&session)),
    };
    let household: serde_json::Value = match f.household_id.trim().parse::<i64>() {
        Ok(h) => h.into(),
        Err(_) => f.household_id.trim().into(),
    };
    let mut body = serde_json::json!({"quantity": f.quantity.trim(), "floor_price": f.floor_price.trim()});
    if !f.household_id.trim().is_empty() {
        body["household_id"] = household;
    }
    let created = match super::parse_value::<CreateLot>(body) {
        Ok(req) => {
            c.app.create_lot(&session.principal, &session.actor, id, req).await.map_err(|e| Errors::from_app(&e))
        }
        Err(e) => Err(e),
    };
    match created {
        Ok(lot) => Redirect::to(&format!("/products/{id}?received={}", lot.id)).into_response(),
        Err(errors) => receive_page(&c, &session, product, f, errors, StatusCode::UNPROCESSABLE_ENTITY).await,
    }
}
