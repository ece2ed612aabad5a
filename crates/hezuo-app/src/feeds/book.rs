//! Booking what a platform sent (PLATFORMS.md §1 "Idempotency", "States", "Parking"): a paid
//! order through the same path as `POST /orders` (`App::place_order`: a replay is a no-op), a
//! closed-after-payment order as a cancel, a successful refund under its refund id. What cannot
//! be booked yet is parked with its reason and retried on every run; nothing is dropped and no
//! order is booked in part.

use super::Outcome;
use super::sync::Run;
use crate::orders::{ExternalRefundLine, OrderStatus, PlaceLine, PlaceOrder};
use crate::{Actor, AppError, Principal};
use hezuo_core::{Money, Quantity, split};
use hezuo_db::entities::{feed_order, feed_parked, order, order_line, product, refund, station};
use hezuo_db::sea_orm::sea_query::OnConflict;
use hezuo_db::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set};
use hezuo_platforms::{Action, OrderState, PlatformOrder, PlatformRefund};
use std::collections::HashMap;

/// Feeds book as the system: no user, no token.
const SYSTEM: Actor = Actor { user_id: None, token_id: None };

pub(crate) fn state_name(s: OrderState) -> &'static str {
    match s {
        OrderState::Unpaid => "unpaid",
        OrderState::Paid => "paid",
        OrderState::Shipped => "shipped",
        OrderState::Completed => "completed",
        OrderState::ClosedBeforePayment => "closed_before_payment",
        OrderState::ClosedAfterPayment => "closed_after_payment",
        OrderState::Unrecognized => "unrecognized",
    }
}

fn is_terminal_name(s: &str) -> bool {
    matches!(s, "completed" | "closed_before_payment" | "closed_after_payment")
}

/// Why an item is parked rather than booked.
pub(crate) struct Park(pub String);

impl Run<'_> {
    async fn seen(&self, external_id: &str) -> Result<Option<feed_order::Model>, AppError> {
        Ok(feed_order::Entity::find_by_id((self.feed.id, external_id.to_owned())).one(&self.app.db).await?)
    }

    async fn remember(&self, o: &PlatformOrder, order_id: Option<i64>, line_ids: &[String]) -> Result<(), AppError> {
        let row = feed_order::ActiveModel {
            feed_id: Set(self.feed.id),
            external_id: Set(o.id.clone()),
            order_id: Set(order_id),
            state: Set(state_name(o.state).to_owned()),
            modified_at: Set(o.modified),
            line_ids: Set(serde_json::to_string(line_ids).unwrap_or_else(|_| "[]".into())),
        };
        let mut update = vec![feed_order::Column::State, feed_order::Column::ModifiedAt];
        if order_id.is_some() {
            update.extend([feed_order::Column::OrderId, feed_order::Column::LineIds]);
        }
        feed_order::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([feed_order::Column::FeedId, feed_order::Column::ExternalId])
                    .update_columns(update)
                    .to_owned(),
            )
            .exec_without_returning(&*self.app.writer().await)
            .await?;
        Ok(())
    }

    pub(crate) async fn park(
        &self,
        kind: &str,
        external_id: &str,
        reason: &str,
        item: String,
        modified: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), AppError> {
        let reason: String = reason.chars().take(500).collect();
        let row = feed_parked::ActiveModel {
            feed_id: Set(self.feed.id),
            kind: Set(kind.to_owned()),
            external_id: Set(external_id.to_owned()),
            reason: Set(reason),
            item: Set(item),
            modified_at: Set(modified),
            parked_at: Set(crate::now()),
            ..Default::default()
        };
        feed_parked::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    feed_parked::Column::FeedId,
                    feed_parked::Column::Kind,
                    feed_parked::Column::ExternalId,
                ])
                .update_columns([
                    feed_parked::Column::Reason,
                    feed_parked::Column::Item,
                    feed_parked::Column::ModifiedAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(&*self.app.writer().await)
            .await?;
        Ok(())
    }

    pub(crate) async fn unpark(&self, kind: &str, external_id: &str) -> Result<(), AppError> {
        feed_parked::Entity::delete_many()
            .filter(feed_parked::Column::FeedId.eq(self.feed.id))
            .filter(feed_parked::Column::Kind.eq(kind))
            .filter(feed_parked::Column::ExternalId.eq(external_id))
            .exec(&*self.app.writer().await)
            .await?;
        Ok(())
    }

    /// The booked order of a platform order id on this feed's channel.
    async fn booked(&self, external_id: &str) -> Result<Option<order::Model>, AppError> {
        Ok(order::Entity::find()
            .filter(order::Column::ChannelId.eq(self.feed.channel_id))
            .filter(order::Column::ExternalId.eq(external_id))
            .one(&self.app.db)
            .await?)
    }

    /// One platform order (PLATFORMS.md §1 "States"): book, skip or cancel; never backwards.
    pub(crate) async fn order(&self, o: &PlatformOrder) -> Result<Outcome, AppError> {
        let seen = self.seen(&o.id).await?;
        if let Some(s) = &seen
            && (s.modified_at > o.modified || is_terminal_name(&s.state))
        {
            // A newer update was taken already: a parked older version of it is obsolete.
            self.unpark("order", &o.id).await?;
            return Ok(Outcome::Unchanged);
        }
        let outcome = match o.state.action() {
            Action::Skip => {
                self.remember(o, None, &[]).await?;
                Outcome::Unchanged
            }
            Action::Cancel => match self.booked(&o.id).await? {
                Some(b) if b.status != OrderStatus::Cancelled.as_str() => {
                    match self.app.cancel_order(&Principal::Admin, &SYSTEM, b.id).await {
                        Ok(_) | Err(AppError::Conflict { .. }) => {}
                        Err(e) => return Err(e),
                    }
                    self.remember(o, None, &[]).await?;
                    Outcome::Cancelled
                }
                _ => {
                    self.remember(o, None, &[]).await?;
                    Outcome::Unchanged
                }
            },
            Action::Book => {
                if seen.as_ref().is_some_and(|s| s.order_id.is_some()) {
                    self.remember(o, None, &[]).await?;
                    Outcome::Replayed
                } else {
                    match self.place(o).await? {
                        Ok((order_id, created)) => {
                            let line_ids: Vec<String> = o.lines.iter().map(|l| l.line_id.clone()).collect();
                            self.remember(o, Some(order_id), &line_ids).await?;
                            if created { Outcome::Created } else { Outcome::Replayed }
                        }
                        Err(Park(reason)) => {
                            let item = serde_json::to_string(o).map_err(|e| AppError::Internal(e.to_string()))?;
                            self.park("order", &o.id, &reason, item, o.modified).await?;
                            return Ok(Outcome::Parked);
                        }
                    }
                }
            }
        };
        self.unpark("order", &o.id).await?;
        Ok(outcome)
    }

    /// The products of the alliance's stations that carry each merchant code.
    async fn products_by_sku(&self, skus: &[&str]) -> Result<HashMap<String, Vec<(i64, i64)>>, AppError> {
        let stations = station::Entity::find()
            .select_only()
            .column(station::Column::Id)
            .filter(station::Column::AllianceId.eq(self.feed.alliance_id))
            .into_query();
        let found: Vec<(i64, i64, Option<String>)> = product::Entity::find()
            .select_only()
            .columns([product::Column::Id, product::Column::StationId, product::Column::Sku])
            .filter(product::Column::Sku.is_in(skus.iter().copied()))
            .filter(product::Column::StationId.in_subquery(stations))
            .into_tuple()
            .all(&self.app.db)
            .await?;
        let mut by: HashMap<String, Vec<(i64, i64)>> = HashMap::new();
        for (id, st, sku) in found {
            if let Some(sku) = sku {
                by.entry(sku).or_default().push((id, st));
            }
        }
        Ok(by)
    }

    /// Books a paid order: `Ok(Ok((order id, created)))`, or the reason to park it.
    async fn place(&self, o: &PlatformOrder) -> Result<Result<(i64, bool), Park>, AppError> {
        let mut skus = Vec::new();
        for l in &o.lines {
            match l.sku.as_deref() {
                Some(s) => skus.push(s),
                None => return Ok(Err(Park(format!("line {} has no merchant code (sku)", l.line_id)))),
            }
        }
        let by_sku = self.products_by_sku(&skus).await?;
        let mut station_id = None;
        let mut lines = Vec::with_capacity(o.lines.len());
        for (l, sku) in o.lines.iter().zip(&skus) {
            let (product_id, st) = match by_sku.get(*sku).map(Vec::as_slice) {
                Some([one]) => *one,
                Some([]) | None => return Ok(Err(Park(format!("unknown sku {sku:?}")))),
                Some(_) => return Ok(Err(Park(format!("sku {sku:?} is on several stations")))),
            };
            if station_id.is_some_and(|s| s != st) {
                return Ok(Err(Park("the order's lines are products of several stations".into())));
            }
            station_id = Some(st);
            lines.push(PlaceLine::paid(product_id, Quantity::from_thousandths(i64::from(l.quantity) * 1000), l.amount));
        }
        let Some(station_id) = station_id else {
            return Ok(Err(Park("the order has no lines".into())));
        };
        let req = PlaceOrder {
            station_id,
            channel: self.channel_code.clone(),
            external_id: o.id.clone(),
            placed_at: o.paid_at.unwrap_or(o.modified).fixed_offset(),
            lines,
            payment_method: None,
        };
        match self.app.place_order(&Principal::Admin, &SYSTEM, req).await {
            Ok(placed) => Ok(Ok((placed.order.id, placed.created))),
            // Booked before under other terms (the platform changed it since): it stands.
            Err(AppError::Conflict { code: "order_conflict", .. }) => match self.booked(&o.id).await? {
                Some(b) => Ok(Ok((b.id, false))),
                None => Ok(Err(Park("conflicts with a booked order".into()))),
            },
            Err(AppError::Invalid { code, field, message }) => Ok(Err(Park(match code {
                "insufficient_stock" => format!("not enough stock: {message}"),
                _ => format!("{}{message}", field.map(|f| format!("{f}: ")).unwrap_or_default()),
            }))),
            Err(e) => Err(e),
        }
    }

    /// One platform refund: booked once under its refund id, over the lines it names.
    pub(crate) async fn refund(&self, r: &PlatformRefund) -> Result<Outcome, AppError> {
        if !r.succeeded {
            return Ok(Outcome::Unchanged);
        }
        let booked = match self.refund_plan(r).await? {
            Ok(None) => Ok(Outcome::Unchanged),
            Ok(Some((o, lines))) => {
                match self.app.refund_external(&SYSTEM, &o, &r.refund_id, &lines, "platform refund").await {
                    Ok(true) => Ok(Outcome::Refunded),
                    Ok(false) => Ok(Outcome::Unchanged),
                    Err(AppError::Invalid { field, message, .. }) => {
                        Err(Park(format!("{}{message}", field.map(|f| format!("{f}: ")).unwrap_or_default())))
                    }
                    Err(e) => return Err(e),
                }
            }
            Err(p) => Err(p),
        };
        match booked {
            Ok(outcome) => {
                self.unpark("refund", &r.refund_id).await?;
                Ok(outcome)
            }
            Err(Park(reason)) => {
                let item = serde_json::to_string(r).map_err(|e| AppError::Internal(e.to_string()))?;
                self.park("refund", &r.refund_id, &reason, item, r.modified).await?;
                Ok(Outcome::Parked)
            }
        }
    }

    /// The order and the lines a refund books; `Ok(None)`: nothing to book (seen before, or the
    /// order was cancelled, which refunded it whole); `Err`: park it.
    async fn refund_plan(
        &self,
        r: &PlatformRefund,
    ) -> Result<Result<Option<(order::Model, Vec<ExternalRefundLine>)>, Park>, AppError> {
        let Some(o) = self.booked(&r.order_id).await? else {
            return Ok(Err(Park(format!("refund of order {} which is not booked (yet)", r.order_id))));
        };
        if o.status == OrderStatus::Cancelled.as_str() {
            return Ok(Ok(None));
        }
        let done = refund::Entity::find()
            .filter(refund::Column::OrderId.eq(o.id))
            .filter(refund::Column::ExternalId.eq(r.refund_id.as_str()))
            .one(&self.app.db)
            .await?;
        if done.is_some() {
            return Ok(Ok(None));
        }
        let lines = order_line::Entity::find()
            .filter(order_line::Column::OrderId.eq(o.id))
            .order_by_asc(order_line::Column::LineNo)
            .all(&self.app.db)
            .await?;
        let chosen: Vec<&order_line::Model> = if r.line_ids.is_empty() {
            lines.iter().collect()
        } else {
            let platform_lines: Vec<String> = match self.seen(&r.order_id).await? {
                Some(s) => serde_json::from_str(&s.line_ids).unwrap_or_default(),
                None => Vec::new(),
            };
            let mut chosen = Vec::new();
            for id in &r.line_ids {
                let found = platform_lines
                    .iter()
                    .position(|p| p == id)
                    .and_then(|i| lines.iter().find(|l| l.line_no as usize == i + 1));
                match found {
                    Some(l) => chosen.push(l),
                    None => return Ok(Err(Park(format!("refund names line {id}, which the order does not have")))),
                }
            }
            chosen
        };
        let left: Vec<i64> = chosen.iter().map(|l| l.gross - l.refunded).collect();
        let total: i64 = left.iter().sum();
        if r.amount.cents() <= 0 || r.amount.cents() > total {
            return Ok(Err(Park(format!(
                "refund of {} but {} is left to refund on its lines",
                r.amount,
                Money::from_cents(total)
            ))));
        }
        let amounts = split(r.amount, &left).map_err(|e| AppError::Internal(format!("refund split: {e:?}")))?;
        let quantity = match (chosen.as_slice(), r.quantity_returned) {
            // Goods returned on one line; over several lines the refund is booked as money only.
            ([_], Some(q)) => Quantity::from_thousandths(i64::from(q) * 1000),
            _ => Quantity::ZERO,
        };
        let planned = chosen
            .iter()
            .zip(amounts)
            .filter(|(_, a)| a.cents() > 0)
            .map(|(l, amount)| ExternalRefundLine { line_id: l.id, amount, quantity })
            .collect();
        Ok(Ok(Some((o, planned))))
    }
}
