//! `POST /orders`: validation, idempotency on (channel, external_id), FIFO lot draw,
//! attribution and postings — one transaction.

use super::{OrderStatus, OrderView, order_writer};
use crate::exec::{self, Exec, Row, Writes};
use crate::ledger::{Booking, Entry, SalesDelta, booking_writes};
use crate::{Actor, App, AppError, Principal, now, scope};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use hezuo_catalog::{self as catalog, MovementKind, ProductStatus};
use hezuo_core::{Money, Quantity};
use hezuo_db::entities::{
    channel, ledger_transaction, lot, order, order_line, order_part, product, rule_version, station, stock_movement,
};
use hezuo_db::sea_orm::sea_query::{Alias, CaseStatement, Expr, ExprTrait, InsertStatement, LockType, Query};
use hezuo_db::sea_orm::{
    ColumnTrait, Condition, DbBackend, DbErr, EntityName, EntityTrait, FromQueryResult, JoinType, NotSet,
    Order as SortOrder, QueryFilter, QueryOrder, QueryResult, QuerySelect, QueryTrait, Set, Statement,
    TransactionTrait,
};
use hezuo_ledger::{Amounts, Draw, RuleSet, attribute_gross, gross};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

pub const MAX_LINES: usize = 100;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrder {
    pub station_id: i64,
    /// Channel code of the station's alliance: `own`, `taobao` …
    #[schema(value_type = crate::openapi::ChannelCode)]
    pub channel: String,
    /// The order's id in its channel; with the channel it identifies the order.
    #[schema(value_type = crate::openapi::ExternalId)]
    pub external_id: String,
    /// RFC 3339 with offset.
    #[schema(value_type = String, format = DateTime)]
    pub placed_at: DateTime<FixedOffset>,
    /// 1 to 100 lines.
    #[schema(min_items = 1, max_items = 100)]
    pub lines: Vec<PlaceLine>,
    /// How a counter sale was paid; absent for platform orders.
    #[serde(default)]
    pub payment_method: Option<PaymentMethod>,
}

/// How a counter sale was paid (收款方式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    /// 现金
    Cash,
    /// 微信
    Wechat,
    /// 支付宝
    Alipay,
    /// 其他
    Other,
}

impl PaymentMethod {
    pub const ALL: [PaymentMethod; 4] =
        [PaymentMethod::Cash, PaymentMethod::Wechat, PaymentMethod::Alipay, PaymentMethod::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::Cash => "cash",
            PaymentMethod::Wechat => "wechat",
            PaymentMethod::Alipay => "alipay",
            PaymentMethod::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentMethod> {
        PaymentMethod::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceLine {
    pub product_id: i64,
    /// More than 0, at most 3 decimals.
    #[schema(value_type = crate::openapi::QuantityInput)]
    pub quantity: Quantity,
    /// 0 or more, at most 2 decimals: the line's gross is `round(quantity × unit_price)`.
    /// Exactly one of `unit_price` and `amount`.
    #[serde(default)]
    #[schema(value_type = Option<crate::openapi::UnitPriceInput>)]
    pub unit_price: Option<Money>,
    /// The line's gross exactly as the buyer paid it (a platform's line amount after
    /// discounts), instead of `unit_price`.
    #[serde(default)]
    #[schema(value_type = Option<crate::openapi::MoneyInput>)]
    pub amount: Option<Money>,
}

impl PlaceLine {
    /// A line priced per unit.
    pub fn priced(product_id: i64, quantity: Quantity, unit_price: Money) -> PlaceLine {
        PlaceLine { product_id, quantity, unit_price: Some(unit_price), amount: None }
    }

    /// A line with its gross as paid.
    pub fn paid(product_id: i64, quantity: Quantity, amount: Money) -> PlaceLine {
        PlaceLine { product_id, quantity, unit_price: None, amount: Some(amount) }
    }

    /// The line's gross `G` (docs/domain.md "A sale"): as paid, or `round(quantity × unit_price)`.
    fn gross(&self) -> Result<Money, AppError> {
        match (self.amount, self.unit_price) {
            (Some(a), _) => Ok(a),
            (None, Some(u)) => Ok(gross(self.quantity, u)?),
            (None, None) => Err(AppError::Internal("a line without unit_price or amount".into())),
        }
    }

    /// The unit price the line stores: as given, or the paid amount per unit, rounded.
    fn shown_unit_price(&self) -> Result<Money, AppError> {
        match self.unit_price {
            Some(u) => Ok(u),
            None => Ok(Money::round(self.gross()?.to_decimal() / self.quantity.to_decimal())?),
        }
    }
}

/// The fingerprint of a request: the same order sent again has the same one.
fn request_hash(req: &PlaceOrder) -> String {
    #[derive(Serialize)]
    struct Canonical<'a> {
        station_id: i64,
        channel: &'a str,
        external_id: &'a str,
        placed_at: i64,
        lines: Vec<serde_json::Value>,
        // Left out when absent, so that orders stored before it existed replay as they did.
        #[serde(skip_serializing_if = "Option::is_none")]
        payment_method: Option<&'static str>,
    }
    let c = Canonical {
        station_id: req.station_id,
        channel: &req.channel,
        external_id: &req.external_id,
        placed_at: req.placed_at.timestamp_micros(),
        // A priced line hashes as it always has, so replays of orders stored before paid
        // amounts existed still match; a paid line is marked as such.
        lines: req
            .lines
            .iter()
            .map(|l| match (l.unit_price, l.amount) {
                (Some(u), None) => serde_json::json!([l.product_id, l.quantity.thousandths(), u.cents()]),
                (u, a) => serde_json::json!([
                    l.product_id,
                    l.quantity.thousandths(),
                    "amount",
                    a.map(Money::cents),
                    u.map(Money::cents)
                ]),
            })
            .collect(),
        payment_method: req.payment_method.map(PaymentMethod::as_str),
    };
    hex::encode(Sha256::digest(serde_json::to_vec(&c).unwrap_or_default()))
}

fn line_field(i: usize, f: &str) -> String {
    format!("lines[{i}].{f}")
}

fn validate(req: &PlaceOrder) -> Result<(), AppError> {
    let ext = req.external_id.trim();
    // Characters, not bytes: a platform's id may be Chinese, and the column holds 128 of them.
    let chars = ext.chars().count();
    if chars == 0 || chars > 128 || ext.len() != req.external_id.len() {
        return Err(AppError::invalid("external_id", "must be 1 to 128 characters without surrounding spaces"));
    }
    if let Some(problem) = catalog::text_problem(ext, false) {
        return Err(AppError::invalid("external_id", problem));
    }
    if req.lines.is_empty() || req.lines.len() > MAX_LINES {
        return Err(AppError::invalid("lines", format!("an order has 1 to {MAX_LINES} lines")));
    }
    for (i, l) in req.lines.iter().enumerate() {
        if l.quantity.thousandths() <= 0 || l.quantity > catalog::MAX_QUANTITY {
            return Err(AppError::invalid(
                &line_field(i, "quantity"),
                format!("must be more than 0 and at most {}", catalog::MAX_QUANTITY),
            ));
        }
        match (l.unit_price, l.amount) {
            (Some(u), None) if u.is_negative() || u > catalog::MAX_PRICE => {
                return Err(AppError::invalid(
                    &line_field(i, "unit_price"),
                    format!("must be from 0 to {}", catalog::MAX_PRICE),
                ));
            }
            (None, Some(a)) => {
                crate::validate::non_negative(&line_field(i, "amount"), a)?;
            }
            (Some(_), None) => {}
            _ => {
                return Err(AppError::invalid(
                    &line_field(i, "unit_price"),
                    "give exactly one of unit_price and amount",
                ));
            }
        }
    }
    Ok(())
}

/// The local day of `at` in the deployment's time zone: the booking date unless it falls in a
/// closed period (`crate::periods::booking_day`).
pub(crate) fn local_day(app: &App, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&app.config.timezone).date_naive()
}

/// The postings of one lot part (docs/domain.md "A sale"); `sign` −1 reverses them (docs/domain.md "Refunds and cancellation").
pub(crate) fn part_entries(
    a: &Amounts,
    channel: &str,
    p: &order_part::Model,
    cooperative_id: i64,
    station_id: i64,
    sign: i64,
) -> Result<Vec<Entry>, AppError> {
    let s = |m: Money| -> Result<Money, AppError> {
        Ok(Money::from_cents(m.cents().checked_mul(sign).ok_or(hezuo_core::Overflow)?))
    };
    let e = |account: String, amount: Money| Entry { account, amount, line_id: Some(p.line_id) };
    Ok(vec![
        e(format!("channel:{channel}"), s(a.gross.checked_neg()?)?),
        e(format!("fees:channel:{channel}"), s(a.fee)?),
        e(format!("household:{}", p.household_id), s(a.household)?),
        e(format!("station:{station_id}"), s(a.station)?),
        e(format!("village:{}", p.village_id), s(a.collective)?),
        e(format!("coop:{cooperative_id}:pool"), s(a.pool)?),
    ])
}

pub(crate) fn part_amounts(p: &order_part::Model) -> Amounts {
    let m = Money::from_cents;
    Amounts {
        gross: m(p.gross),
        fee: m(p.fee),
        household: m(p.household),
        station: m(p.station),
        collective: m(p.collective),
        pool: m(p.pool),
    }
}

pub(crate) fn part_refunded(p: &order_part::Model) -> Amounts {
    let m = Money::from_cents;
    Amounts {
        gross: m(p.refunded_gross),
        fee: m(p.refunded_fee),
        household: m(p.refunded_household),
        station: m(p.refunded_station),
        collective: m(p.refunded_collective),
        pool: m(p.refunded_pool),
    }
}

/// Rows per multi-row statement: few round trips, and well under both databases' limits on
/// bind parameters for the widest table (order parts, 20 columns).
const BATCH: usize = 500;

/// Lots fetched (and locked) in the first round trip while covering an order's need, and at
/// most in any later one.
const LOT_BATCH: u64 = 8;
const MAX_LOT_BATCH: u64 = 512;

/// An open lot as the draw needs it, with its product's name and status (read in the same
/// query, which also checks that the product is the station's).
#[derive(Debug)]
struct OpenLot {
    id: i64,
    product_id: i64,
    household_id: i64,
    village_id: i64,
    remaining: i64,
    floor_price: i64,
    received_at: DateTime<Utc>,
    product_name: String,
    product_status: String,
}

impl Row for OpenLot {
    fn sea(r: &QueryResult) -> Result<Self, DbErr> {
        Ok(Self::from(<OpenLotRow as Row>::sea(r)?))
    }
    fn lite(r: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self::from(<OpenLotRow as Row>::lite(r)?))
    }
}

type OpenLotRow = (i64, i64, i64, i64, i64, i64, DateTime<Utc>, String, String);

impl From<OpenLotRow> for OpenLot {
    fn from(r: OpenLotRow) -> Self {
        OpenLot {
            id: r.0,
            product_id: r.1,
            household_id: r.2,
            village_id: r.3,
            remaining: r.4,
            floor_price: r.5,
            received_at: r.6,
            product_name: r.7,
            product_status: r.8,
        }
    }
}

/// The station's product's open lots in FIFO order, locked, until their remaining covers
/// `need` or `max_lots` are read (all of them when it cannot be covered, so that the shortfall
/// can be reported exactly). Empty when the product has no open lot or is not the station's.
/// The second value tells whether the read stopped at `max_lots` short of `need`.
async fn open_lots_covering(
    db: &impl Exec,
    station_id: i64,
    product_id: i64,
    need: i64,
    max_lots: usize,
) -> Result<(Vec<OpenLot>, bool), AppError> {
    let mut found: Vec<OpenLot> = Vec::new();
    let mut have = 0i64;
    // Few lots cover most orders; when they do not, read more at a time.
    let mut batch_size = LOT_BATCH;
    while have < need {
        if found.len() >= max_lots {
            return Ok((found, true));
        }
        let limit = std::cmp::min(batch_size, (max_lots - found.len()) as u64);
        let mut q = lot::Entity::find()
            .select_only()
            .columns([
                lot::Column::Id,
                lot::Column::ProductId,
                lot::Column::HouseholdId,
                lot::Column::VillageId,
                lot::Column::Remaining,
                lot::Column::FloorPrice,
                lot::Column::ReceivedAt,
            ])
            .column_as(product::Column::Name, "product_name")
            .column_as(product::Column::Status, "product_status")
            .join(
                JoinType::InnerJoin,
                lot::Entity::belongs_to(product::Entity).from(lot::Column::ProductId).to(product::Column::Id).into(),
            )
            .filter(lot::Column::ProductId.eq(product_id))
            .filter(product::Column::StationId.eq(station_id))
            // A literal, not a parameter: only then may the database use the partial index of
            // open lots without re-planning for every value bound (SQLite re-prepares the
            // statement; PostgreSQL's generic plan could not use the index at all).
            .filter(Expr::col(lot::Column::Remaining).gt(Expr::cust("0")))
            .order_by(lot::Column::ReceivedAt, SortOrder::Asc)
            .order_by(lot::Column::Id, SortOrder::Asc)
            .limit(limit);
        if let Some(last) = found.last() {
            // Keyset: after the last lot seen in (received_at, id) order.
            q = q.filter(
                Condition::any()
                    .add(lot::Column::ReceivedAt.gt(last.received_at))
                    .add(lot::Column::ReceivedAt.eq(last.received_at).and(lot::Column::Id.gt(last.id))),
            );
        }
        // Lock the lots only (PostgreSQL; SQLite has the writer turn).
        QueryTrait::query(&mut q).lock_with_tables(LockType::Update, [lot::Entity]);
        let batch: Vec<OpenLot> = db.rows(q.build(db.backend())).await?;
        let done = (batch.len() as u64) < limit;
        have += batch.iter().map(|l| l.remaining).sum::<i64>();
        found.extend(batch);
        if done {
            break;
        }
        batch_size = std::cmp::min(batch_size * 4, MAX_LOT_BATCH);
    }
    Ok((found, false))
}

/// What is left of a product's open lots, in thousandths (to name a shortfall exactly when
/// the lots read stopped at the per-line limit).
async fn open_stock(db: &impl Exec, product_id: i64) -> Result<i64, AppError> {
    let q = lot::Entity::find()
        .select_only()
        .column_as(Expr::cust("CAST(COALESCE(SUM(remaining), 0) AS BIGINT)"), "stock")
        .filter(lot::Column::ProductId.eq(product_id))
        .filter(Expr::col(lot::Column::Remaining).gt(Expr::cust("0")))
        .build(db.backend());
    let rows: Vec<(i64,)> = db.rows(q).await?;
    Ok(rows.first().map_or(0, |r| r.0))
}

/// The order placed, and whether this request created it.
pub struct Placed {
    pub order: OrderView,
    pub created: bool,
}

/// What an order needs before its transaction, read in one query: the station (in the
/// caller's scope), the channel of the station's alliance, an order already stored under the
/// same (channel, external_id), and the rule version in force on the local day of `placed_at`
/// (docs/domain.md "Distribution rules"; the booking date, unless that day is in a closed period).
#[derive(Debug, FromQueryResult)]
struct OrderContext {
    station_id: i64,
    alliance_id: i64,
    cooperative_id: i64,
    channel_id: Option<i64>,
    channel_code: Option<String>,
    channel_fee_rate: Option<i64>,
    existing_id: Option<i64>,
    existing_hash: Option<String>,
    household_share: Option<i64>,
    station_fee_rate: Option<i64>,
    collective_rate: Option<i64>,
    reserve_rate: Option<i64>,
    rebate_rate: Option<i64>,
    /// 1 when an enabled webhook endpoint of the alliance wants `order.created`.
    notify: i32,
}

impl OrderContext {
    fn rules(&self, day: NaiveDate) -> Result<RuleSet, AppError> {
        let rates =
            [self.household_share, self.station_fee_rate, self.collective_rate, self.reserve_rate, self.rebate_rate];
        let [Some(h), Some(s), Some(c), Some(r), Some(b)] = rates else {
            return Err(crate::setup::no_rules(day));
        };
        crate::setup::stored_rules([h, s, c, r, b])
    }
}

/// The station, channel and rules an order is booked with.
pub(crate) struct Booked {
    station_id: i64,
    alliance_id: i64,
    cooperative_id: i64,
    channel_id: i64,
    channel_code: String,
    fee_rate: hezuo_core::Rate,
    /// The rules in force on the local day of `placed_at`, if any.
    rules: Option<RuleSet>,
    /// Whether the order's `order.created` deliveries are written: only when an endpoint of the
    /// alliance wants them, as read with the context (the payload, the order's view serialized,
    /// is most of an order's CPU after its statements; BENCHMARKS.md).
    notify: bool,
}

/// One line's draw, attributed, before anything is written.
struct PlannedLine<'a> {
    req: &'a PlaceLine,
    draws: Vec<(&'a OpenLot, i64)>,
    amounts: Vec<Amounts>,
}

/// The order's lines and parts as written.
struct Written {
    lines: Vec<order_line::Model>,
    parts: Vec<order_part::Model>,
}

/// The scalar subquery of the rule version of the cooperative `coop` in force on `day`.
fn rule_version_in_force(coop: (Alias, station::Column), day: NaiveDate) -> Expr {
    Expr::SubQuery(
        None,
        Box::new(
            Query::select()
                .column((rule_version::Entity, rule_version::Column::Id))
                .from(rule_version::Entity)
                .and_where(Expr::col((rule_version::Entity, rule_version::Column::CooperativeId)).equals(coop))
                .and_where(Expr::col((rule_version::Entity, rule_version::Column::EffectiveFrom)).lte(day))
                .order_by((rule_version::Entity, rule_version::Column::EffectiveFrom), SortOrder::Desc)
                .limit(1)
                .to_owned()
                .into(),
        ),
    )
}

impl App {
    pub async fn place_order(&self, p: &Principal, actor: &Actor, req: PlaceOrder) -> Result<Placed, AppError> {
        let placed = self.place_order_once(p, actor, req).await;
        self.metrics.order_placed(&placed);
        placed
    }

    async fn place_order_once(&self, p: &Principal, actor: &Actor, req: PlaceOrder) -> Result<Placed, AppError> {
        order_writer(p)?;
        validate(&req)?;
        // Microseconds, as both databases store them.
        let placed_at = chrono::SubsecRound::trunc_subsecs(req.placed_at.with_timezone(&Utc), 6);
        let local = local_day(self, placed_at);
        let cx = self.order_context(p, &req, local).await?;
        let (Some(channel_id), Some(channel_code), Some(fee_rate)) =
            (cx.channel_id, cx.channel_code.as_deref(), cx.channel_fee_rate)
        else {
            return Err(AppError::unknown_reference("channel", "channel of the station's alliance"));
        };
        let hash = request_hash(&req);
        if let (Some(id), Some(stored)) = (cx.existing_id, cx.existing_hash.as_deref()) {
            return self.replay(p, id, stored, &hash).await;
        }
        let external_id = req.external_id.clone();
        let intake = Intake {
            actor: *actor,
            booked: Booked {
                station_id: cx.station_id,
                alliance_id: cx.alliance_id,
                cooperative_id: cx.cooperative_id,
                channel_id,
                channel_code: channel_code.to_owned(),
                fee_rate: crate::setup::stored_rate(fee_rate)?,
                rules: cx.rules(local).ok(),
                notify: cx.notify != 0,
            },
            hash: hash.clone(),
            placed_at,
            local,
            req,
        };
        let booked = match &self.intake {
            Some(writer) => writer.book(intake).await,
            None => {
                let _turn = self.write_turn().await;
                let txn = self.db.begin().await?;
                let booked = book_order(&txn, &intake).await;
                crate::finish(txn, booked).await
            }
        };
        match booked {
            Ok(order) => {
                self.wake_webhooks();
                Ok(Placed { order, created: true })
            }
            Err(e @ (AppError::Conflict { .. } | AppError::Invalid { .. })) => {
                // A concurrent request with the same (channel, external_id) may have won the
                // race: its twin then fails on the key, or finds the stock already taken. Either
                // way the answer is the order that exists.
                let existing = order::Entity::find()
                    .filter(order::Column::ChannelId.eq(channel_id))
                    .filter(order::Column::ExternalId.eq(external_id.as_str()))
                    .one(&self.db)
                    .await?;
                match existing {
                    Some(o) => self.replay(p, o.id, &o.request_hash, &hash).await,
                    None => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Reads the [`OrderContext`]: 422 naming `station_id` for a station out of scope, and
    /// `channel` (later) for a channel that is not the station's alliance's.
    async fn order_context(&self, p: &Principal, req: &PlaceOrder, day: NaiveDate) -> Result<OrderContext, AppError> {
        let (s, c, o, r) = (Alias::new("s"), Alias::new("c"), Alias::new("o"), Alias::new("r"));
        // The station through the same scope condition as every station read.
        let st = Query::select()
            .columns([station::Column::Id, station::Column::AllianceId, station::Column::CooperativeId])
            .from(station::Entity)
            .and_where(Expr::col(station::Column::Id).eq(req.station_id))
            .cond_where(scope::stations(p)?)
            .to_owned();
        let col = |t: &Alias, c: &str| Expr::col((t.clone(), Alias::new(c)));
        let q = Query::select()
            .expr_as(col(&s, "id"), "station_id")
            .expr_as(col(&s, "alliance_id"), "alliance_id")
            .expr_as(col(&s, "cooperative_id"), "cooperative_id")
            .expr_as(col(&c, "id"), "channel_id")
            .expr_as(col(&c, "code"), "channel_code")
            .expr_as(col(&c, "fee_rate"), "channel_fee_rate")
            .expr_as(col(&o, "id"), "existing_id")
            .expr_as(col(&o, "request_hash"), "existing_hash")
            .expr_as(col(&r, "household_share"), "household_share")
            .expr_as(col(&r, "station_fee_rate"), "station_fee_rate")
            .expr_as(col(&r, "collective_rate"), "collective_rate")
            .expr_as(col(&r, "reserve_rate"), "reserve_rate")
            .expr_as(col(&r, "rebate_rate"), "rebate_rate")
            .expr_as(
                crate::webhooks::outbox::wanted(crate::webhooks::Event::OrderCreated, col(&s, "alliance_id")),
                "notify",
            )
            .from_subquery(st, s.clone())
            .join_as(
                JoinType::LeftJoin,
                channel::Entity,
                c.clone(),
                Condition::all()
                    .add(col(&c, "alliance_id").equals((s.clone(), station::Column::AllianceId)))
                    .add(col(&c, "code").eq(req.channel.as_str())),
            )
            .join_as(
                JoinType::LeftJoin,
                order::Entity,
                o.clone(),
                Condition::all()
                    .add(col(&o, "channel_id").equals((c.clone(), channel::Column::Id)))
                    .add(col(&o, "external_id").eq(req.external_id.as_str())),
            )
            .join_as(
                JoinType::LeftJoin,
                rule_version::Entity,
                r.clone(),
                col(&r, "id").eq(rule_version_in_force((s.clone(), station::Column::CooperativeId), day)),
            )
            .to_owned();
        let backend = self.db.get_database_backend();
        OrderContext::find_by_statement(backend.build(&q))
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::unknown_reference("station_id", "station"))
    }

    /// The answer to a request for an order that exists: the same body is the same order (200),
    /// another body is a conflict (409).
    async fn replay(&self, p: &Principal, id: i64, stored_hash: &str, hash: &str) -> Result<Placed, AppError> {
        if stored_hash != hash {
            return Err(AppError::conflict(
                "order_conflict",
                "an order with this channel and external_id exists with a different body",
            ));
        }
        Ok(Placed { order: self.get_order(p, id).await?, created: false })
    }
}

/// Everything an order's transaction needs, owned: it may run on the SQLite order writer's
/// thread.
pub(crate) struct Intake {
    actor: Actor,
    req: PlaceOrder,
    booked: Booked,
    hash: String,
    placed_at: DateTime<Utc>,
    local: NaiveDate,
}

/// Writes the order in the caller's transaction; the view is built from what was written (no
/// read-back). In steps: the ids and the booking date, the order row, the lots locked, the
/// products checked, every line drawn and attributed, then all writes at once.
pub(crate) async fn book_order(db: &impl Exec, intake: &Intake) -> Result<OrderView, AppError> {
    let Intake { actor, req, booked: ctx, hash, placed_at, local } = intake;
    let ids = order_ids(db, ctx.cooperative_id, req.lines.len()).await?;
    let day = crate::periods::day_after_close(ids.closed_through, *local);
    let rules = match ctx.rules {
        Some(r) if day == *local => r,
        _ => crate::periods::rule_version_on(db, ctx.cooperative_id, day).await?.1,
    };
    let o = order_row(ctx, req, hash, ids.order, *placed_at, day)?;
    let (lots, capped) = lock_open_lots(db, ctx.station_id, &req.lines).await?;
    let products = listed_products(db, ctx.station_id, &req.lines, &lots).await?;
    let (planned, taken) = plan_lines(db, ctx, &rules, &req.lines, &lots, &capped, &products).await?;
    let mut writes = Writes::default();
    let written = order_writes(&mut writes, &o, ctx, actor, &ids, &planned, &taken)?;
    let view = super::view_of(o, ctx.channel_code.to_owned(), written.lines, &written.parts)?;
    if ctx.notify {
        writes.insert(order_created(ctx, &view)?);
    }
    writes.run(db).await?;
    Ok(view)
}

/// The order's `order.created` deliveries (`crate::webhooks::outbox`), written with it.
fn order_created(ctx: &Booked, view: &OrderView) -> Result<InsertStatement, AppError> {
    use crate::webhooks::{Event, outbox};
    let at = now();
    let payload = outbox::payload(Event::OrderCreated, at, view)?;
    Ok(outbox::insert(Event::OrderCreated, view.id, outbox::Audience::Alliance(ctx.alliance_id), payload, at))
}

/// The order row: its totals from the lines (docs/domain.md "A sale").
fn order_row(
    ctx: &Booked,
    req: &PlaceOrder,
    hash: &str,
    id: i64,
    placed_at: DateTime<Utc>,
    day: NaiveDate,
) -> Result<order::Model, AppError> {
    let mut totals = (Money::ZERO, Money::ZERO);
    for l in &req.lines {
        let g = l.gross()?;
        let f = Money::round(ctx.fee_rate.to_decimal() * g.to_decimal())?;
        totals = (totals.0.checked_add(g)?, totals.1.checked_add(f)?);
    }
    let t = now();
    Ok(order::Model {
        id,
        station_id: ctx.station_id,
        alliance_id: ctx.alliance_id,
        cooperative_id: ctx.cooperative_id,
        channel_id: ctx.channel_id,
        external_id: req.external_id.clone(),
        request_hash: hash.to_owned(),
        placed_at,
        booking_date: day,
        status: OrderStatus::Placed.as_str().to_owned(),
        tracking_number: None,
        payment_method: req.payment_method.map(|m| m.as_str().to_owned()),
        gross: totals.0.cents(),
        fee: totals.1.cents(),
        refunded: 0,
        created_at: t,
        updated_at: t,
    })
}

/// Locks only the lots the order can draw: per product (in id order, so concurrent orders lock
/// in one order and cannot deadlock), the oldest open lots until they cover what the order's
/// lines need of it. Also the products whose lots were more than a line may draw on.
async fn lock_open_lots(
    db: &impl Exec,
    station_id: i64,
    lines: &[PlaceLine],
) -> Result<(Vec<OpenLot>, Vec<i64>), AppError> {
    let mut product_ids: Vec<i64> = lines.iter().map(|l| l.product_id).collect();
    product_ids.sort_unstable();
    product_ids.dedup();
    let mut lots: Vec<OpenLot> = Vec::new();
    let mut capped: Vec<i64> = Vec::new();
    for pid in &product_ids {
        let lines = lines.iter().filter(|l| l.product_id == *pid);
        let need: i64 = lines.clone().map(|l| l.quantity.thousandths()).sum();
        let max_lots = lines.count() * catalog::MAX_LOT_PARTS_PER_LINE + 1;
        let (found, stopped) = open_lots_covering(db, station_id, *pid, need, max_lots).await?;
        if stopped {
            capped.push(*pid);
        }
        lots.extend(found);
    }
    Ok((lots, capped))
}

/// The name and status of each product of the lines (those without an open lot read on their
/// own): every one must be the station's (422 `unknown_reference`) and listed (422
/// `product_not_listed`).
async fn listed_products(
    db: &impl Exec,
    station_id: i64,
    lines: &[PlaceLine],
    lots: &[OpenLot],
) -> Result<HashMap<i64, (String, String)>, AppError> {
    let mut product_ids: Vec<i64> = lines.iter().map(|l| l.product_id).collect();
    product_ids.sort_unstable();
    product_ids.dedup();
    let mut products: HashMap<i64, (String, String)> =
        lots.iter().map(|l| (l.product_id, (l.product_name.clone(), l.product_status.clone()))).collect();
    let unseen: Vec<i64> = product_ids.iter().copied().filter(|id| !products.contains_key(id)).collect();
    if !unseen.is_empty() {
        let q = product::Entity::find()
            .select_only()
            .columns([product::Column::Id, product::Column::Name, product::Column::Status])
            .filter(product::Column::Id.is_in(unseen))
            .filter(product::Column::StationId.eq(station_id))
            .build(db.backend());
        let rows: Vec<(i64, String, String)> = db.rows(q).await?;
        products.extend(rows.into_iter().map(|(id, name, status)| (id, (name, status))));
    }
    for (i, l) in lines.iter().enumerate() {
        match products.get(&l.product_id) {
            None => {
                return Err(AppError::unknown_reference(&line_field(i, "product_id"), "product of the station"));
            }
            Some((name, status)) if status != ProductStatus::Listed.as_str() => {
                return Err(AppError::Invalid {
                    code: "product_not_listed",
                    field: Some(line_field(i, "product_id")),
                    message: format!("{name} is {status}, not listed"),
                });
            }
            Some(_) => {}
        }
    }
    Ok(products)
}

/// Draws and attributes every line before anything is written: which lots each line takes
/// (FIFO), the amounts of each part, and what is taken from each lot.
async fn plan_lines<'a>(
    db: &impl Exec,
    ctx: &Booked,
    rules: &RuleSet,
    lines: &'a [PlaceLine],
    lots: &'a [OpenLot],
    capped: &[i64],
    products: &HashMap<i64, (String, String)>,
) -> Result<(Vec<PlannedLine<'a>>, BTreeMap<i64, i64>), AppError> {
    let index: HashMap<i64, &OpenLot> = lots.iter().map(|l| (l.id, l)).collect();
    let mut left: HashMap<i64, i64> = lots.iter().map(|l| (l.id, l.remaining)).collect();
    let mut taken: BTreeMap<i64, i64> = BTreeMap::new();
    let mut planned = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        let candidates: Vec<(i64, Quantity)> = lots
            .iter()
            .filter(|x| x.product_id == l.product_id)
            .map(|x| (x.id, Quantity::from_thousandths(left.get(&x.id).copied().unwrap_or(0))))
            .collect();
        let drawn = catalog::fifo_draw(&candidates, l.quantity);
        let mut exact_available = None;
        if drawn.as_ref().map_or(capped.contains(&l.product_id), |d| d.len() > catalog::MAX_LOT_PARTS_PER_LINE) {
            // More lots than a line may draw on, unless there is not enough stock at all.
            let taken_before: i64 =
                lots.iter().filter(|x| x.product_id == l.product_id).filter_map(|x| taken.get(&x.id)).sum();
            let available = open_stock(db, l.product_id).await? - taken_before;
            exact_available = Some(Quantity::from_thousandths(std::cmp::max(available, 0)));
            if available >= l.quantity.thousandths() {
                return Err(AppError::Invalid {
                    code: "too_many_lots",
                    field: Some(line_field(i, "quantity")),
                    message: format!(
                        "this line would draw on more than {} lots of product {}; split the order into smaller lines",
                        catalog::MAX_LOT_PARTS_PER_LINE,
                        l.product_id
                    ),
                });
            }
        }
        let draws: Vec<(&OpenLot, i64)> = match drawn {
            Ok(d) => d.into_iter().filter_map(|(id, q)| index.get(&id).map(|lt| (*lt, q.thousandths()))).collect(),
            Err(available) => {
                let available = exact_available.unwrap_or(available);
                let name = products.get(&l.product_id).map_or("", |p| p.0.as_str());
                return Err(AppError::Invalid {
                    code: "insufficient_stock",
                    field: Some(line_field(i, "quantity")),
                    message: format!(
                        "{name} (product {}): {available} available, {} ordered",
                        l.product_id, l.quantity
                    ),
                });
            }
        };
        for (lt, q) in &draws {
            *left.entry(lt.id).or_default() -= q;
            *taken.entry(lt.id).or_default() += q;
        }
        let pure: Vec<Draw> = draws
            .iter()
            .map(|(lt, q)| Draw {
                quantity: Quantity::from_thousandths(*q),
                floor_price: Money::from_cents(lt.floor_price),
            })
            .collect();
        let amounts =
            attribute_gross(l.gross()?, ctx.fee_rate, rules, &pure).map_err(|e| AppError::Internal(e.to_string()))?;
        planned.push(PlannedLine { req: l, draws, amounts });
    }
    Ok((planned, taken))
}

/// Every write of the order, ids included: the order row, its lines and parts, the lots drawn,
/// the sale movements and the ledger booking (postings, day sums, bases, report sums).
fn order_writes(
    writes: &mut Writes,
    o: &order::Model,
    ctx: &Booked,
    actor: &Actor,
    ids: &OrderIds,
    planned: &[PlannedLine<'_>],
    taken: &BTreeMap<i64, i64>,
) -> Result<Written, AppError> {
    let t = o.created_at;
    // The order row first.
    let mut row: order::ActiveModel = o.clone().into();
    row.id = Set(o.id);
    writes.insert(order::Entity::insert(row).into_query());
    let written = write_lines(writes, o, &ids.lines, planned)?;
    draw_lots(writes, taken);
    let mut movements = Vec::with_capacity(written.parts.len());
    let mut entries = Vec::with_capacity(written.parts.len() * 6);
    let mut basis = Vec::with_capacity(written.parts.len());
    // Parts were written in plan order: line by line, draw by draw.
    let plan = planned.iter().flat_map(|pl| pl.amounts.iter().map(move |a| (pl.req.product_id, a)));
    for (part, (product_id, a)) in written.parts.iter().zip(plan) {
        entries.extend(part_entries(a, &ctx.channel_code, part, ctx.cooperative_id, ctx.station_id, 1)?);
        basis.push((part.household_id, a.gross.checked_sub(a.fee)?));
        movements.push(stock_movement::ActiveModel {
            lot_id: Set(part.lot_id),
            product_id: Set(product_id),
            kind: Set(MovementKind::Sale.as_str().to_owned()),
            quantity: Set(-part.quantity),
            reason: Set(None),
            note: Set(None),
            order_line_id: Set(Some(part.line_id)),
            actor_user_id: Set(actor.user_id),
            actor_token_id: Set(actor.token_id),
            created_at: Set(t),
            ..Default::default()
        });
    }
    for chunk in movements.chunks(BATCH) {
        writes.insert(stock_movement::Entity::insert_many(chunk.to_vec()).into_query());
    }
    let sales = written
        .lines
        .iter()
        .map(|l| SalesDelta {
            station_id: ctx.station_id,
            product_id: l.product_id,
            channel_id: ctx.channel_id,
            orders: i64::from(l.line_no == 1),
            quantity: l.quantity,
            gross: l.gross,
            fee: l.fee,
            refunded: 0,
        })
        .collect();
    booking_writes(
        writes,
        ids.transaction,
        Booking {
            kind: "sale",
            cooperative_id: ctx.cooperative_id,
            alliance_id: ctx.alliance_id,
            order_id: Some(o.id),
            refund_id: None,
            booking_date: o.booking_date,
            memo: format!("order {} {}:{}", o.id, ctx.channel_code, o.external_id),
            basis,
            sales,
        },
        entries,
    )?;
    Ok(written)
}

/// The order's lines (with the ids `line_ids`, in line order) and their lot parts.
fn write_lines(
    writes: &mut Writes,
    o: &order::Model,
    line_ids: &[i64],
    planned: &[PlannedLine<'_>],
) -> Result<Written, AppError> {
    if line_ids.len() != planned.len() {
        return Err(AppError::Internal(format!("{} line ids for {} lines", line_ids.len(), planned.len())));
    }
    let lines: Vec<order_line::Model> = planned
        .iter()
        .zip(line_ids)
        .enumerate()
        .map(|(i, (pl, id))| {
            Ok(order_line::Model {
                id: *id,
                order_id: o.id,
                line_no: i as i32 + 1,
                product_id: pl.req.product_id,
                quantity: pl.req.quantity.thousandths(),
                unit_price: pl.req.shown_unit_price()?.cents(),
                gross: pl.amounts.iter().map(|a| a.gross.cents()).sum(),
                fee: pl.amounts.iter().map(|a| a.fee.cents()).sum(),
                refunded: 0,
                returned: 0,
            })
        })
        .collect::<Result<_, AppError>>()?;
    let rows = lines.iter().map(|l| {
        let mut am: order_line::ActiveModel = l.clone().into();
        am.id = Set(l.id);
        am
    });
    // At most MAX_LINES rows: one statement.
    writes.insert(order_line::Entity::insert_many(rows).into_query());
    let mut parts = Vec::new();
    for (line, pl) in lines.iter().zip(planned) {
        for (seq, ((lt, q), a)) in pl.draws.iter().zip(&pl.amounts).enumerate() {
            parts.push(order_part::Model {
                id: 0,
                order_id: o.id,
                line_id: line.id,
                seq: seq as i32,
                lot_id: lt.id,
                household_id: lt.household_id,
                village_id: lt.village_id,
                booking_date: o.booking_date,
                quantity: *q,
                returned: 0,
                gross: a.gross.cents(),
                fee: a.fee.cents(),
                household: a.household.cents(),
                station: a.station.cents(),
                collective: a.collective.cents(),
                pool: a.pool.cents(),
                refunded_gross: 0,
                refunded_fee: 0,
                refunded_household: 0,
                refunded_station: 0,
                refunded_collective: 0,
                refunded_pool: 0,
            });
        }
    }
    let rows: Vec<order_part::ActiveModel> = parts
        .iter()
        .map(|p| {
            let mut am: order_part::ActiveModel = p.clone().into();
            am.id = NotSet;
            am
        })
        .collect();
    for chunk in rows.chunks(BATCH) {
        writes.insert(order_part::Entity::insert_many(chunk.to_vec()).into_query());
    }
    Ok(Written { lines, parts })
}

/// Takes what the order drew from each lot (locked above), in as few statements as possible;
/// each lot's decrement stays guarded so that it can never go below zero.
fn draw_lots(writes: &mut Writes, taken: &BTreeMap<i64, i64>) {
    let taken: Vec<(i64, i64)> = taken.iter().map(|(id, q)| (*id, *q)).collect();
    for chunk in taken.chunks(BATCH) {
        let by_lot = chunk.iter().fold(CaseStatement::new(), |c, (id, q)| c.case(lot::Column::Id.eq(*id), *q));
        let by_lot: Expr = by_lot.into();
        let update = lot::Entity::update_many()
            .col_expr(lot::Column::Remaining, Expr::col(lot::Column::Remaining).sub(by_lot.clone()))
            .filter(lot::Column::Id.is_in(chunk.iter().map(|(id, _)| *id)))
            .filter(Expr::col(lot::Column::Remaining).gte(by_lot))
            .into_query();
        writes.update(update, chunk.len() as u64);
    }
}

/// What an order's transaction reads first, in one query: the cooperative's closed-through date
/// (for the booking date, read under its lock against a concurrent close, as
/// [`crate::periods::booking_day`]), and the ids of the order, its lines and its ledger
/// transaction ([`exec::next_id`]).
struct OrderIds {
    closed_through: Option<NaiveDate>,
    order: i64,
    transaction: i64,
    lines: Vec<i64>,
}

async fn order_ids(db: &impl Exec, cooperative_id: i64, lines: usize) -> Result<OrderIds, AppError> {
    let backend = db.backend();
    let (o, t, l) = (
        exec::next_id(backend, order::Entity.table_name()),
        exec::next_id(backend, ledger_transaction::Entity.table_name()),
        exec::next_id(backend, order_line::Entity.table_name()),
    );
    let n = i64::try_from(lines).map_err(|_| AppError::Internal("line count".into()))?;
    let missing = || AppError::Internal(format!("cooperative {cooperative_id} not found"));
    if backend == DbBackend::Postgres {
        // One row per line, each with its own line id; the CTEs are evaluated once.
        let sql = format!(
            "WITH c AS MATERIALIZED (SELECT closed_through FROM cooperatives WHERE id = $1 FOR KEY SHARE), \
             k AS MATERIALIZED (SELECT {o} AS o, {t} AS t) \
             SELECT c.closed_through, k.o, k.t, {l} FROM c, k, generate_series(1, $2)"
        );
        let rows: Vec<(Option<NaiveDate>, i64, i64, i64)> =
            db.rows(Statement::from_sql_and_values(backend, sql, [cooperative_id.into(), n.into()])).await?;
        let &(closed_through, order, transaction, _) = rows.first().ok_or_else(missing)?;
        Ok(OrderIds { closed_through, order, transaction, lines: rows.iter().map(|r| r.3).collect() })
    } else {
        // The writer's transaction holds the write lock: the lines' ids are consecutive.
        let sql = format!("SELECT closed_through, {o}, {t}, {l} FROM cooperatives WHERE id = ?");
        let (closed_through, order, transaction, first): (Option<NaiveDate>, i64, i64, i64) =
            db.row(Statement::from_sql_and_values(backend, sql, [cooperative_id.into()])).await?.ok_or_else(missing)?;
        Ok(OrderIds { closed_through, order, transaction, lines: (first..first + n).collect() })
    }
}
