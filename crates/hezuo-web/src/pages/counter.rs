//! The station's counter (收银/开单) and its receipts (小票).
//!
//! A sale is an order on channel `own` whose `external_id` is made before it is sent
//! (`POS-{station}-{device}-{n}`), so sending it again — a second press of 收款, a retry after
//! a lost answer, an upload of the browser's offline queue — books it once: the replay answers
//! with the order already booked. The page works without its script too: the cart then lives
//! in the form's fields, with the key made by the server and carried as a hidden field.

use super::{Errors, Layout, State, failure, ok, parse_value, render};
use crate::i18n;
use crate::session::Session;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Redirect, Response};
use chrono::{DateTime, Utc};
use hezuo_app::catalog::{Product, ProductFilter};
use hezuo_app::orders::{OrderView, PaymentMethod, PlaceOrder};
use hezuo_app::{AppError, Principal};
use hezuo_catalog::ProductStatus;
use hezuo_core::{Money, Quantity};
use serde::Deserialize;
use serde_json::json;

/// The payment methods as the counter offers them.
pub const PAYMENTS: [(&str, &str); 4] = [("cash", "现金"), ("wechat", "微信"), ("alipay", "支付宝"), ("other", "其他")];

pub fn payment_label(m: Option<PaymentMethod>) -> &'static str {
    m.and_then(|m| PAYMENTS.iter().find(|(v, _)| *v == m.as_str())).map_or("—", |(_, l)| l)
}

/// A product the counter sells: listed, with stock.
pub struct Item {
    pub p: Product,
}

impl Item {
    pub fn sku(&self) -> &str {
        self.p.sku.as_deref().unwrap_or("")
    }
}

/// A row of the cart as the form carries it.
#[derive(Clone, Default)]
pub struct CartRow {
    pub product_id: i64,
    pub name: String,
    pub unit: String,
    pub unit_price: String,
    pub quantity: String,
    pub total: String,
    pub error: Option<String>,
}

#[derive(Template)]
#[template(path = "staff/counter.html")]
struct CounterPage {
    l: Layout,
    station_id: i64,
    station: String,
    items: Vec<Item>,
    q: String,
    cart: Vec<CartRow>,
    total: String,
    payment: String,
    payments: [(&'static str, &'static str); 4],
    key: String,
    placed_at: String,
    errors: Errors,
    script: String,
}

/// `round(quantity × unit_price)`, the line's gross as the sale books it (docs/domain.md "A
/// sale"); `None` when either does not parse.
fn line_total(quantity: &str, unit_price: &str) -> Option<Money> {
    let q = Quantity::parse(quantity.trim()).ok()?;
    let u = Money::parse(unit_price.trim()).ok()?;
    hezuo_ledger::gross(q, u).ok()
}

/// A key the server makes for a sale without the page's script: the same shape as the
/// script's, with a device id of its own for the one sale.
fn server_key(station_id: i64) -> String {
    format!("POS-{station_id}-s{}-1", crate::session::random_token().get(..12).unwrap_or_default())
}

async fn sellable(c: &crate::Console, p: &Principal, station_id: i64) -> Result<Vec<Item>, AppError> {
    let filter = ProductFilter { status: Some(ProductStatus::Listed), q: None };
    let products = super::staff::all_pages(5_000, |page| c.app.list_products(p, station_id, &filter, page)).await?;
    Ok(products.into_iter().filter(|p| p.stock.thousandths() > 0).map(|p| Item { p }).collect())
}

/// The counter's form as sent.
#[derive(Default)]
struct CounterForm {
    csrf: String,
    key: String,
    placed_at: String,
    payment: String,
    q: String,
    op: String,
    cart: Vec<CartRow>,
}

impl CounterForm {
    fn read(body: &[u8]) -> CounterForm {
        let mut f = CounterForm::default();
        for (k, v) in form_urlencoded::parse(body) {
            let v = v.into_owned();
            match k.as_ref() {
                "csrf" => f.csrf = v,
                "key" => f.key = v,
                "placed_at" => f.placed_at = v,
                "payment" => f.payment = v,
                "q" => f.q = v,
                "op" => f.op = v,
                "product_id" => {
                    f.cart.push(CartRow { product_id: v.trim().parse().unwrap_or(0), ..Default::default() })
                }
                "unit_price" => {
                    if let Some(r) = f.cart.last_mut() {
                        r.unit_price = v;
                    }
                }
                "quantity" => {
                    if let Some(r) = f.cart.last_mut() {
                        r.quantity = v;
                    }
                }
                _ => {}
            }
        }
        f.cart.retain(|r| r.product_id > 0);
        f
    }
}

struct Shown {
    station_id: i64,
    station: String,
    items: Vec<Item>,
    form: CounterForm,
    errors: Errors,
}

fn counter_page(session: &Session, s: Shown, status: StatusCode) -> Response {
    let Shown { station_id, station, items, mut form, errors } = s;
    // Names, units and totals from the catalog; the price is the one the row was added at.
    let mut total = Money::ZERO;
    for r in &mut form.cart {
        if let Some(i) = items.iter().find(|i| i.p.id == r.product_id) {
            r.name.clone_from(&i.p.name);
            r.unit.clone_from(&i.p.unit);
        } else if r.name.is_empty() {
            r.name = format!("商品 {}", r.product_id);
        }
        match line_total(&r.quantity, &r.unit_price) {
            Some(t) => {
                r.total = t.to_string();
                total = total.checked_add(t).unwrap_or(total);
            }
            None => r.total = "—".into(),
        }
    }
    let q = form.q.trim().to_lowercase();
    let items = items
        .into_iter()
        .filter(|i| q.is_empty() || i.p.name.to_lowercase().contains(&q) || i.sku().to_lowercase().contains(&q))
        .collect();
    let payment = if PAYMENTS.iter().any(|(v, _)| *v == form.payment) { form.payment } else { "cash".into() };
    render(
        status,
        &CounterPage {
            l: session.layout("收银开单"),
            station_id,
            station,
            items,
            q: form.q,
            cart: form.cart,
            total: total.to_string(),
            payment,
            payments: PAYMENTS,
            key: form.key,
            placed_at: form.placed_at,
            errors,
            script: crate::assets::url("counter.js"),
        },
    )
}

#[derive(Deserialize, Default)]
pub struct CounterQuery {
    #[serde(default)]
    q: String,
}

/// `GET /stations/{id}/counter`.
pub async fn counter(
    axum::extract::State(c): State,
    session: Session,
    Path(station_id): Path<i64>,
    Query(q): Query<CounterQuery>,
) -> Response {
    let p = &session.principal;
    let (station, items) = match (c.app.get_station(p, station_id).await, sellable(&c, p, station_id).await) {
        (Ok(s), Ok(i)) => (s, i),
        (Err(e), _) | (_, Err(e)) => return failure(&e, Some(&session)),
    };
    let form =
        CounterForm { key: server_key(station_id), placed_at: Utc::now().to_rfc3339(), q: q.q, ..Default::default() };
    let shown = Shown { station_id, station: station.name, items, form, errors: Errors::default() };
    counter_page(&session, shown, StatusCode::OK)
}

/// The product a code typed or scanned names: its merchant code exactly, else its name
/// exactly, else the only product whose name or code contains it.
fn find<'a>(items: &'a [Item], code: &str) -> Option<&'a Item> {
    let code = code.trim();
    if code.is_empty() {
        return None;
    }
    let lower = code.to_lowercase();
    items.iter().find(|i| i.sku() == code).or_else(|| items.iter().find(|i| i.p.name == code)).or_else(|| {
        let mut m = items
            .iter()
            .filter(|i| i.p.name.to_lowercase().contains(&lower) || i.sku().to_lowercase().contains(&lower));
        match (m.next(), m.next()) {
            (Some(one), None) => Some(one),
            _ => None,
        }
    })
}

/// Adds one unit of the item: a new row, or one more on its row (a second scan of the code).
fn add(cart: &mut Vec<CartRow>, item: &Item) {
    if let Some(row) = cart.iter_mut().find(|r| r.product_id == item.p.id) {
        if let Some(more) = Quantity::parse(row.quantity.trim())
            .ok()
            .and_then(|q| q.thousandths().checked_add(1_000))
            .map(Quantity::from_thousandths)
        {
            row.quantity = more.to_string().trim_end_matches('0').trim_end_matches('.').to_owned();
        }
    } else {
        cart.push(CartRow {
            product_id: item.p.id,
            unit_price: item.p.price.to_string(),
            quantity: "1".into(),
            ..Default::default()
        });
    }
}

/// `POST /stations/{id}/counter`: the form without the page's script — add, remove, find by
/// code, or take the payment (收款) and show the receipt.
pub async fn submit(
    axum::extract::State(c): State,
    session: Session,
    Path(station_id): Path<i64>,
    body: Bytes,
) -> Response {
    let mut f = CounterForm::read(&body);
    if let Err(r) = session.check(&f.csrf) {
        return r;
    }
    let p = &session.principal;
    let (station, items) = match (c.app.get_station(p, station_id).await, sellable(&c, p, station_id).await) {
        (Ok(s), Ok(i)) => (s, i),
        (Err(e), _) | (_, Err(e)) => return failure(&e, Some(&session)),
    };
    if f.key.trim().is_empty() {
        f.key = server_key(station_id);
    }
    let mut errors = Errors::default();
    let op = std::mem::take(&mut f.op);
    if op == "checkout" {
        match checkout(&c, &session, station_id, &mut f).await {
            Ok(order) => return Redirect::to(&format!("/orders/{}/receipt", order.id)).into_response(),
            Err(e) => errors = e,
        }
    } else {
        if let Some(id) = op.strip_prefix("add:").and_then(|i| i.parse::<i64>().ok()) {
            if let Some(item) = items.iter().find(|i| i.p.id == id) {
                add(&mut f.cart, item);
            }
        } else if let Some(id) = op.strip_prefix("remove:").and_then(|i| i.parse::<i64>().ok()) {
            f.cart.retain(|r| r.product_id != id);
        } else if let Some(item) = find(&items, &f.q) {
            add(&mut f.cart, item);
            f.q.clear();
        }
        // The sale's time is that of its last change: a retry of the same form is the same sale.
        f.placed_at = Utc::now().to_rfc3339();
    }
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    counter_page(&session, Shown { station_id, station: station.name, items, form: f, errors }, status)
}

/// Books the form's cart; on a refusal, the reason is put beside its line.
async fn checkout(
    c: &crate::Console,
    session: &Session,
    station_id: i64,
    f: &mut CounterForm,
) -> Result<OrderView, Errors> {
    if f.cart.is_empty() {
        return Err(Errors::one(i18n::Shown {
            field: None, text: "购物车是空的：请先加入商品。".into()
        }));
    }
    let placed_at = DateTime::parse_from_rfc3339(f.placed_at.trim()).unwrap_or_else(|_| Utc::now().fixed_offset());
    let lines: Vec<serde_json::Value> = f
        .cart
        .iter()
        .map(|r| json!({"product_id": r.product_id, "quantity": r.quantity.trim(), "unit_price": r.unit_price.trim()}))
        .collect();
    let body = json!({
        "station_id": station_id, "channel": "own", "external_id": f.key.trim(),
        "placed_at": placed_at.to_rfc3339(), "lines": lines, "payment_method": f.payment.trim(),
    });
    let req = match parse_value::<PlaceOrder>(body) {
        Ok(r) => r,
        Err(e) => return Err(beside_lines(e, &mut f.cart)),
    };
    match c.app.place_order(&session.principal, &session.actor, req.clone()).await {
        Ok(placed) => Ok(placed.order),
        Err(e) => {
            let (shown, line) = explain(c, &session.principal, &req, &e).await;
            match line.and_then(|i| f.cart.get_mut(i)) {
                Some(row) => {
                    row.error = Some(shown.text);
                    Err(Errors::one(i18n::Shown {
                        field: None, text: "未收款：请按提示修改后再收款。".into()
                    }))
                }
                None => Err(Errors::one(i18n::Shown { field: None, text: shown.text })),
            }
        }
    }
}

/// A parse error of a line's field goes beside that line.
fn beside_lines(e: Errors, cart: &mut [CartRow]) -> Errors {
    let mut general = Errors::default();
    for s in e.list {
        match s.field.as_deref().and_then(line_index) {
            Some(i) if i < cart.len() => cart[i].error = Some(s.text),
            _ => general.list.push(i18n::Shown { field: None, text: s.text }),
        }
    }
    general
}

/// The line a field such as `lines[2].quantity` names.
fn line_index(field: &str) -> Option<usize> {
    field.strip_prefix("lines[")?.split(']').next()?.parse().ok()
}

/// A refusal of a sale in Chinese, and the line it belongs to. Not enough stock says how much
/// is left.
async fn explain(c: &crate::Console, p: &Principal, req: &PlaceOrder, e: &AppError) -> (i18n::Shown, Option<usize>) {
    let shown = i18n::error(e);
    let AppError::Invalid { code, field: Some(field), .. } = e else { return (shown, None) };
    let line = line_index(field);
    let product = line.and_then(|i| req.lines.get(i)).map(|l| l.product_id);
    if *code == "insufficient_stock"
        && let Some(id) = product
        && let Ok(prod) = c.app.get_product(p, id).await
    {
        let text = format!("库存不足：{}仅剩 {} {}", prod.name, prod.stock, prod.unit);
        return (i18n::Shown { field: shown.field, text }, line);
    }
    (shown, line)
}

fn json_error(status: StatusCode, code: &str, text: &str, line: Option<usize>) -> Response {
    (status, Json(json!({"error": {"code": code, "message": text, "line": line}}))).into_response()
}

/// `POST /counter/sales`: a sale from the counter's script (JSON, the `PlaceOrder` of the
/// API, CSRF token in `X-CSRF-Token`). 201 with the order's id and receipt, 200 when the key
/// was booked already; a refusal in Chinese with the line it concerns.
pub async fn sale(axum::extract::State(c): State, session: Session, headers: HeaderMap, body: Bytes) -> Response {
    let csrf = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !crate::session::same(csrf, &session.csrf) {
        return json_error(StatusCode::FORBIDDEN, "csrf", i18n::code("csrf"), None);
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return json_error(StatusCode::BAD_REQUEST, "malformed_json", i18n::code("malformed_json"), None);
    };
    let req = match parse_value::<PlaceOrder>(value) {
        Ok(r) => r,
        Err(e) => {
            let s = e.list.into_iter().next();
            let line = s.as_ref().and_then(|s| s.field.as_deref()).and_then(line_index);
            let text = s.map_or_else(|| i18n::code("invalid_body").to_owned(), |s| s.text);
            return json_error(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", &text, line);
        }
    };
    match c.app.place_order(&session.principal, &session.actor, req.clone()).await {
        Ok(placed) => {
            let status = if placed.created { StatusCode::CREATED } else { StatusCode::OK };
            let id = placed.order.id;
            (status, Json(json!({"id": id, "created": placed.created, "receipt": format!("/orders/{id}/receipt")})))
                .into_response()
        }
        Err(e) => {
            if let AppError::Internal(detail) = &e {
                tracing::error!(%detail, "counter sale failed");
            }
            let (shown, line) = explain(&c, &session.principal, &req, &e).await;
            json_error(super::status_of(&e), e.code(), &shown.text, line)
        }
    }
}

pub struct ReceiptLine {
    pub name: String,
    pub unit: String,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub gross: Money,
}

#[derive(Template)]
#[template(path = "staff/receipt.html")]
struct ReceiptPage {
    l: Layout,
    station_id: i64,
    station: String,
    phone: Option<String>,
    order: OrderView,
    placed_at: String,
    lines: Vec<ReceiptLine>,
    payment: &'static str,
    counter: bool,
}

#[derive(Deserialize, Default)]
pub struct ReceiptQuery {
    #[serde(default)]
    from: String,
}

/// `GET /orders/{id}/receipt`: the receipt of any order of the station (小票), for 58 mm paper.
pub async fn receipt(
    axum::extract::State(c): State,
    session: Session,
    Path(id): Path<i64>,
    Query(q): Query<ReceiptQuery>,
) -> Response {
    let p = &session.principal;
    let order = match c.app.get_order(p, id).await {
        Ok(o) => o,
        Err(e) => return failure(&e, Some(&session)),
    };
    let station = match c.app.get_station(p, order.station_id).await {
        Ok(s) => s,
        Err(e) => return failure(&e, Some(&session)),
    };
    let mut lines = Vec::with_capacity(order.lines.len());
    for l in &order.lines {
        let (name, unit) = match c.app.get_product(p, l.product_id).await {
            Ok(prod) => (prod.name, prod.unit),
            Err(_) => (format!("商品 {}", l.product_id), String::new()),
        };
        lines.push(ReceiptLine { name, unit, quantity: l.quantity, unit_price: l.unit_price, gross: l.gross });
    }
    let l = session.layout("小票");
    let placed_at = l.time(order.placed_at);
    ok(&ReceiptPage {
        payment: payment_label(order.payment_method),
        counter: q.from == "counter" || order.channel == "own",
        station_id: station.id,
        station: station.name,
        phone: station.phone,
        placed_at,
        lines,
        order,
        l,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn totals_are_booked_gross() {
        assert_eq!(super::line_total("2", "6.80").unwrap().to_string(), "13.60");
        assert_eq!(super::line_total("0.333", "10.00").unwrap().to_string(), "3.33");
        assert_eq!(super::line_total("1.255", "2.00").unwrap().to_string(), "2.51");
        assert!(super::line_total("x", "2.00").is_none());
    }

    #[test]
    fn a_line_field_names_its_line() {
        assert_eq!(super::line_index("lines[2].quantity"), Some(2));
        assert_eq!(super::line_index("payment_method"), None);
    }
}
