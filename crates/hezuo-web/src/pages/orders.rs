//! Orders (station staff; the alliance and admins read and act on the same pages): a station's
//! orders with filters, an order's detail with every part's split (docs/domain.md "A sale"),
//! refunding a line and shipping with a tracking number. Each action is one use case of `App`.

use super::{Errors, Layout, State, failure, parse, parse_value, render};
use crate::session::Session;
use askama::Template;
use axum::Form;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use hezuo_app::orders::{CreateRefund, LineView, OrderFilter, OrderStatus, OrderView, ShipOrder};
use hezuo_app::setup::Channel;
use hezuo_app::{AppError, PageRequest, Principal};
use serde::Deserialize;
use std::collections::HashMap;

/// Order statuses in Chinese.
pub const ORDER_STATUSES: [(&str, &str); 4] =
    [("placed", "待发货"), ("shipped", "已发货"), ("completed", "已完成"), ("cancelled", "已取消")];

pub fn order_status(s: OrderStatus) -> &'static str {
    ORDER_STATUSES.iter().find(|(k, _)| *k == s.as_str()).map_or("", |(_, v)| v)
}

/// Orders a page lists.
const PAGE_SIZE: u64 = 50;

#[derive(Deserialize, Default)]
pub struct OrderQuery {
    /// Absent: the last 30 days; empty: from the first order.
    from: Option<String>,
    #[serde(default)]
    to: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    channel: String,
    after: Option<i64>,
}

pub struct OrderRow {
    pub o: OrderView,
    pub status: &'static str,
}

#[derive(Template)]
#[template(path = "staff/orders.html")]
struct OrdersPage {
    l: Layout,
    station: String,
    rows: Vec<OrderRow>,
    from: String,
    to: String,
    status: String,
    channel: String,
    statuses: [(&'static str, &'static str); 4],
    channels: Vec<Channel>,
    next: Option<String>,
    errors: Errors,
}

/// The first instant of a local day, in UTC.
fn local_midnight(c: &crate::Console, day: NaiveDate) -> Option<DateTime<Utc>> {
    day.and_hms_opt(0, 0, 0)?.and_local_timezone(c.app.config.timezone).earliest().map(|t| t.with_timezone(&Utc))
}

/// A date field of the filter: empty is none; else the local midnight starting it (`days` later).
fn day_start(c: &crate::Console, field: &'static str, v: &str, days: u64) -> Result<Option<DateTime<Utc>>, Errors> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    let bad = || Errors::from_app(&AppError::invalid(field, "must be a date"));
    let day = NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| bad())?;
    let day = day.checked_add_days(chrono::Days::new(days)).ok_or_else(bad)?;
    local_midnight(c, day).map(Some).ok_or_else(bad)
}

/// `GET /stations/{id}/orders`: the station's orders by the filters, oldest first, a page at a time.
pub async fn orders(
    axum::extract::State(c): State,
    session: Session,
    Path(station_id): Path<i64>,
    Query(q): Query<OrderQuery>,
) -> Response {
    let p = &session.principal;
    let station = match c.app.get_station(p, station_id).await {
        Ok(s) => s,
        Err(e) => return failure(&e, Some(&session)),
    };
    let tz = c.app.config.timezone;
    let today = c.app.now().with_timezone(&tz).date_naive();
    let from = q.from.clone().unwrap_or_else(|| (today - chrono::Days::new(30)).to_string());
    let mut errors = Errors::default();
    let mut filter = OrderFilter {
        station_id: Some(station_id),
        channel: super::optional(&q.channel),
        status: OrderStatus::parse(q.status.trim()),
        ..Default::default()
    };
    match (day_start(&c, "from", &from, 0), day_start(&c, "to", &q.to, 1)) {
        (Ok(f), Ok(t)) => (filter.from, filter.to) = (f, t),
        (Err(e), _) | (_, Err(e)) => errors = e,
    }
    let page = if errors.is_empty() {
        match c.app.list_orders(p, &filter, PageRequest { limit: PAGE_SIZE, after: q.after }).await {
            Ok(page) => Some(page),
            Err(e @ (AppError::NotFound(_) | AppError::Forbidden)) => return failure(&e, Some(&session)),
            Err(e) => {
                errors = Errors::from_app(&e);
                None
            }
        }
    } else {
        None
    };
    let (items, next_cursor) = page.map(|pg| (pg.items, pg.next_cursor)).unwrap_or_default();
    let channels = super::staff::all_pages(1_000, |page| c.app.list_channels(p, page)).await.unwrap_or_default();
    let next = next_cursor.map(|cursor| {
        format!(
            "/stations/{station_id}/orders?from={}&to={}&status={}&channel={}&after={cursor}",
            super::url_encode(&from),
            super::url_encode(q.to.trim()),
            super::url_encode(q.status.trim()),
            super::url_encode(q.channel.trim())
        )
    });
    let rows = items.into_iter().map(|o| OrderRow { status: order_status(o.status), o }).collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(
        status,
        &OrdersPage {
            l: session.layout("订单"),
            station: station.name,
            rows,
            from,
            to: q.to,
            status: q.status,
            channel: q.channel,
            statuses: ORDER_STATUSES,
            channels,
            next,
            errors: errors.within(&["from", "to"]),
        },
    )
}

/// A part as the detail shows it: who supplied it and what each party was credited.
pub struct PartRow {
    pub p: hezuo_app::orders::PartView,
    pub household: String,
}

pub struct LineRow {
    pub l: LineView,
    pub product: String,
    pub unit: String,
    pub parts: Vec<PartRow>,
    /// What is left to refund of the line's gross.
    pub refundable: String,
}

#[derive(Template)]
#[template(path = "staff/order.html")]
struct OrderPage {
    l: Layout,
    o: OrderView,
    status: &'static str,
    lines: Vec<LineRow>,
    can_ship: bool,
    can_refund: bool,
    notice: &'static str,
    /// The line whose refund form the errors belong to, or 0 for the ship form.
    error_line: Option<i64>,
    errors: Errors,
    form: ActionForm,
}

impl OrderPage {
    fn is_error_line(&self, id: &i64) -> bool {
        self.error_line == Some(*id)
    }

    fn value_for(&self, id: &i64, field: &str) -> String {
        if !self.is_error_line(id) {
            return if field == "quantity" { "0".into() } else { String::new() };
        }
        match field {
            "amount" => self.form.amount.clone(),
            "quantity" => self.form.quantity.clone(),
            _ => self.form.reason.clone(),
        }
    }

    fn error_for(&self, id: &i64, field: &str) -> Option<&str> {
        if self.is_error_line(id) { self.errors.get(field) } else { None }
    }

    /// Errors of a form this page does not show (a refund of a line that is not the order's).
    fn unplaced(&self) -> Vec<&str> {
        match self.error_line {
            Some(0) if !self.can_ship => self.errors.list.iter().map(|s| s.text.as_str()).collect(),
            Some(l) if l != 0 && !self.lines.iter().any(|r| r.l.id == l) => {
                self.errors.list.iter().map(|s| s.text.as_str()).collect()
            }
            _ => Vec::new(),
        }
    }

    fn ship_value(&self) -> &str {
        if self.error_line == Some(0) { &self.form.tracking_number } else { "" }
    }

    fn ship_error(&self, field: &str) -> Option<&str> {
        self.error_for(&0, field)
    }

    fn ship_general(&self) -> Vec<&str> {
        self.general_for(&0)
    }

    fn general_for(&self, id: &i64) -> Vec<&str> {
        if self.is_error_line(id) { self.errors.general() } else { Vec::new() }
    }
}

#[derive(Deserialize, Default)]
pub struct DetailQuery {
    #[serde(default)]
    done: String,
}

/// Names and units of the products an order names, and the names of its households, read
/// through the caller's scope.
async fn names(
    c: &crate::Console,
    p: &Principal,
    o: &OrderView,
) -> (HashMap<i64, (String, String)>, HashMap<i64, String>) {
    let mut products = HashMap::new();
    for l in &o.lines {
        if !products.contains_key(&l.product_id)
            && let Ok(pr) = c.app.get_product(p, l.product_id).await
        {
            products.insert(l.product_id, (pr.name, pr.unit));
        }
    }
    let households: Vec<i64> = o.lines.iter().flat_map(|l| &l.parts).map(|part| part.household_id).collect();
    (products, super::household_names(c, p, households).await)
}

async fn order_page(
    c: &crate::Console,
    session: &Session,
    id: i64,
    notice: &'static str,
    failed: Option<(Option<i64>, Errors, ActionForm)>,
) -> Response {
    let p = &session.principal;
    let o = match c.app.get_order(p, id).await {
        Ok(o) => o,
        Err(e) => return failure(&e, Some(session)),
    };
    let (products, households) = names(c, p, &o).await;
    let lines = o
        .lines
        .iter()
        .map(|l| {
            let (product, unit) = products
                .get(&l.product_id)
                .cloned()
                .unwrap_or_else(|| (format!("商品 {}", l.product_id), String::new()));
            let parts = l
                .parts
                .iter()
                .map(|part| PartRow {
                    household: households
                        .get(&part.household_id)
                        .cloned()
                        .unwrap_or_else(|| format!("农户 {}", part.household_id)),
                    p: part.clone(),
                })
                .collect();
            let refundable = l.gross.checked_sub(l.refunded).map(|m| m.to_string()).unwrap_or_default();
            LineRow { l: l.clone(), product, unit, parts, refundable }
        })
        .collect();
    let writer = !matches!(p, Principal::Village { .. });
    let (error_line, errors, form, status) = match failed {
        Some((line, errors, form)) => (line.or(Some(0)), errors, form, StatusCode::UNPROCESSABLE_ENTITY),
        None => (None, Errors::default(), ActionForm::default(), StatusCode::OK),
    };
    render(
        status,
        &OrderPage {
            l: session.layout(format!("订单 {}", o.id)),
            status: order_status(o.status),
            can_ship: writer && o.status == OrderStatus::Placed,
            can_refund: writer && o.status != OrderStatus::Cancelled,
            lines,
            notice,
            error_line,
            errors: errors.within(&["tracking_number", "amount", "quantity", "reason"]),
            form,
            o,
        },
    )
}

/// `GET /orders/{id}`: the order, its lines and every part's split, with the ship and refund forms.
pub async fn order(
    axum::extract::State(c): State,
    session: Session,
    Path(id): Path<i64>,
    Query(q): Query<DetailQuery>,
) -> Response {
    let notice = match q.done.as_str() {
        "shipped" => "已登记发货。",
        "refunded" => "已退款，分账已按比例冲回。",
        _ => "",
    };
    order_page(&c, &session, id, notice, None).await
}

/// The fields of the ship and refund forms, as typed.
#[derive(Deserialize, Default, Clone)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    tracking_number: String,
    #[serde(default)]
    line_id: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    quantity: String,
    #[serde(default)]
    restock: Option<String>,
    #[serde(default)]
    reason: String,
}

/// `POST /orders/{id}/ship`: `App::ship_order`.
pub async fn ship(
    axum::extract::State(c): State,
    session: Session,
    Path(id): Path<i64>,
    Form(f): Form<ActionForm>,
) -> Response {
    if let Err(r) = session.check(&f.csrf) {
        return r;
    }
    let shipped = match parse::<ShipOrder>(&[("tracking_number", &f.tracking_number)]) {
        Ok(req) => c.app.ship_order(&session.principal, id, req).await.map_err(Failed::App),
        Err(errors) => Err(Failed::Form(errors)),
    };
    match shipped {
        Ok(_) => Redirect::to(&format!("/orders/{id}?done=shipped")).into_response(),
        Err(e) => e.answer(&c, &session, id, None, f).await,
    }
}

/// Why an action was refused: the form's own reading, or the use case.
enum Failed {
    Form(Errors),
    App(AppError),
}

impl Failed {
    /// Another tenant's order is a 404 page; anything else shows the order again with the
    /// error beside the form's field (`line`: the refund form of that line, else ship).
    async fn answer(
        self,
        c: &crate::Console,
        session: &Session,
        id: i64,
        line: Option<i64>,
        f: ActionForm,
    ) -> Response {
        let errors = match self {
            Failed::App(e @ (AppError::NotFound(_) | AppError::Forbidden)) => return failure(&e, Some(session)),
            Failed::App(e) => Errors::from_app(&e),
            Failed::Form(errors) => errors,
        };
        order_page(c, session, id, "", Some((line, errors, f))).await
    }
}

/// `POST /orders/{id}/refund`: `App::refund` of one line.
pub async fn refund(
    axum::extract::State(c): State,
    session: Session,
    Path(id): Path<i64>,
    Form(f): Form<ActionForm>,
) -> Response {
    if let Err(r) = session.check(&f.csrf) {
        return r;
    }
    let line_id = f.line_id.trim().parse::<i64>().ok();
    let body = serde_json::json!({
        "line_id": line_id.map_or_else(|| serde_json::Value::from(f.line_id.trim()), serde_json::Value::from),
        "amount": f.amount.trim(),
        "quantity": if f.quantity.trim().is_empty() { "0" } else { f.quantity.trim() },
        "restock": f.restock.is_some(),
        "reason": f.reason.trim(),
    });
    let refunded = match parse_value::<CreateRefund>(body) {
        Ok(req) => c.app.refund(&session.principal, &session.actor, id, req).await.map_err(Failed::App),
        Err(errors) => Err(Failed::Form(errors)),
    };
    match refunded {
        Ok(_) => Redirect::to(&format!("/orders/{id}?done=refunded")).into_response(),
        Err(e) => e.answer(&c, &session, id, Some(line_id.unwrap_or(-1)), f).await,
    }
}
