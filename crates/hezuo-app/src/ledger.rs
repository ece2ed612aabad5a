//! The double-entry ledger (SPEC §4 account names): booking a transaction with its postings and
//! the per-account per-day sums in the caller's database transaction, and reading accounts.

use crate::exec::{self, Exec, Writes};
use crate::{App, AppError, Page, PageRequest, Principal};
use chrono::{Datelike, NaiveDate};
use hezuo_core::Money;
use hezuo_db::entities::{account_day, basis_day, household, ledger_transaction, posting, sales_day, village_sum};
use hezuo_db::sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use hezuo_db::sea_orm::{
    ColumnTrait, Condition, EntityName, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
    Statement,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One posting to be booked.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub account: String,
    pub amount: Money,
    pub line_id: Option<i64>,
}

/// Rows per multi-row INSERT: at most 8 columns each stays under SQLite's 32,766 bind
/// parameters (PostgreSQL allows 65,535).
pub(crate) const ROWS_PER_INSERT: usize = 4_000;

/// Rows per key of the per-day sums: a booking adds to the row of slot `transaction id mod
/// SLOTS`, so that concurrent bookings on the same accounts (every sale credits the same
/// station, pool, channel and fee accounts) rarely wait on one another's row locks. Readers sum
/// the slots.
const SLOTS: i64 = 8;

/// The alliance of postings that belong to no one alliance: a period close is the cooperative's.
pub(crate) const COOPERATIVE_WIDE: i64 = 0;

/// What a ledger transaction is about.
pub(crate) struct Booking<'a> {
    pub kind: &'a str,
    pub cooperative_id: i64,
    pub alliance_id: i64,
    pub order_id: Option<i64>,
    pub refund_id: Option<i64>,
    pub booking_date: NaiveDate,
    pub memo: String,
    /// Changes of households' bases (docs/domain.md "Period close"): a sale part's net, minus a refund part's `a − f`.
    pub basis: Vec<(i64, Money)>,
    /// Changes of the station's sales sums (`sales_days`) on the booking day.
    pub sales: Vec<SalesDelta>,
}

/// What a sale or refund adds to a station's sales of a product through a channel on its
/// booking day (cents and thousandths).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SalesDelta {
    pub station_id: i64,
    pub product_id: i64,
    pub channel_id: i64,
    pub orders: i64,
    pub quantity: i64,
    pub gross: i64,
    pub fee: i64,
    pub refunded: i64,
}

/// The village of a collective's account name (`village:{id}`).
pub(crate) fn village_of(account: &str) -> Option<i64> {
    account.strip_prefix("village:").and_then(|id| id.parse().ok())
}

/// The first day of `day`'s year: the key of the per-year sums.
pub(crate) fn year_of(day: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(day.year(), 1, 1).unwrap_or(day)
}

/// The first day of the month of `day`: the start of the month rows of `village_sums`.
fn month_of(day: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(day.year(), day.month(), 1).unwrap_or(day)
}

/// `village_sums.span` of the month rows and of the year rows.
pub(crate) const SPAN_MONTH: &str = "month";
pub(crate) const SPAN_YEAR: &str = "year";

/// Books a balanced transaction (see [`booking_writes`]) in two round trips: its id, then its
/// writes.
pub(crate) async fn book(db: &impl Exec, b: Booking<'_>, entries: Vec<Entry>) -> Result<i64, AppError> {
    let next = exec::next_id(db.backend(), ledger_transaction::Entity.table_name());
    let (tx,): (i64,) = db
        .row(Statement::from_string(db.backend(), format!("SELECT {next}")))
        .await?
        .ok_or(AppError::Internal("no ledger transaction id".into()))?;
    let mut writes = Writes::default();
    booking_writes(&mut writes, tx, b, entries)?;
    writes.run(db).await?;
    Ok(tx)
}

/// The writes of a balanced transaction with the id `tx` (from [`exec::next_id`]): the
/// transaction, its postings (zero amounts are left out) and the per-day sums, upserted in key
/// order so that concurrent bookings lock them in one order.
pub(crate) fn booking_writes(w: &mut Writes, tx: i64, b: Booking<'_>, entries: Vec<Entry>) -> Result<(), AppError> {
    let sum: i128 = entries.iter().map(|e| i128::from(e.amount.cents())).sum();
    if sum != 0 {
        return Err(AppError::Internal(format!("unbalanced {} transaction ({sum} cents)", b.kind)));
    }
    let t = ledger_transaction::ActiveModel {
        id: Set(tx),
        kind: Set(b.kind.to_owned()),
        cooperative_id: Set(b.cooperative_id),
        alliance_id: Set((b.alliance_id != COOPERATIVE_WIDE).then_some(b.alliance_id)),
        order_id: Set(b.order_id),
        refund_id: Set(b.refund_id),
        booking_date: Set(b.booking_date),
        memo: Set(b.memo),
        created_at: Set(crate::now()),
    };
    w.insert(ledger_transaction::Entity::insert(t).into_query());
    let slot = (tx % SLOTS) as i32;
    let entries: Vec<Entry> = entries.into_iter().filter(|e| e.amount != Money::ZERO).collect();
    let mut days: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for e in &entries {
        let d = days.entry(e.account.as_str()).or_default();
        d.0 = d.0.checked_add(e.amount.cents()).ok_or(hezuo_core::Overflow)?;
        d.1 += 1;
    }
    let rows: Vec<posting::ActiveModel> = entries
        .iter()
        .map(|e| posting::ActiveModel {
            transaction_id: Set(tx),
            alliance_id: Set(b.alliance_id),
            cooperative_id: Set(b.cooperative_id),
            account: Set(e.account.clone()),
            amount: Set(e.amount.cents()),
            booking_date: Set(b.booking_date),
            line_id: Set(e.line_id),
            ..Default::default()
        })
        .collect();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        w.insert(posting::Entity::insert_many(chunk.to_vec()).into_query());
    }
    let sums: Vec<account_day::ActiveModel> = days
        .into_iter()
        .map(|(account, (amount, n))| account_day::ActiveModel {
            alliance_id: Set(b.alliance_id),
            account: Set(account.to_owned()),
            day: Set(b.booking_date),
            slot: Set(slot),
            amount: Set(amount),
            postings: Set(n),
        })
        .collect();
    // Chunks keep the key order: every booking locks the rows of the sums in one order.
    for chunk in sums.chunks(ROWS_PER_INSERT) {
        let upsert = account_day::Entity::insert_many(chunk.to_vec()).on_conflict(
            OnConflict::columns([
                account_day::Column::AllianceId,
                account_day::Column::Account,
                account_day::Column::Day,
                account_day::Column::Slot,
            ])
            .value(account_day::Column::Amount, Expr::cust("account_days.amount + excluded.amount"))
            .value(account_day::Column::Postings, Expr::cust("account_days.postings + excluded.postings"))
            .to_owned(),
        );
        w.insert(upsert.into_query());
    }
    village_writes(w, b.kind == "close", b.booking_date, slot, &entries)?;
    sales_writes(w, b.booking_date, &b.sales)?;
    let mut basis: BTreeMap<i64, i64> = BTreeMap::new();
    for (household, amount) in &b.basis {
        let v = basis.entry(*household).or_default();
        *v = v.checked_add(amount.cents()).ok_or(hezuo_core::Overflow)?;
    }
    let rows: Vec<basis_day::ActiveModel> = basis
        .into_iter()
        .filter(|(_, amount)| *amount != 0)
        .map(|(household, amount)| basis_day::ActiveModel {
            cooperative_id: Set(b.cooperative_id),
            day: Set(b.booking_date),
            household_id: Set(household),
            slot: Set(slot),
            amount: Set(amount),
        })
        .collect();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let upsert = basis_day::Entity::insert_many(chunk.to_vec()).on_conflict(
            OnConflict::columns([
                basis_day::Column::CooperativeId,
                basis_day::Column::Day,
                basis_day::Column::HouseholdId,
                basis_day::Column::Slot,
            ])
            .value(basis_day::Column::Amount, Expr::cust("basis_days.amount + excluded.amount"))
            .to_owned(),
        );
        w.insert(upsert.into_query());
    }
    Ok(())
}

/// The per-month and per-year sums of the village collectives the entries credit: a close's
/// as dividends, a sale's or refund's as sales share (docs/domain.md "Village revenue"). Both
/// rows of a village go in the one upsert.
fn village_writes(w: &mut Writes, close: bool, day: NaiveDate, slot: i32, entries: &[Entry]) -> Result<(), AppError> {
    let mut villages: BTreeMap<i64, i64> = BTreeMap::new();
    for e in entries {
        if let Some(v) = village_of(&e.account) {
            let sum = villages.entry(v).or_default();
            *sum = sum.checked_add(e.amount.cents()).ok_or(hezuo_core::Overflow)?;
        }
    }
    let starts = [(SPAN_MONTH, month_of(day)), (SPAN_YEAR, year_of(day))];
    let rows: Vec<village_sum::ActiveModel> = villages
        .into_iter()
        .filter(|(_, amount)| *amount != 0)
        .flat_map(|(village_id, amount)| {
            starts.map(|(span, start)| village_sum::ActiveModel {
                village_id: Set(village_id),
                span: Set(span.to_owned()),
                period_start: Set(start),
                slot: Set(slot),
                sales: Set(if close { 0 } else { amount }),
                dividends: Set(if close { amount } else { 0 }),
            })
        })
        .collect();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let upsert = village_sum::Entity::insert_many(chunk.to_vec()).on_conflict(
            OnConflict::columns([
                village_sum::Column::VillageId,
                village_sum::Column::Span,
                village_sum::Column::PeriodStart,
                village_sum::Column::Slot,
            ])
            .value(village_sum::Column::Sales, Expr::cust("village_sums.sales + excluded.sales"))
            .value(village_sum::Column::Dividends, Expr::cust("village_sums.dividends + excluded.dividends"))
            .to_owned(),
        );
        w.insert(upsert.into_query());
    }
    Ok(())
}

/// The station's sales sums of the booking day, by product and channel, upserted in key order.
fn sales_writes(w: &mut Writes, day: NaiveDate, sales: &[SalesDelta]) -> Result<(), AppError> {
    let add = |a: i64, b: i64| a.checked_add(b).ok_or(hezuo_core::Overflow);
    let mut sums: BTreeMap<(i64, i64, i64), SalesDelta> = BTreeMap::new();
    for d in sales {
        let s = sums.entry((d.station_id, d.product_id, d.channel_id)).or_default();
        s.orders = add(s.orders, d.orders)?;
        s.quantity = add(s.quantity, d.quantity)?;
        s.gross = add(s.gross, d.gross)?;
        s.fee = add(s.fee, d.fee)?;
        s.refunded = add(s.refunded, d.refunded)?;
    }
    let rows: Vec<sales_day::ActiveModel> = sums
        .into_iter()
        .map(|((station_id, product_id, channel_id), s)| sales_day::ActiveModel {
            station_id: Set(station_id),
            day: Set(day),
            product_id: Set(product_id),
            channel_id: Set(channel_id),
            orders: Set(s.orders),
            quantity: Set(s.quantity),
            gross: Set(s.gross),
            fee: Set(s.fee),
            refunded: Set(s.refunded),
        })
        .collect();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let sum = |c: &str| Expr::cust(format!("sales_days.{c} + excluded.{c}"));
        let upsert = sales_day::Entity::insert_many(chunk.to_vec()).on_conflict(
            OnConflict::columns([
                sales_day::Column::StationId,
                sales_day::Column::Day,
                sales_day::Column::ProductId,
                sales_day::Column::ChannelId,
            ])
            .value(sales_day::Column::Orders, sum("orders"))
            .value(sales_day::Column::Quantity, sum("quantity"))
            .value(sales_day::Column::Gross, sum("gross"))
            .value(sales_day::Column::Fee, sum("fee"))
            .value(sales_day::Column::Refunded, sum("refunded"))
            .to_owned(),
        );
        w.insert(upsert.into_query());
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PostingView {
    pub id: i64,
    pub transaction_id: i64,
    pub account: String,
    pub amount: Money,
    pub booking_date: NaiveDate,
    pub line_id: Option<i64>,
}

impl From<posting::Model> for PostingView {
    fn from(p: posting::Model) -> Self {
        PostingView {
            id: p.id,
            transaction_id: p.transaction_id,
            account: p.account,
            amount: Money::from_cents(p.amount),
            booking_date: p.booking_date,
            line_id: p.line_id,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    pub account: String,
    /// Σ of the account's postings booked in the range (all time without one).
    pub balance: Money,
    pub postings: Page<PostingView>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TransactionView {
    pub id: i64,
    pub kind: String,
    pub cooperative_id: i64,
    pub order_id: Option<i64>,
    pub refund_id: Option<i64>,
    pub booking_date: NaiveDate,
    pub memo: String,
    pub postings: Vec<PostingView>,
}

#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DateRange {
    /// First booking date, inclusive.
    pub from: Option<NaiveDate>,
    /// Last booking date, inclusive.
    pub to: Option<NaiveDate>,
}

/// Checks an account name's shape: `household:{id}`, `village:{id}`, `station:{id}`,
/// `coop:{id}:pool`, `coop:{id}:reserve`, `channel:{code}`, `fees:channel:{code}`.
fn parse_account(name: &str) -> Option<(&str, &str)> {
    let id = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let code = |s: &str| {
        !s.is_empty()
            && s.len() <= 32
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    };
    if let Some(c) = name.strip_prefix("fees:channel:") {
        return code(c).then_some(("fees", c));
    }
    if let Some(c) = name.strip_prefix("channel:") {
        return code(c).then_some(("channel", c));
    }
    if let Some(rest) = name.strip_prefix("coop:") {
        let (cid, which) = rest.split_once(':')?;
        return (id(cid) && (which == "pool" || which == "reserve")).then_some(("coop", cid));
    }
    let (kind, v) = name.split_once(':')?;
    (matches!(kind, "household" | "village" | "station") && id(v)).then_some((kind, v))
}

impl App {
    /// Which postings of `account` the caller may read: alliances their own alliance's; village
    /// users their collective's and their households' accounts; admins all.
    async fn account_scope(&self, p: &Principal, account: &str) -> Result<Condition, AppError> {
        let (kind, id) = parse_account(account).ok_or(AppError::NotFound("account"))?;
        match *p {
            Principal::Admin => Ok(Condition::all()),
            // Its own postings, and the cooperative-wide ones (closes) of accounts it books on;
            // an account of something outside its scope is not found.
            Principal::Alliance { alliance_id } => {
                if !self.account_in_scope(p, kind, id).await? {
                    return Err(AppError::NotFound("account"));
                }
                Ok(Condition::any().add(Expr::col("alliance_id").eq(alliance_id)).add(
                    Expr::col("alliance_id").eq(COOPERATIVE_WIDE).and(Expr::exists(
                        Query::select()
                            .expr(Expr::val(1))
                            .from(account_day::Entity)
                            .and_where(
                                Expr::col((account_day::Entity, account_day::Column::AllianceId)).eq(alliance_id),
                            )
                            .and_where(Expr::col((account_day::Entity, account_day::Column::Account)).eq(account))
                            .to_owned(),
                    )),
                ))
            }
            Principal::Village { village_id } => {
                let id: i64 = id.parse().map_err(|_| AppError::NotFound("account"))?;
                let mine = match kind {
                    "village" => id == village_id,
                    "household" => household::Entity::find_by_id(id)
                        .one(&self.db)
                        .await?
                        .is_some_and(|h| h.village_id == village_id),
                    _ => false,
                };
                if mine { Ok(Condition::all()) } else { Err(AppError::NotFound("account")) }
            }
            Principal::Staff { .. } => Err(AppError::Forbidden),
        }
    }

    /// Whether the object an account belongs to is in the caller's scope.
    async fn account_in_scope(&self, p: &Principal, kind: &str, id: &str) -> Result<bool, AppError> {
        use hezuo_db::entities::{channel, cooperative, station, village};
        use hezuo_db::sea_orm::PaginatorTrait;
        let n = |v: &str| v.parse::<i64>().map_err(|_| AppError::NotFound("account"));
        let count = match kind {
            "household" => {
                household::Entity::find_by_id(n(id)?).filter(crate::scope::households(p)?).count(&self.db).await?
            }
            "village" => village::Entity::find_by_id(n(id)?).filter(crate::scope::villages(p)?).count(&self.db).await?,
            "station" => station::Entity::find_by_id(n(id)?).filter(crate::scope::stations(p)?).count(&self.db).await?,
            "coop" => {
                cooperative::Entity::find_by_id(n(id)?).filter(crate::scope::cooperatives(p)?).count(&self.db).await?
            }
            _ => {
                channel::Entity::find()
                    .filter(channel::Column::Code.eq(id))
                    .filter(crate::scope::channels(p)?)
                    .count(&self.db)
                    .await?
            }
        };
        Ok(count > 0)
    }

    /// `GET /ledger/accounts/{account}`: the balance from the per-day sums, and the postings.
    pub async fn account(
        &self,
        p: &Principal,
        account: &str,
        range: &DateRange,
        page: PageRequest,
    ) -> Result<AccountView, AppError> {
        let scope = self.account_scope(p, account).await?;
        let mut days = account_day::Entity::find()
            .select_only()
            .column_as(Expr::cust("CAST(COALESCE(SUM(amount), 0) AS BIGINT)"), "balance")
            .filter(account_day::Column::Account.eq(account))
            .filter(scope.clone());
        let mut q = posting::Entity::find().filter(posting::Column::Account.eq(account)).filter(scope);
        if let Some(from) = range.from {
            days = days.filter(account_day::Column::Day.gte(from));
            q = q.filter(posting::Column::BookingDate.gte(from));
        }
        if let Some(to) = range.to {
            days = days.filter(account_day::Column::Day.lte(to));
            q = q.filter(posting::Column::BookingDate.lte(to));
        }
        let balance: Option<i64> = days.into_tuple().one(&self.db).await?;
        let postings =
            crate::page::fetch_page(&self.db, q, Condition::all(), page, |m| m.id, PostingView::from).await?;
        Ok(AccountView { account: account.to_owned(), balance: Money::from_cents(balance.unwrap_or(0)), postings })
    }

    /// `GET /ledger/transactions?order_id=`: an order's transactions with their postings.
    pub async fn order_transactions(&self, p: &Principal, order_id: i64) -> Result<Vec<TransactionView>, AppError> {
        match p {
            Principal::Admin | Principal::Alliance { .. } => {}
            _ => return Err(AppError::Forbidden),
        }
        self.find_order(p, order_id).await?;
        let txs = ledger_transaction::Entity::find()
            .filter(ledger_transaction::Column::OrderId.eq(order_id))
            .order_by(ledger_transaction::Column::Id, Order::Asc)
            .all(&self.db)
            .await?;
        let ids: Vec<i64> = txs.iter().map(|t| t.id).collect();
        let mut postings: BTreeMap<i64, Vec<PostingView>> = BTreeMap::new();
        for row in posting::Entity::find()
            .filter(posting::Column::TransactionId.is_in(ids))
            .order_by(posting::Column::Id, Order::Asc)
            .all(&self.db)
            .await?
        {
            postings.entry(row.transaction_id).or_default().push(row.into());
        }
        Ok(txs
            .into_iter()
            .map(|t| TransactionView {
                postings: postings.remove(&t.id).unwrap_or_default(),
                id: t.id,
                kind: t.kind,
                cooperative_id: t.cooperative_id,
                order_id: t.order_id,
                refund_id: t.refund_id,
                booking_date: t.booking_date,
                memo: t.memo,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::parse_account;

    #[test]
    fn account_names() {
        for ok in [
            "household:1",
            "village:22",
            "station:3",
            "coop:4:pool",
            "coop:4:reserve",
            "channel:taobao",
            "fees:channel:own",
        ] {
            assert!(parse_account(ok).is_some(), "{ok}");
        }
        for bad in [
            "household:",
            "household:x",
            "coop:4:bank",
            "coop:pool",
            "channel:",
            "fees:taobao",
            "bank:1",
            "channel:TAOBAO",
        ] {
            assert!(parse_account(bad).is_none(), "{bad}");
        }
    }
}
