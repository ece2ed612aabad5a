//! Orders (API.md "Orders"): intake with FIFO lot draw and attribution (SPEC §4), refunds and
//! cancellation (SPEC §5), shipping status. Every operation is one database transaction.

mod intake;
mod place;
mod refund;

pub(crate) use intake::OrderIntake;
pub use place::*;
pub use refund::*;

use crate::page::fetch_page;
use crate::{App, AppError, Page, PageRequest, Principal, now};
use chrono::{DateTime, NaiveDate, Utc};
use hezuo_core::{Money, Quantity};
use hezuo_db::entities::{channel, order, order_line, order_part};
use hezuo_db::sea_orm::sea_query::{Expr, ExprTrait};
use hezuo_db::sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, Order as SortOrder, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Placed,
    Shipped,
    Completed,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Placed => "placed",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        [OrderStatus::Placed, OrderStatus::Shipped, OrderStatus::Completed, OrderStatus::Cancelled]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// Derived from the refund totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RefundStatus {
    None,
    PartiallyRefunded,
    Refunded,
}

/// A line's draw on one lot and what it credited (docs/domain.md "A sale").
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PartView {
    pub lot_id: i64,
    pub household_id: i64,
    pub village_id: i64,
    pub quantity: Quantity,
    pub gross: Money,
    pub fee: Money,
    pub household: Money,
    pub station: Money,
    pub collective: Money,
    pub pool: Money,
    /// Of this part's gross, how much refunds have reversed.
    pub refunded: Money,
    /// Of this part's quantity, how much came back (restocked or written off).
    pub returned: Quantity,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LineView {
    pub id: i64,
    pub line_no: i32,
    pub product_id: i64,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub gross: Money,
    pub fee: Money,
    pub refunded: Money,
    pub returned: Quantity,
    pub parts: Vec<PartView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderView {
    pub id: i64,
    pub station_id: i64,
    pub channel: String,
    pub external_id: String,
    pub placed_at: DateTime<Utc>,
    /// The day the order's postings are booked on (docs/domain.md "A sale" booking date).
    pub booking_date: NaiveDate,
    pub status: OrderStatus,
    pub refund_status: RefundStatus,
    pub tracking_number: Option<String>,
    /// How a counter sale was paid; null for platform orders.
    pub payment_method: Option<PaymentMethod>,
    pub gross: Money,
    pub fee: Money,
    pub refunded: Money,
    pub lines: Vec<LineView>,
    pub created_at: DateTime<Utc>,
}

/// Filters of the order list.
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderFilter {
    pub station_id: Option<i64>,
    /// Channel code.
    #[param(min_length = 1, max_length = 32, pattern = "^[a-z0-9_-]{1,32}$", example = "taobao")]
    pub channel: Option<String>,
    /// Placed at or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Placed before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    pub status: Option<OrderStatus>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipOrder {
    #[schema(value_type = crate::openapi::TrackingNumber)]
    pub tracking_number: String,
}

/// Orders the caller may read: its alliance's, its station's, or all for admins.
pub(crate) fn order_scope(p: &Principal) -> Result<Condition, AppError> {
    match *p {
        Principal::Admin => Ok(Condition::all()),
        Principal::Alliance { alliance_id } => Ok(Condition::all().add(Expr::col("alliance_id").eq(alliance_id))),
        Principal::Staff { station_id, .. } => Ok(Condition::all().add(Expr::col("station_id").eq(station_id))),
        Principal::Village { .. } => Err(AppError::Forbidden),
    }
}

/// The order's view (`GET /orders/{id}`) as `db` sees it (inside a transaction: with its writes).
pub(crate) async fn order_view_in(db: &impl ConnectionTrait, o: order::Model) -> Result<OrderView, AppError> {
    let ch = channel::Entity::find_by_id(o.channel_id).one(db).await?.ok_or(AppError::NotFound("channel"))?;
    let lines = order_line::Entity::find()
        .filter(order_line::Column::OrderId.eq(o.id))
        .order_by(order_line::Column::LineNo, SortOrder::Asc)
        .all(db)
        .await?;
    // Through the lines' ids: parts are indexed by (line_id, seq).
    let parts = order_part::Entity::find()
        .filter(order_part::Column::LineId.is_in(lines.iter().map(|l| l.id)))
        .order_by(order_part::Column::LineId, SortOrder::Asc)
        .order_by(order_part::Column::Seq, SortOrder::Asc)
        .all(db)
        .await?;
    view_of(o, ch.code, lines, &parts)
}

fn part_view(p: &order_part::Model) -> PartView {
    PartView {
        lot_id: p.lot_id,
        household_id: p.household_id,
        village_id: p.village_id,
        quantity: Quantity::from_thousandths(p.quantity),
        gross: Money::from_cents(p.gross),
        fee: Money::from_cents(p.fee),
        household: Money::from_cents(p.household),
        station: Money::from_cents(p.station),
        collective: Money::from_cents(p.collective),
        pool: Money::from_cents(p.pool),
        refunded: Money::from_cents(p.refunded_gross),
        returned: Quantity::from_thousandths(p.returned),
    }
}

impl App {
    pub(crate) async fn find_order(&self, p: &Principal, id: i64) -> Result<order::Model, AppError> {
        order::Entity::find_by_id(id).filter(order_scope(p)?).one(&self.db).await?.ok_or(AppError::NotFound("order"))
    }

    pub(crate) async fn order_view(&self, o: order::Model) -> Result<OrderView, AppError> {
        order_view_in(&self.db, o).await
    }

    pub async fn get_order(&self, p: &Principal, id: i64) -> Result<OrderView, AppError> {
        let o = self.find_order(p, id).await?;
        self.order_view(o).await
    }

    /// Orders in scope, newest id last, with their lines.
    pub async fn list_orders(
        &self,
        p: &Principal,
        f: &OrderFilter,
        page: PageRequest,
    ) -> Result<Page<OrderView>, AppError> {
        let mut q = order::Entity::find();
        if let Some(s) = f.station_id {
            q = q.filter(order::Column::StationId.eq(s));
        }
        if let Some(code) = &f.channel {
            // A subquery, not a list of ids: every alliance may have a channel of this code.
            q = q.filter(
                order::Column::ChannelId.in_subquery(
                    hezuo_db::sea_orm::sea_query::Query::select()
                        .column(channel::Column::Id)
                        .from(channel::Entity)
                        .and_where(channel::Column::Code.eq(code.as_str()))
                        .to_owned(),
                ),
            );
        }
        if let Some(from) = f.from {
            q = q.filter(order::Column::PlacedAt.gte(from));
        }
        if let Some(to) = f.to {
            q = q.filter(order::Column::PlacedAt.lt(to));
        }
        if let Some(s) = f.status {
            q = q.filter(order::Column::Status.eq(s.as_str()));
        }
        let db = self.reader();
        let page = fetch_page(db, q, order_scope(p)?, page, |m| m.id, |m| m).await?;
        let mut items = Vec::with_capacity(page.items.len());
        for o in page.items {
            items.push(order_view_in(db, o).await?);
        }
        Ok(Page { items, next_cursor: page.next_cursor })
    }

    /// Moves an order along placed → shipped → completed.
    async fn advance(
        &self,
        p: &Principal,
        id: i64,
        from: OrderStatus,
        to: OrderStatus,
        tracking: Option<String>,
    ) -> Result<OrderView, AppError> {
        order_writer(p)?;
        let o = self.find_order(p, id).await?;
        let mut update = order::Entity::update_many()
            .col_expr(order::Column::Status, Expr::value(to.as_str()))
            .col_expr(order::Column::UpdatedAt, Expr::value(now()))
            .filter(order::Column::Id.eq(o.id))
            .filter(order::Column::Status.eq(from.as_str()));
        if let Some(t) = tracking {
            update = update.col_expr(order::Column::TrackingNumber, Expr::value(t));
        }
        if update.exec(&*self.writer().await).await?.rows_affected == 0 {
            return Err(AppError::conflict(
                "invalid_transition",
                format!("the order is {}, not {}", o.status, from.as_str()),
            ));
        }
        self.get_order(p, id).await
    }

    pub async fn ship_order(&self, p: &Principal, id: i64, req: ShipOrder) -> Result<OrderView, AppError> {
        let t = hezuo_catalog::text("tracking_number", &req.tracking_number, 64)?;
        self.advance(p, id, OrderStatus::Placed, OrderStatus::Shipped, Some(t)).await
    }

    pub async fn complete_order(&self, p: &Principal, id: i64) -> Result<OrderView, AppError> {
        self.advance(p, id, OrderStatus::Shipped, OrderStatus::Completed, None).await
    }
}

/// An order's view from its rows: `lines` in line order, `parts` in (line, seq) order.
pub(crate) fn view_of(
    o: order::Model,
    channel: String,
    lines: Vec<order_line::Model>,
    parts: &[order_part::Model],
) -> Result<OrderView, AppError> {
    let mut by_line: HashMap<i64, Vec<PartView>> = HashMap::new();
    for p in parts {
        by_line.entry(p.line_id).or_default().push(part_view(p));
    }
    let status = OrderStatus::parse(&o.status)
        .ok_or_else(|| AppError::Internal(format!("order {} status {}", o.id, o.status)))?;
    let refund_status = match o.refunded {
        0 => RefundStatus::None,
        r if r >= o.gross => RefundStatus::Refunded,
        _ => RefundStatus::PartiallyRefunded,
    };
    Ok(OrderView {
        id: o.id,
        station_id: o.station_id,
        channel,
        external_id: o.external_id,
        placed_at: o.placed_at,
        booking_date: o.booking_date,
        status,
        refund_status,
        tracking_number: o.tracking_number,
        payment_method: o.payment_method.as_deref().and_then(PaymentMethod::parse),
        gross: Money::from_cents(o.gross),
        fee: Money::from_cents(o.fee),
        refunded: Money::from_cents(o.refunded),
        lines: lines
            .into_iter()
            .map(|l| LineView {
                parts: by_line.remove(&l.id).unwrap_or_default(),
                id: l.id,
                line_no: l.line_no,
                product_id: l.product_id,
                quantity: Quantity::from_thousandths(l.quantity),
                unit_price: Money::from_cents(l.unit_price),
                gross: Money::from_cents(l.gross),
                fee: Money::from_cents(l.fee),
                refunded: Money::from_cents(l.refunded),
                returned: Quantity::from_thousandths(l.returned),
            })
            .collect(),
        created_at: o.created_at,
    })
}

/// Who may write orders: station staff, the alliance, admins (village users may not).
pub(crate) fn order_writer(p: &Principal) -> Result<(), AppError> {
    match p {
        Principal::Village { .. } => Err(AppError::Forbidden),
        _ => Ok(()),
    }
}
