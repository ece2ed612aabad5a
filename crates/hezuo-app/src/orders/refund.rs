//! SPEC §5: refunds (proportional reversal, exact final reversal, restock newest part first or
//! write-off) and cancellation (a full refund with restock) — one transaction each.

use super::place::{local_day, part_amounts, part_entries, part_refunded};
use super::{OrderStatus, OrderView, order_writer};
use crate::ledger::{Booking, SalesDelta, book};
use crate::webhooks::Event;
use crate::webhooks::outbox::{self, Audience};
use crate::{Actor, App, AppError, Principal, now};
use chrono::{DateTime, NaiveDate, Utc};
use hezuo_catalog::MovementKind;
use hezuo_core::{Money, Quantity};
use hezuo_db::entities::{channel, lot, order, order_line, order_part, refund, stock_movement};
use hezuo_db::sea_orm::sea_query::{Expr, ExprTrait};
use hezuo_db::sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseTransaction, EntityTrait, Order as SortOrder, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use hezuo_ledger::{PartState, SaleError, refund_line};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRefund {
    pub line_id: i64,
    /// More than 0, at most what is left unrefunded of the line's gross.
    #[schema(value_type = crate::openapi::PositiveMoneyInput)]
    pub amount: Money,
    /// Quantity coming back; 0 for a money-only refund (仅退款).
    #[schema(value_type = crate::openapi::ReturnedQuantityInput)]
    pub quantity: Quantity,
    /// True: the quantity goes back to the lots it came from, newest part first; false: written off.
    pub restock: bool,
    #[schema(value_type = crate::openapi::Reason)]
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RefundView {
    pub id: i64,
    pub order_id: i64,
    pub line_id: i64,
    pub amount: Money,
    pub quantity: Quantity,
    pub restock: bool,
    pub reason: String,
    /// The platform's refund id, for a refund booked by a feed.
    pub external_id: Option<String>,
    pub booking_date: NaiveDate,
    pub created_at: DateTime<Utc>,
}

impl From<refund::Model> for RefundView {
    fn from(r: refund::Model) -> Self {
        RefundView {
            id: r.id,
            order_id: r.order_id,
            line_id: r.line_id,
            amount: Money::from_cents(r.amount),
            quantity: Quantity::from_thousandths(r.quantity),
            restock: r.restock,
            reason: r.reason,
            external_id: r.external_id,
            booking_date: r.booking_date,
            created_at: r.created_at,
        }
    }
}

struct RefundSpec<'a> {
    line_id: i64,
    amount: Money,
    quantity: Quantity,
    restock: bool,
    reason: &'a str,
    /// The platform's refund id, when a feed books it.
    external_id: Option<&'a str>,
}

/// One line of a platform refund: the line, the amount and the quantity that came back.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExternalRefundLine {
    pub line_id: i64,
    pub amount: Money,
    pub quantity: Quantity,
}

/// The refund's `order.refunded` deliveries, in its transaction: the refund as
/// `POST /orders/{id}/refunds` answers it.
async fn refunded(txn: &DatabaseTransaction, o: &order::Model, r: &refund::Model) -> Result<(), AppError> {
    let view = RefundView::from(r.clone());
    outbox::record(txn, Event::OrderRefunded, r.id, Audience::Alliance(o.alliance_id), &view).await
}

impl App {
    pub async fn refund(
        &self,
        p: &Principal,
        actor: &Actor,
        order_id: i64,
        req: CreateRefund,
    ) -> Result<RefundView, AppError> {
        order_writer(p)?;
        let o = self.find_order(p, order_id).await?;
        if req.amount.cents() <= 0 {
            return Err(AppError::invalid("amount", "must be more than 0"));
        }
        if req.quantity.thousandths() < 0 {
            return Err(AppError::invalid("quantity", "must not be negative"));
        }
        let reason = hezuo_catalog::text("reason", &req.reason, 200)?;
        let spec = RefundSpec {
            line_id: req.line_id,
            amount: req.amount,
            quantity: req.quantity,
            restock: req.restock,
            reason: &reason,
            external_id: None,
        };
        let made = {
            let _turn = self.write_turn().await;
            let txn = self.db.begin().await?;
            let made = self.refund_in(&txn, actor, &o, &spec).await?;
            if let Some(r) = &made {
                refunded(&txn, &o, r).await?;
            }
            txn.commit().await?;
            self.metrics.refund("refund");
            made
        };
        self.wake_webhooks();
        made.map(RefundView::from).ok_or_else(|| AppError::Internal("refund not recorded".into()))
    }

    /// Cancels a placed or shipped order: every line refunded in full and restocked.
    pub async fn cancel_order(&self, p: &Principal, actor: &Actor, order_id: i64) -> Result<OrderView, AppError> {
        order_writer(p)?;
        let o = self.find_order(p, order_id).await?;
        let turn = self.write_turn().await;
        let txn = self.db.begin().await?;
        let changed = order::Entity::update_many()
            .col_expr(order::Column::Status, Expr::value(OrderStatus::Cancelled.as_str()))
            .col_expr(order::Column::UpdatedAt, Expr::value(now()))
            .filter(order::Column::Id.eq(o.id))
            .filter(order::Column::Status.is_in([OrderStatus::Placed.as_str(), OrderStatus::Shipped.as_str()]))
            .exec(&txn)
            .await?;
        if changed.rows_affected == 0 {
            txn.rollback().await?;
            drop(turn);
            let now_status = self.find_order(p, order_id).await?.status;
            if now_status == OrderStatus::Cancelled.as_str() {
                return self.get_order(p, order_id).await;
            }
            return Err(AppError::conflict(
                "invalid_transition",
                format!("a {now_status} order cannot be cancelled; refund it instead"),
            ));
        }
        let lines = order_line::Entity::find()
            .filter(order_line::Column::OrderId.eq(o.id))
            .order_by(order_line::Column::LineNo, SortOrder::Asc)
            .all(&txn)
            .await?;
        for l in lines {
            let spec = RefundSpec {
                line_id: l.id,
                amount: Money::from_cents(l.gross - l.refunded),
                quantity: Quantity::from_thousandths(l.quantity - l.returned),
                restock: true,
                reason: "order cancelled",
                external_id: None,
            };
            if spec.amount != Money::ZERO || spec.quantity != Quantity::ZERO {
                self.refund_in(&txn, actor, &o, &spec).await?;
            }
        }
        let cancelled = order::Entity::find_by_id(o.id).one(&txn).await?.ok_or(AppError::NotFound("order"))?;
        let view = super::order_view_in(&txn, cancelled).await?;
        outbox::record(&txn, Event::OrderCancelled, o.id, Audience::Alliance(o.alliance_id), &view).await?;
        txn.commit().await?;
        self.metrics.refund("cancel");
        drop(turn);
        self.wake_webhooks();
        Ok(view)
    }

    /// A platform refund (PLATFORMS.md §1): its lines booked in one transaction under the
    /// platform's refund id, not restocked. `Ok(false)`: a refund with that id was booked
    /// before, and nothing changed.
    pub(crate) async fn refund_external(
        &self,
        actor: &Actor,
        o: &order::Model,
        external_id: &str,
        lines: &[ExternalRefundLine],
        reason: &str,
    ) -> Result<bool, AppError> {
        let _turn = self.write_turn().await;
        let txn = self.db.begin().await?;
        let seen = refund::Entity::find()
            .filter(refund::Column::OrderId.eq(o.id))
            .filter(refund::Column::ExternalId.eq(external_id))
            .one(&txn)
            .await?;
        if seen.is_some() {
            txn.rollback().await?;
            return Ok(false);
        }
        for l in lines {
            let spec = RefundSpec {
                line_id: l.line_id,
                amount: l.amount,
                quantity: l.quantity,
                restock: false,
                reason,
                external_id: Some(external_id),
            };
            if let Some(r) = self.refund_in(&txn, actor, o, &spec).await? {
                refunded(&txn, o, &r).await?;
            }
        }
        txn.commit().await?;
        self.metrics.refund("platform");
        self.wake_webhooks();
        Ok(true)
    }

    /// One line's refund inside `txn`. A zero amount (only when cancelling a line whose money
    /// is already refunded) returns goods without a refund record or postings.
    async fn refund_in(
        &self,
        txn: &DatabaseTransaction,
        actor: &Actor,
        o: &order::Model,
        r: &RefundSpec<'_>,
    ) -> Result<Option<refund::Model>, AppError> {
        let (a, q) = (r.amount.cents(), r.quantity.thousandths());
        // The guard and the change in one statement: concurrent refunds cannot overshoot.
        let done = order_line::Entity::update_many()
            .col_expr(order_line::Column::Refunded, Expr::col(order_line::Column::Refunded).add(a))
            .col_expr(order_line::Column::Returned, Expr::col(order_line::Column::Returned).add(q))
            .filter(order_line::Column::Id.eq(r.line_id))
            .filter(order_line::Column::OrderId.eq(o.id))
            .filter(Expr::col(order_line::Column::Refunded).add(a).lte(Expr::col(order_line::Column::Gross)))
            .filter(Expr::col(order_line::Column::Returned).add(q).lte(Expr::col(order_line::Column::Quantity)))
            .exec(txn)
            .await?;
        if done.rows_affected == 0 {
            let line = order_line::Entity::find_by_id(r.line_id)
                .filter(order_line::Column::OrderId.eq(o.id))
                .one(txn)
                .await?
                .ok_or_else(|| AppError::unknown_reference("line_id", "line of this order"))?;
            return Err(if line.refunded + a > line.gross {
                AppError::Invalid {
                    code: "refund_exceeds",
                    field: Some("amount".into()),
                    message: format!(
                        "at most {} is left to refund on this line",
                        Money::from_cents(line.gross - line.refunded)
                    ),
                }
            } else {
                AppError::Invalid {
                    code: "refund_exceeds",
                    field: Some("quantity".into()),
                    message: format!(
                        "at most {} of this line has not been returned",
                        Quantity::from_thousandths(line.quantity - line.returned)
                    ),
                }
            });
        }
        let line_product = order_line::Entity::find_by_id(r.line_id)
            .select_only()
            .column(order_line::Column::ProductId)
            .into_tuple::<i64>()
            .one(txn)
            .await?
            .ok_or(AppError::NotFound("line"))?;
        let parts = order_part::Entity::find()
            .filter(order_part::Column::LineId.eq(r.line_id))
            .order_by(order_part::Column::Seq, SortOrder::Asc)
            .all(txn)
            .await?;
        let t = self.now();
        let day = crate::periods::booking_day(txn, o.cooperative_id, local_day(self, t)).await?;
        let reversal = if a > 0 {
            let states: Vec<PartState> =
                parts.iter().map(|p| PartState { booked: part_amounts(p), refunded: part_refunded(p) }).collect();
            refund_line(&states, r.amount).map_err(|e| match e {
                SaleError::RefundAmount { left } => AppError::Invalid {
                    code: "refund_exceeds",
                    field: Some("amount".into()),
                    message: format!("at most {left} is left to refund on this line"),
                },
                other => AppError::Internal(other.to_string()),
            })?
        } else {
            vec![hezuo_ledger::Amounts::default(); parts.len()]
        };
        // Quantity back to the lots, newest part first.
        let mut left = q;
        let mut returned = vec![0i64; parts.len()];
        for (i, p) in parts.iter().enumerate().rev() {
            let take = std::cmp::min(p.quantity - p.returned, left);
            returned[i] = take;
            left -= take;
        }
        if left != 0 {
            return Err(AppError::Internal(format!("line {}: parts cannot take back the quantity", r.line_id)));
        }
        let refund_row = if a > 0 {
            Some(
                refund::ActiveModel {
                    order_id: Set(o.id),
                    line_id: Set(r.line_id),
                    amount: Set(a),
                    quantity: Set(q),
                    restock: Set(r.restock),
                    reason: Set(r.reason.to_owned()),
                    external_id: Set(r.external_id.map(str::to_owned)),
                    booking_date: Set(day),
                    actor_user_id: Set(actor.user_id),
                    actor_token_id: Set(actor.token_id),
                    created_at: Set(t),
                    ..Default::default()
                }
                .insert(txn)
                .await?,
            )
        } else {
            None
        };
        let ch = channel::Entity::find_by_id(o.channel_id).one(txn).await?.ok_or(AppError::NotFound("channel"))?;
        let mut entries = Vec::new();
        let mut basis = Vec::new();
        let mut fee_back = 0i64;
        for ((p, back), ret) in parts.iter().zip(&reversal).zip(&returned) {
            if back.gross == Money::ZERO && *ret == 0 {
                continue;
            }
            order_part::Entity::update_many()
                .col_expr(
                    order_part::Column::RefundedGross,
                    Expr::col(order_part::Column::RefundedGross).add(back.gross.cents()),
                )
                .col_expr(
                    order_part::Column::RefundedFee,
                    Expr::col(order_part::Column::RefundedFee).add(back.fee.cents()),
                )
                .col_expr(
                    order_part::Column::RefundedHousehold,
                    Expr::col(order_part::Column::RefundedHousehold).add(back.household.cents()),
                )
                .col_expr(
                    order_part::Column::RefundedStation,
                    Expr::col(order_part::Column::RefundedStation).add(back.station.cents()),
                )
                .col_expr(
                    order_part::Column::RefundedCollective,
                    Expr::col(order_part::Column::RefundedCollective).add(back.collective.cents()),
                )
                .col_expr(
                    order_part::Column::RefundedPool,
                    Expr::col(order_part::Column::RefundedPool).add(back.pool.cents()),
                )
                .col_expr(order_part::Column::Returned, Expr::col(order_part::Column::Returned).add(*ret))
                .filter(order_part::Column::Id.eq(p.id))
                .exec(txn)
                .await?;
            if back.gross != Money::ZERO {
                fee_back += back.fee.cents();
                entries.extend(part_entries(back, &ch.code, p, o.cooperative_id, o.station_id, -1)?);
                basis.push((p.household_id, back.fee.checked_sub(back.gross)?));
            }
            if r.restock && *ret > 0 {
                lot::Entity::update_many()
                    .col_expr(lot::Column::Remaining, Expr::col(lot::Column::Remaining).add(*ret))
                    .filter(lot::Column::Id.eq(p.lot_id))
                    .exec(txn)
                    .await?;
                let product_id = lot::Entity::find_by_id(p.lot_id).one(txn).await?.map_or(0, |l| l.product_id);
                stock_movement::ActiveModel {
                    lot_id: Set(p.lot_id),
                    product_id: Set(product_id),
                    kind: Set(MovementKind::Restock.as_str().to_owned()),
                    quantity: Set(*ret),
                    reason: Set(None),
                    note: Set(Some(r.reason.to_owned())),
                    order_line_id: Set(Some(r.line_id)),
                    actor_user_id: Set(actor.user_id),
                    actor_token_id: Set(actor.token_id),
                    created_at: Set(t),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
            }
        }
        if let Some(row) = &refund_row {
            order::Entity::update_many()
                .col_expr(order::Column::Refunded, Expr::col(order::Column::Refunded).add(a))
                .col_expr(order::Column::UpdatedAt, Expr::value(t))
                .filter(order::Column::Id.eq(o.id))
                .exec(txn)
                .await?;
            book(
                txn,
                Booking {
                    kind: "refund",
                    cooperative_id: o.cooperative_id,
                    alliance_id: o.alliance_id,
                    order_id: Some(o.id),
                    refund_id: Some(row.id),
                    booking_date: day,
                    memo: format!("refund {} of order {}", row.id, o.id),
                    basis,
                    sales: vec![SalesDelta {
                        station_id: o.station_id,
                        product_id: line_product,
                        channel_id: o.channel_id,
                        fee: -fee_back,
                        refunded: a,
                        ..SalesDelta::default()
                    }],
                },
                entries,
            )
            .await?;
        }
        Ok(refund_row)
    }
}
