//! `POST /orders`: validation, idempotency on (channel, external_id), FIFO lot draw,
//! attribution and postings — one transaction.

use super::{OrderStatus, OrderView, order_writer};
use crate::catalog::readable_station_of;
use crate::ledger::{Booking, Entry, book};
use crate::{Actor, App, AppError, Principal, now};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use hezuo_catalog::{self as catalog, MovementKind, ProductStatus};
use hezuo_core::{Money, Quantity};
use hezuo_db::entities::{channel, lot, order, order_line, order_part, product, stock_movement};
use hezuo_db::sea_orm::sea_query::{Expr, ExprTrait};
use hezuo_db::sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, Order as SortOrder, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use hezuo_ledger::{Amounts, Draw, attribute_line, gross};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub const MAX_LINES: usize = 100;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrder {
    pub station_id: i64,
    /// Channel code of the station's alliance: `own`, `taobao` …
    pub channel: String,
    /// The order's id in its channel; with the channel it identifies the order.
    pub external_id: String,
    /// RFC 3339 with offset.
    #[schema(value_type = String, format = DateTime)]
    pub placed_at: DateTime<FixedOffset>,
    /// 1 to 100 lines.
    pub lines: Vec<PlaceLine>,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceLine {
    pub product_id: i64,
    /// More than 0, at most 3 decimals.
    pub quantity: Quantity,
    /// 0 or more, at most 2 decimals.
    pub unit_price: Money,
}

/// The fingerprint of a request: the same order sent again has the same one.
fn request_hash(req: &PlaceOrder) -> String {
    #[derive(Serialize)]
    struct Canonical<'a> {
        station_id: i64,
        channel: &'a str,
        external_id: &'a str,
        placed_at: i64,
        lines: Vec<(i64, i64, i64)>,
    }
    let c = Canonical {
        station_id: req.station_id,
        channel: &req.channel,
        external_id: &req.external_id,
        placed_at: req.placed_at.timestamp_micros(),
        lines: req.lines.iter().map(|l| (l.product_id, l.quantity.thousandths(), l.unit_price.cents())).collect(),
    };
    hex::encode(Sha256::digest(serde_json::to_vec(&c).unwrap_or_default()))
}

fn line_field(i: usize, f: &str) -> String {
    format!("lines[{i}].{f}")
}

fn validate(req: &PlaceOrder) -> Result<(), AppError> {
    let ext = req.external_id.trim();
    if ext.is_empty() || ext.len() > 128 || ext.len() != req.external_id.len() || ext.chars().any(char::is_control) {
        return Err(AppError::invalid("external_id", "must be 1 to 128 characters without surrounding spaces"));
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
        if l.unit_price.is_negative() || l.unit_price > catalog::MAX_PRICE {
            return Err(AppError::invalid(
                &line_field(i, "unit_price"),
                format!("must be from 0 to {}", catalog::MAX_PRICE),
            ));
        }
    }
    Ok(())
}

/// The rule version in force on `day` (SPEC §3).
/// The local day of `at` in the deployment's time zone: the booking date unless it falls in a
/// closed period (`crate::periods::booking_day`).
pub(crate) fn local_day(app: &App, at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&app.config.timezone).date_naive()
}

/// The postings of one lot part (SPEC §4); `sign` −1 reverses them (SPEC §5).
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

/// Lots fetched (and locked) per round trip while covering an order's need.
const LOT_BATCH: u64 = 8;

/// The product's open lots in FIFO order, locked, until their remaining covers `need` (all of
/// them when it cannot be covered, so that the shortfall can be reported exactly).
async fn open_lots_covering(
    txn: &DatabaseTransaction,
    product_id: i64,
    need: i64,
) -> Result<Vec<lot::Model>, AppError> {
    let mut found: Vec<lot::Model> = Vec::new();
    let mut have = 0i64;
    while have < need {
        let mut q = lot::Entity::find()
            .filter(lot::Column::ProductId.eq(product_id))
            .filter(lot::Column::Remaining.gt(0))
            .order_by(lot::Column::ReceivedAt, SortOrder::Asc)
            .order_by(lot::Column::Id, SortOrder::Asc)
            .limit(LOT_BATCH)
            .lock_exclusive();
        if let Some(last) = found.last() {
            // Keyset: after the last lot seen in (received_at, id) order.
            q = q.filter(
                hezuo_db::sea_orm::Condition::any()
                    .add(lot::Column::ReceivedAt.gt(last.received_at))
                    .add(lot::Column::ReceivedAt.eq(last.received_at).and(lot::Column::Id.gt(last.id))),
            );
        }
        let batch = q.all(txn).await?;
        let done = (batch.len() as u64) < LOT_BATCH;
        have += batch.iter().map(|l| l.remaining).sum::<i64>();
        found.extend(batch);
        if done {
            break;
        }
    }
    Ok(found)
}

/// The order placed, and whether this request created it.
pub struct Placed {
    pub order: OrderView,
    pub created: bool,
}

impl App {
    pub async fn place_order(&self, p: &Principal, actor: &Actor, req: PlaceOrder) -> Result<Placed, AppError> {
        order_writer(p)?;
        validate(&req)?;
        let st = readable_station_of(&self.db, p, req.station_id, "station_id").await?;
        let ch = channel::Entity::find()
            .filter(channel::Column::AllianceId.eq(st.alliance_id))
            .filter(channel::Column::Code.eq(req.channel.as_str()))
            .one(&self.db)
            .await?
            .ok_or_else(|| AppError::unknown_reference("channel", "channel of the station's alliance"))?;
        let hash = request_hash(&req);
        if let Some(existing) = self.existing_order(ch.id, &req.external_id).await? {
            return self.replay(p, existing, &hash).await;
        }
        // Microseconds, as both databases store them.
        let placed_at = chrono::SubsecRound::trunc_subsecs(req.placed_at.with_timezone(&Utc), 6);
        let local = local_day(self, placed_at);
        let fee_rate = crate::setup::stored_rate(ch.fee_rate)?;

        let booked = {
            let _turn = self.write_turn().await;
            let txn = self.db.begin().await?;
            let booked = self.book_order(&txn, actor, &req, &st, &ch, &hash, placed_at, local, fee_rate).await;
            match booked {
                Ok(id) => txn.commit().await.map(|_| Ok(id))?,
                Err(e) => {
                    txn.rollback().await?;
                    Err(e)
                }
            }
        };
        match booked {
            Ok(id) => Ok(Placed { order: self.get_order(p, id).await?, created: true }),
            Err(AppError::Conflict { code: "already_exists", .. }) => {
                // A concurrent request with the same (channel, external_id) won the race.
                let existing = self
                    .existing_order(ch.id, &req.external_id)
                    .await?
                    .ok_or(AppError::Internal("order vanished".into()))?;
                self.replay(p, existing, &hash).await
            }
            Err(e) => Err(e),
        }
    }

    async fn existing_order(&self, channel_id: i64, external_id: &str) -> Result<Option<order::Model>, AppError> {
        Ok(order::Entity::find()
            .filter(order::Column::ChannelId.eq(channel_id))
            .filter(order::Column::ExternalId.eq(external_id))
            .one(&self.db)
            .await?)
    }

    async fn replay(&self, p: &Principal, existing: order::Model, hash: &str) -> Result<Placed, AppError> {
        if existing.request_hash != hash {
            return Err(AppError::conflict(
                "order_conflict",
                "an order with this channel and external_id exists with a different body",
            ));
        }
        let id = existing.id;
        self.find_order(p, id).await?;
        Ok(Placed { order: self.get_order(p, id).await?, created: false })
    }

    #[allow(clippy::too_many_arguments)]
    async fn book_order(
        &self,
        txn: &DatabaseTransaction,
        actor: &Actor,
        req: &PlaceOrder,
        st: &hezuo_db::entities::station::Model,
        ch: &channel::Model,
        hash: &str,
        placed_at: DateTime<Utc>,
        local: NaiveDate,
        fee_rate: hezuo_core::Rate,
    ) -> Result<i64, AppError> {
        let day = crate::periods::booking_day(txn, st.cooperative_id, local).await?;
        let (_, rules) = crate::periods::rule_version_on(txn, st.cooperative_id, day).await?;
        let rules = &rules;
        let mut totals = (Money::ZERO, Money::ZERO);
        for l in &req.lines {
            let g = gross(l.quantity, l.unit_price)?;
            let f = Money::round(fee_rate.to_decimal() * g.to_decimal())?;
            totals = (totals.0.checked_add(g)?, totals.1.checked_add(f)?);
        }
        let t = now();
        // The order row first: it claims (channel, external_id), and on SQLite the first write
        // takes the database's write lock for the whole transaction.
        let o = order::ActiveModel {
            station_id: Set(st.id),
            alliance_id: Set(st.alliance_id),
            cooperative_id: Set(st.cooperative_id),
            channel_id: Set(ch.id),
            external_id: Set(req.external_id.clone()),
            request_hash: Set(hash.to_owned()),
            placed_at: Set(placed_at),
            booking_date: Set(day),
            status: Set(OrderStatus::Placed.as_str().to_owned()),
            tracking_number: Set(None),
            gross: Set(totals.0.cents()),
            fee: Set(totals.1.cents()),
            refunded: Set(0),
            created_at: Set(t),
            updated_at: Set(t),
            ..Default::default()
        }
        .insert(txn)
        .await?;

        let mut product_ids: Vec<i64> = req.lines.iter().map(|l| l.product_id).collect();
        product_ids.sort_unstable();
        product_ids.dedup();
        let products: HashMap<i64, product::Model> = product::Entity::find()
            .filter(product::Column::Id.is_in(product_ids.clone()))
            .filter(product::Column::StationId.eq(st.id))
            .all(txn)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        for (i, l) in req.lines.iter().enumerate() {
            match products.get(&l.product_id) {
                None => {
                    return Err(AppError::unknown_reference(&line_field(i, "product_id"), "product of the station"));
                }
                Some(p) if p.status != ProductStatus::Listed.as_str() => {
                    return Err(AppError::Invalid {
                        code: "product_not_listed",
                        field: Some(line_field(i, "product_id")),
                        message: format!("{} is {}, not listed", p.name, p.status),
                    });
                }
                Some(_) => {}
            }
        }
        // Lock only the lots the order can draw: per product (in id order, so concurrent
        // orders lock in one order and cannot deadlock), the oldest open lots until they cover
        // what the order's lines need of it.
        let mut lots: Vec<lot::Model> = Vec::new();
        for pid in &product_ids {
            let need: i64 = req.lines.iter().filter(|l| l.product_id == *pid).map(|l| l.quantity.thousandths()).sum();
            lots.extend(open_lots_covering(txn, *pid, need).await?);
        }
        let mut left: HashMap<i64, i64> = lots.iter().map(|l| (l.id, l.remaining)).collect();
        let mut taken: HashMap<i64, i64> = HashMap::new();
        let mut entries = Vec::new();
        let mut basis = Vec::new();
        let mut movements = Vec::new();
        for (i, l) in req.lines.iter().enumerate() {
            let candidates: Vec<(i64, Quantity)> = lots
                .iter()
                .filter(|x| x.product_id == l.product_id)
                .map(|x| (x.id, Quantity::from_thousandths(left.get(&x.id).copied().unwrap_or(0))))
                .collect();
            let draws: Vec<(&lot::Model, i64)> = match catalog::fifo_draw(&candidates, l.quantity) {
                Ok(d) => d
                    .into_iter()
                    .filter_map(|(id, q)| lots.iter().find(|x| x.id == id).map(|lt| (lt, q.thousandths())))
                    .collect(),
                Err(available) => {
                    let name = products.get(&l.product_id).map_or("", |p| p.name.as_str());
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
            let amounts = attribute_line(l.quantity, l.unit_price, fee_rate, rules, &pure)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            let g: i64 = amounts.iter().map(|a| a.gross.cents()).sum();
            let f: i64 = amounts.iter().map(|a| a.fee.cents()).sum();
            let line = order_line::ActiveModel {
                order_id: Set(o.id),
                line_no: Set(i as i32 + 1),
                product_id: Set(l.product_id),
                quantity: Set(l.quantity.thousandths()),
                unit_price: Set(l.unit_price.cents()),
                gross: Set(g),
                fee: Set(f),
                refunded: Set(0),
                returned: Set(0),
                ..Default::default()
            }
            .insert(txn)
            .await?;
            let mut part_rows = Vec::with_capacity(draws.len());
            for (seq, ((lt, q), a)) in draws.iter().zip(&amounts).enumerate() {
                let part = order_part::Model {
                    id: 0,
                    order_id: o.id,
                    line_id: line.id,
                    seq: seq as i32,
                    lot_id: lt.id,
                    household_id: lt.household_id,
                    village_id: lt.village_id,
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
                };
                entries.extend(part_entries(a, &ch.code, &part, st.cooperative_id, st.id, 1)?);
                basis.push((lt.household_id, a.gross.checked_sub(a.fee)?));
                movements.push(stock_movement::ActiveModel {
                    lot_id: Set(lt.id),
                    product_id: Set(lt.product_id),
                    kind: Set(MovementKind::Sale.as_str().to_owned()),
                    quantity: Set(-q),
                    reason: Set(None),
                    note: Set(None),
                    order_line_id: Set(Some(line.id)),
                    actor_user_id: Set(actor.user_id),
                    actor_token_id: Set(actor.token_id),
                    created_at: Set(t),
                    ..Default::default()
                });
                let mut am: order_part::ActiveModel = part.into();
                am.id = hezuo_db::sea_orm::ActiveValue::NotSet;
                part_rows.push(am);
            }
            order_part::Entity::insert_many(part_rows).exec(txn).await?;
        }
        let mut lot_ids: Vec<(&i64, &i64)> = taken.iter().collect();
        lot_ids.sort();
        for (lot_id, q) in lot_ids {
            let done = lot::Entity::update_many()
                .col_expr(lot::Column::Remaining, Expr::col(lot::Column::Remaining).sub(*q))
                .filter(lot::Column::Id.eq(*lot_id))
                .filter(lot::Column::Remaining.gte(*q))
                .exec(txn)
                .await?;
            if done.rows_affected != 1 {
                return Err(AppError::Internal(format!("lot {lot_id} changed under its lock")));
            }
        }
        stock_movement::Entity::insert_many(movements).exec(txn).await?;
        book(
            txn,
            Booking {
                kind: "sale",
                cooperative_id: st.cooperative_id,
                alliance_id: st.alliance_id,
                order_id: Some(o.id),
                refund_id: None,
                booking_date: day,
                memo: format!("order {} {}:{}", o.id, ch.code, req.external_id),
                basis,
            },
            entries,
        )
        .await?;
        Ok(o.id)
    }
}
