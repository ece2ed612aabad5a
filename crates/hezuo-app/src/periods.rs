//! Periods and their close (SPEC §6): calendar months per cooperative in the configured time
//! zone, closed in order and once. A close books reserve, rebates by basis and dividends by
//! capital in one transaction and is kept with every line it paid.

use crate::exec::Exec;
use crate::ledger::{Booking, COOPERATIVE_WIDE, Entry, book};
use crate::{Actor, App, AppError, Principal, scope};
use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use hezuo_core::Money;
use hezuo_db::entities::{
    account_day, basis_day, cooperative, cooperative_member as member, ledger_transaction, period_close,
    period_close_line as close_line, rule_version,
};
use hezuo_db::sea_orm::sea_query::{Expr, LockType};
use hezuo_db::sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Set, TransactionTrait,
};
use hezuo_ledger::RuleSet;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;

/// A calendar month (`YYYY-MM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Period {
    first: NaiveDate,
}

impl Period {
    /// Parses `YYYY-MM` (years 2000–2999); anything else is 422 `invalid_period`.
    pub fn parse(text: &str) -> Result<Period, AppError> {
        let bad = || AppError::Invalid {
            code: "invalid_period",
            field: Some("period".into()),
            message: format!("{text:?} is not a month in the form YYYY-MM"),
        };
        let b = text.as_bytes();
        if b.len() != 7 || b[4] != b'-' || !b.iter().enumerate().all(|(i, c)| i == 4 || c.is_ascii_digit()) {
            return Err(bad());
        }
        let year: i32 = text[..4].parse().map_err(|_| bad())?;
        let month: u32 = text[5..].parse().map_err(|_| bad())?;
        if !(2000..=2999).contains(&year) {
            return Err(bad());
        }
        NaiveDate::from_ymd_opt(year, month, 1).map(|first| Period { first }).ok_or_else(bad)
    }

    /// The month a day falls in.
    pub fn of(day: NaiveDate) -> Period {
        Period { first: day.with_day(1).unwrap_or(day) }
    }

    pub fn first_day(self) -> NaiveDate {
        self.first
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first - Days::new(1)
    }

    pub fn next(self) -> Period {
        Period { first: self.first.checked_add_months(chrono::Months::new(1)).unwrap_or(self.first) }
    }

    pub fn prev(self) -> Period {
        Period { first: self.first.checked_sub_months(chrono::Months::new(1)).unwrap_or(self.first) }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.first.year(), self.first.month())
    }
}

/// docs/domain.md "A sale"/§5 booking date: `local` unless it falls in a closed period, then the first day of
/// the earliest open one. Locks the cooperative's row against a concurrent close (PostgreSQL:
/// `FOR KEY SHARE`, which bookings share and a close's `FOR UPDATE` waits for); on SQLite the
/// writer turn already serialises them. Call it inside the booking's transaction.
pub(crate) async fn booking_day(db: &impl Exec, cooperative_id: i64, local: NaiveDate) -> Result<NaiveDate, AppError> {
    let q = cooperative::Entity::find_by_id(cooperative_id)
        .select_only()
        .column(cooperative::Column::ClosedThrough)
        .lock(LockType::KeyShare)
        .build(db.backend());
    let closed: Option<(Option<NaiveDate>,)> = db.row(q).await?;
    Ok(day_after_close(closed.and_then(|c| c.0), local))
}

/// `local`, or the day after `closed_through` when `local` falls in the closed periods.
pub(crate) fn day_after_close(closed_through: Option<NaiveDate>, local: NaiveDate) -> NaiveDate {
    match closed_through {
        Some(through) if local <= through => through + Days::new(1),
        _ => local,
    }
}

/// The rule version in force on `day` (docs/domain.md "Distribution rules").
pub(crate) async fn rule_version_on(
    db: &impl Exec,
    cooperative_id: i64,
    day: NaiveDate,
) -> Result<(i64, RuleSet), AppError> {
    let q = rule_version::Entity::find()
        .select_only()
        .columns([
            rule_version::Column::Id,
            rule_version::Column::HouseholdShare,
            rule_version::Column::StationFeeRate,
            rule_version::Column::CollectiveRate,
            rule_version::Column::ReserveRate,
            rule_version::Column::RebateRate,
        ])
        .filter(rule_version::Column::CooperativeId.eq(cooperative_id))
        .filter(rule_version::Column::EffectiveFrom.lte(day))
        .order_by(rule_version::Column::EffectiveFrom, Order::Desc)
        .limit(1)
        .build(db.backend());
    let (id, household_share, station_fee_rate, collective_rate, reserve_rate, rebate_rate): (
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
    ) = db.row(q).await?.ok_or_else(|| crate::setup::no_rules(day))?;
    let rules =
        crate::setup::stored_rules([household_share, station_fee_rate, collective_rate, reserve_rate, rebate_rate])?;
    Ok((id, rules))
}

/// A household's rebate: its basis in the period and what it was paid.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RebateView {
    pub household_id: i64,
    /// Σ net of its lot parts booked in the period − Σ (a − f) of refunds booked in it.
    pub basis: Money,
    pub amount: Money,
}

/// A member: a household or a village collective (exactly one of the two ids is set).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MemberRef {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub household_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub village_id: Option<i64>,
    /// The ledger account the dividend is booked to.
    pub account: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DividendView {
    pub member: MemberRef,
    pub capital: Money,
    pub amount: Money,
}

/// A period close, previewed or booked (docs/domain.md "Period close").
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CloseView {
    pub cooperative_id: i64,
    /// `YYYY-MM`.
    pub period: String,
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// The rule version in force on the period's last day.
    pub rule_version_id: i64,
    /// `B`: the pool's balance up to the period's end; negative is a deficit carried forward.
    pub pool: Money,
    /// Everything credited to `coop:{id}:reserve`: `R`, and `T` or `D − T` when nobody can take them.
    pub reserve: Money,
    /// `R = round(reserve_rate × B)`.
    pub reserve_share: Money,
    /// `D = B − R` (可分配盈余).
    pub distributable: Money,
    /// `T = ceil(rebate_rate × D)` paid to households by basis (二次返利).
    pub rebate_total: Money,
    /// `D − T` paid to members by capital.
    pub dividend_total: Money,
    /// Every household with a basis in the period (those at or below zero get nothing).
    pub rebates: Vec<RebateView>,
    /// Every member with its capital.
    pub dividends: Vec<DividendView>,
    /// Set once booked: the close's ledger transaction, when and by whom.
    pub transaction_id: Option<i64>,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by_user_id: Option<i64>,
}

/// A closed period in a cooperative's list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ClosedPeriod {
    pub period: String,
    pub pool: Money,
    pub reserve: Money,
    pub rebate_total: Money,
    pub dividend_total: Money,
    pub transaction_id: i64,
    pub closed_at: DateTime<Utc>,
    pub closed_by_user_id: Option<i64>,
}

/// Who may preview and close: admins, and alliances for the cooperatives of their stations.
fn closer(p: &Principal) -> Result<(), AppError> {
    match p {
        Principal::Admin | Principal::Alliance { .. } => Ok(()),
        _ => Err(AppError::Forbidden),
    }
}

fn member_ref(household_id: Option<i64>, village_id: Option<i64>) -> MemberRef {
    let account = match (household_id, village_id) {
        (Some(h), _) => format!("household:{h}"),
        (None, Some(v)) => format!("village:{v}"),
        (None, None) => String::new(),
    };
    MemberRef { household_id, village_id, account }
}

/// Computes the close of `period` from the database as it stands (nothing written).
async fn compute(db: &impl ConnectionTrait, cooperative_id: i64, period: Period) -> Result<CloseView, AppError> {
    let (last, first) = (period.last_day(), period.first_day());
    let (rule_version_id, rules) = rule_version_on(db, cooperative_id, last).await?;
    let pool: Option<i64> = account_day::Entity::find()
        .select_only()
        .column_as(Expr::cust("CAST(COALESCE(SUM(amount), 0) AS BIGINT)"), "b")
        .filter(account_day::Column::Account.eq(format!("coop:{cooperative_id}:pool")))
        .filter(account_day::Column::Day.lte(last))
        .into_tuple()
        .one(db)
        .await?;
    let pool = Money::from_cents(pool.unwrap_or(0));
    let bases: Vec<(i64, i64)> = basis_day::Entity::find()
        .select_only()
        .column(basis_day::Column::HouseholdId)
        .column_as(Expr::cust("CAST(SUM(amount) AS BIGINT)"), "basis")
        .filter(basis_day::Column::CooperativeId.eq(cooperative_id))
        .filter(basis_day::Column::Day.between(first, last))
        .group_by(basis_day::Column::HouseholdId)
        .into_tuple()
        .all(db)
        .await?;
    let members = member::Entity::find()
        .filter(member::Column::CooperativeId.eq(cooperative_id))
        .order_by(member::Column::Id, Order::Asc)
        .all(db)
        .await?;
    // Households in join order (SPEC §2 tie-break); any that are not members after them.
    let joined: HashMap<i64, usize> =
        members.iter().enumerate().filter_map(|(i, m)| m.household_id.map(|h| (h, i))).collect();
    let mut bases: Vec<(i64, i64)> = bases.into_iter().filter(|(_, b)| *b != 0).collect();
    bases.sort_by_key(|(h, _)| (joined.get(h).copied().unwrap_or(usize::MAX), *h));

    let basis_money: Vec<Money> = bases.iter().map(|(_, b)| Money::from_cents(*b)).collect();
    let capitals: Vec<Money> = members.iter().map(|m| Money::from_cents(m.capital)).collect();
    let d = hezuo_ledger::distribute(pool, &rules, &basis_money, &capitals)?;
    Ok(CloseView {
        cooperative_id,
        period: period.to_string(),
        first_day: first,
        last_day: last,
        rule_version_id,
        pool,
        reserve: d.reserve,
        reserve_share: d.reserve_share,
        distributable: d.distributable,
        rebate_total: d.rebate_total,
        dividend_total: d.dividend_total,
        rebates: bases
            .iter()
            .zip(&d.rebates)
            .map(|((h, b), a)| RebateView { household_id: *h, basis: Money::from_cents(*b), amount: *a })
            .collect(),
        dividends: members
            .iter()
            .zip(&d.dividends)
            .map(|(m, a)| DividendView {
                member: member_ref(m.household_id, m.village_id),
                capital: Money::from_cents(m.capital),
                amount: *a,
            })
            .collect(),
        transaction_id: None,
        closed_at: None,
        closed_by_user_id: None,
    })
}

/// A booked close as it was kept.
async fn stored(db: &impl ConnectionTrait, c: period_close::Model) -> Result<CloseView, AppError> {
    let lines = close_line::Entity::find()
        .filter(close_line::Column::CloseId.eq(c.id))
        .order_by(close_line::Column::Kind, Order::Desc)
        .order_by(close_line::Column::Seq, Order::Asc)
        .all(db)
        .await?;
    let mut rebates = Vec::new();
    let mut dividends = Vec::new();
    for l in lines {
        let (weight, amount) = (Money::from_cents(l.weight), Money::from_cents(l.amount));
        if l.kind == "rebate" {
            rebates.push(RebateView { household_id: l.household_id.unwrap_or_default(), basis: weight, amount });
        } else {
            dividends.push(DividendView { member: member_ref(l.household_id, l.village_id), capital: weight, amount });
        }
    }
    let period = Period::of(c.first_day);
    Ok(CloseView {
        cooperative_id: c.cooperative_id,
        period: period.to_string(),
        first_day: c.first_day,
        last_day: c.last_day,
        rule_version_id: c.rule_version_id,
        pool: Money::from_cents(c.pool),
        reserve: Money::from_cents(c.reserve),
        reserve_share: Money::from_cents(c.reserve_share),
        distributable: Money::from_cents(c.distributable),
        rebate_total: Money::from_cents(c.rebate_total),
        dividend_total: Money::from_cents(c.dividend_total),
        rebates,
        dividends,
        transaction_id: Some(c.transaction_id),
        closed_at: Some(c.closed_at),
        closed_by_user_id: c.actor_user_id,
    })
}

/// The close's `period.closed` deliveries, in its transaction: the close as
/// `POST …/periods/{period}/close` answers it, to every alliance with a station of the cooperative.
async fn closed(
    txn: &hezuo_db::sea_orm::DatabaseTransaction,
    cooperative_id: i64,
    period: Period,
) -> Result<(), AppError> {
    use crate::webhooks::{Event, outbox};
    let c =
        find_close(txn, cooperative_id, period).await?.ok_or_else(|| AppError::Internal("close not written".into()))?;
    let id = c.id;
    let view = stored(txn, c).await?;
    outbox::record(txn, Event::PeriodClosed, id, outbox::Audience::Cooperative(cooperative_id), &view).await
}

async fn find_close(
    db: &impl ConnectionTrait,
    cooperative_id: i64,
    period: Period,
) -> Result<Option<period_close::Model>, AppError> {
    Ok(period_close::Entity::find()
        .filter(period_close::Column::CooperativeId.eq(cooperative_id))
        .filter(period_close::Column::Period.eq(period.to_string()))
        .one(db)
        .await?)
}

impl App {
    /// The cooperative if the caller may close its periods (404 outside the scope).
    async fn closable(&self, p: &Principal, cooperative_id: i64) -> Result<(), AppError> {
        closer(p)?;
        cooperative::Entity::find_by_id(cooperative_id)
            .filter(scope::cooperatives(p)?)
            .one(&self.db)
            .await?
            .map(|_| ())
            .ok_or(AppError::NotFound("cooperative"))
    }

    /// Today in the deployment's time zone.
    pub fn today(&self) -> NaiveDate {
        crate::orders::local_day(self, self.now())
    }

    /// The first instant of local `day` (the deployment's time zone), in UTC.
    pub(crate) fn local_midnight(&self, day: NaiveDate) -> Result<DateTime<Utc>, AppError> {
        day.and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(self.config.timezone).earliest())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| AppError::Internal(format!("no midnight on {day}")))
    }

    /// `GET …/periods/{period}/close`: the booked close, or a preview of it as things stand.
    pub async fn preview_close(&self, p: &Principal, cooperative_id: i64, period: &str) -> Result<CloseView, AppError> {
        self.closable(p, cooperative_id).await?;
        let period = Period::parse(period)?;
        if let Some(c) = find_close(&self.db, cooperative_id, period).await? {
            return stored(&self.db, c).await;
        }
        compute(&self.db, cooperative_id, period).await
    }

    /// The period the cooperative closes next, as `close_period` takes them in order: the month
    /// after its last close, or, before any close, the month of its first booking. `None` when
    /// nothing was ever booked.
    pub async fn next_close_period(&self, p: &Principal, cooperative_id: i64) -> Result<Option<Period>, AppError> {
        self.closable(p, cooperative_id).await?;
        let coop = cooperative::Entity::find_by_id(cooperative_id)
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound("cooperative"))?;
        if let Some(through) = coop.closed_through {
            return Ok(Some(Period::of(through + Days::new(1))));
        }
        let first = ledger_transaction::Entity::find()
            .filter(ledger_transaction::Column::CooperativeId.eq(cooperative_id))
            .order_by(ledger_transaction::Column::BookingDate, Order::Asc)
            .one(&self.db)
            .await?;
        Ok(first.map(|t| Period::of(t.booking_date)))
    }

    /// `GET /cooperatives/{id}/periods`: the closed periods, latest first.
    pub async fn closed_periods(&self, p: &Principal, cooperative_id: i64) -> Result<Vec<ClosedPeriod>, AppError> {
        self.closable(p, cooperative_id).await?;
        Ok(period_close::Entity::find()
            .filter(period_close::Column::CooperativeId.eq(cooperative_id))
            .order_by(period_close::Column::FirstDay, Order::Desc)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|c| ClosedPeriod {
                period: Period::of(c.first_day).to_string(),
                pool: Money::from_cents(c.pool),
                reserve: Money::from_cents(c.reserve),
                rebate_total: Money::from_cents(c.rebate_total),
                dividend_total: Money::from_cents(c.dividend_total),
                transaction_id: c.transaction_id,
                closed_at: c.closed_at,
                closed_by_user_id: c.actor_user_id,
            })
            .collect())
    }

    /// `POST …/periods/{period}/close`: books the close once; again, the same result.
    pub async fn close_period(
        &self,
        p: &Principal,
        actor: &Actor,
        cooperative_id: i64,
        period: &str,
    ) -> Result<CloseView, AppError> {
        self.closable(p, cooperative_id).await?;
        let period = Period::parse(period)?;
        if let Some(c) = find_close(&self.db, cooperative_id, period).await? {
            return stored(&self.db, c).await;
        }
        if self.today() <= period.last_day() {
            return Err(AppError::Invalid {
                code: "period_not_ended",
                field: Some("period".into()),
                message: format!("{period} ends on {}; it can be closed from the day after", period.last_day()),
            });
        }
        let booked = {
            let _turn = self.write_turn().await;
            let txn = self.db.begin().await?;
            let result = match self.close_in(&txn, actor, cooperative_id, period).await {
                Ok(()) => closed(&txn, cooperative_id, period).await,
                Err(e) => Err(e),
            };
            crate::finish(txn, result).await
        };
        if booked.is_ok() {
            self.metrics.period_closed();
        }
        self.wake_webhooks();
        match booked {
            Ok(()) | Err(AppError::Conflict { code: "already_exists", .. }) => {
                let c = find_close(&self.db, cooperative_id, period)
                    .await?
                    .ok_or_else(|| AppError::Internal("close vanished".into()))?;
                stored(&self.db, c).await
            }
            Err(e) => Err(e),
        }
    }

    async fn close_in(
        &self,
        txn: &hezuo_db::sea_orm::DatabaseTransaction,
        actor: &Actor,
        cooperative_id: i64,
        period: Period,
    ) -> Result<(), AppError> {
        // Bookings hold this row shared while they pick their booking date; waiting for it here
        // means every booking into the period has committed, and none can start until we do.
        let coop = cooperative::Entity::find_by_id(cooperative_id)
            .lock(LockType::Update)
            .one(txn)
            .await?
            .ok_or(AppError::NotFound("cooperative"))?;
        if find_close(txn, cooperative_id, period).await?.is_some() {
            // A concurrent close got here first.
            return Ok(());
        }
        match coop.closed_through {
            Some(through) if through >= period.last_day() => {
                return Err(AppError::conflict(
                    "period_closed",
                    format!("{period} lies before the cooperative's first closed period and needs no close"),
                ));
            }
            Some(through) if through != period.prev().last_day() => {
                return Err(AppError::conflict(
                    "previous_period_open",
                    format!("close {} first: periods close in order", Period::of(through + Days::new(1))),
                ));
            }
            Some(_) => {}
            None => {
                let earlier = ledger_transaction::Entity::find()
                    .filter(ledger_transaction::Column::CooperativeId.eq(cooperative_id))
                    .filter(ledger_transaction::Column::BookingDate.lt(period.first_day()))
                    .order_by(ledger_transaction::Column::BookingDate, Order::Asc)
                    .one(txn)
                    .await?;
                if let Some(t) = earlier {
                    return Err(AppError::conflict(
                        "previous_period_open",
                        format!("close {} first: periods close in order", Period::of(t.booking_date)),
                    ));
                }
            }
        }
        let view = compute(txn, cooperative_id, period).await?;
        let mut entries = Vec::new();
        if view.pool.cents() > 0 {
            let e = |account: String, amount: Money| Entry { account, amount, line_id: None };
            entries.push(e(format!("coop:{cooperative_id}:pool"), view.pool.checked_neg()?));
            entries.push(e(format!("coop:{cooperative_id}:reserve"), view.reserve));
            for r in &view.rebates {
                entries.push(e(format!("household:{}", r.household_id), r.amount));
            }
            for d in &view.dividends {
                entries.push(e(d.member.account.clone(), d.amount));
            }
        }
        let tx = book(
            txn,
            Booking {
                kind: "close",
                cooperative_id,
                alliance_id: COOPERATIVE_WIDE,
                order_id: None,
                refund_id: None,
                booking_date: period.last_day(),
                memo: format!("close {period}"),
                basis: Vec::new(),
                sales: Vec::new(),
            },
            entries,
        )
        .await?;
        let close = period_close::ActiveModel {
            cooperative_id: Set(cooperative_id),
            period: Set(period.to_string()),
            first_day: Set(period.first_day()),
            last_day: Set(period.last_day()),
            rule_version_id: Set(view.rule_version_id),
            transaction_id: Set(tx),
            pool: Set(view.pool.cents()),
            reserve_share: Set(view.reserve_share.cents()),
            reserve: Set(view.reserve.cents()),
            distributable: Set(view.distributable.cents()),
            rebate_total: Set(view.rebate_total.cents()),
            dividend_total: Set(view.dividend_total.cents()),
            closed_at: Set(self.now()),
            actor_user_id: Set(actor.user_id),
            actor_token_id: Set(actor.token_id),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let seq = |i: usize| i32::try_from(i).map_err(|_| AppError::Internal("too many close lines".into()));
        let mut lines = Vec::with_capacity(view.rebates.len() + view.dividends.len());
        for (i, r) in view.rebates.iter().enumerate() {
            lines.push(close_line::ActiveModel {
                close_id: Set(close.id),
                kind: Set("rebate".into()),
                seq: Set(seq(i)?),
                household_id: Set(Some(r.household_id)),
                village_id: Set(None),
                weight: Set(r.basis.cents()),
                amount: Set(r.amount.cents()),
                ..Default::default()
            });
        }
        for (i, d) in view.dividends.iter().enumerate() {
            lines.push(close_line::ActiveModel {
                close_id: Set(close.id),
                kind: Set("dividend".into()),
                seq: Set(seq(i)?),
                household_id: Set(d.member.household_id),
                village_id: Set(d.member.village_id),
                weight: Set(d.capital.cents()),
                amount: Set(d.amount.cents()),
                ..Default::default()
            });
        }
        for chunk in lines.chunks(crate::ledger::ROWS_PER_INSERT) {
            close_line::Entity::insert_many(chunk.to_vec()).exec(txn).await?;
        }
        cooperative::Entity::update_many()
            .col_expr(cooperative::Column::ClosedThrough, Expr::value(period.last_day()))
            .filter(cooperative::Column::Id.eq(cooperative_id))
            .exec(txn)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        let p = Period::parse("2026-02").unwrap();
        assert_eq!(p.to_string(), "2026-02");
        assert_eq!(p.first_day(), NaiveDate::from_ymd_opt(2026, 2, 1).unwrap());
        assert_eq!(p.last_day(), NaiveDate::from_ymd_opt(2026, 2, 28).unwrap());
        assert_eq!(Period::parse("2028-02").unwrap().last_day().day(), 29);
        assert_eq!(Period::parse("2026-12").unwrap().next().to_string(), "2027-01");
        assert_eq!(Period::parse("2026-01").unwrap().prev().to_string(), "2025-12");
        assert_eq!(Period::of(NaiveDate::from_ymd_opt(2026, 7, 31).unwrap()).to_string(), "2026-07");
        for bad in
            ["2026-13", "2026-00", "2026-1", "26-01", "2026/01", "20x6-01", "1999-12", "2026-01-01", "", "+026-01"]
        {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
    }
}
