//! Other operating income of a village collective (物业、服务及其他经营收入): entries with the
//! months they cover, never edited; removing one books its reversal.

use super::{date, month, month_text, year};
use crate::page::{Page, PageRequest, find_scoped};
use crate::{Actor, App, AppError, Principal, scope};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use hezuo_core::{Money, split};
use hezuo_db::entities::{village, village_income as entry, village_income_month as entry_month};
use hezuo_db::sea_orm::sea_query::{Expr, ExprTrait, Query};
use hezuo_db::sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Categories of operating income. Subsidies (补助收入) and donations are not operating income.
pub const CATEGORIES: [&str; 4] = ["rent", "service", "investment", "other"];

/// At most this many months for one payment: ten years.
pub const MAX_COVERED_MONTHS: usize = 120;

/// Longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 500;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordIncome {
    /// When the income was received.
    #[schema(value_type = crate::openapi::ReportDate)]
    pub date: String,
    /// More than 0, at most two decimals.
    #[schema(value_type = crate::openapi::IncomeAmountInput)]
    pub amount: Money,
    /// `rent` 租赁, `service` 服务, `investment` 投资收益 or `other` 其他经营收入.
    #[schema(value_type = crate::openapi::IncomeCategory)]
    pub category: String,
    /// Up to 500 characters.
    #[schema(value_type = Option<crate::openapi::OptionalNote>)]
    pub note: Option<String>,
    /// First month a payment for several months covers (`YYYY-MM`); with `covers_to`.
    #[schema(value_type = Option<crate::openapi::Month>)]
    pub covers_from: Option<String>,
    /// Last month it covers, not before `covers_from`, at most 120 months in all.
    #[schema(value_type = Option<crate::openapi::Month>)]
    pub covers_to: Option<String>,
}

/// An entry's share of one month.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct IncomeMonth {
    /// `YYYY-MM`.
    pub month: String,
    pub amount: Money,
}

/// An income entry, or the reversal of one (negative, with `reverses_id`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IncomeEntry {
    pub id: i64,
    pub village_id: i64,
    pub date: NaiveDate,
    pub amount: Money,
    pub category: String,
    pub note: String,
    pub covers_from: Option<String>,
    pub covers_to: Option<String>,
    /// Set on a reversal: the entry it removes.
    pub reverses_id: Option<i64>,
    /// Set on a removed entry: its reversal.
    pub reversed_by: Option<i64>,
    /// The amount spread over the months it counts in (cents by `split`, equal weights).
    pub months: Vec<IncomeMonth>,
    pub created_at: DateTime<Utc>,
}

/// The village of an income write: admins any, a village user its own (404 for another), every
/// other role 403.
async fn writable_village(app: &App, p: &Principal, village_id: i64) -> Result<village::Model, AppError> {
    match p {
        Principal::Admin | Principal::Village { .. } => {}
        Principal::Alliance { .. } | Principal::Staff { .. } => return Err(AppError::Forbidden),
    }
    find_scoped::<village::Entity>(&app.db, village_id, scope::villages(p)?, "village").await
}

/// `covers_from`, `covers_to` (first days) and every month an entry counts in.
type Covered = (Option<NaiveDate>, Option<NaiveDate>, Vec<NaiveDate>);

/// The months an entry covers: `covers_from..=covers_to`, or the month of its date.
fn covered(req: &RecordIncome, day: NaiveDate) -> Result<Covered, AppError> {
    let (from, to) = match (&req.covers_from, &req.covers_to) {
        (None, None) => {
            let first = crate::periods::Period::of(day).first_day();
            return Ok((None, None, vec![first]));
        }
        (Some(f), Some(t)) => (month("covers_from", f)?, month("covers_to", t)?),
        (Some(_), None) => return Err(AppError::invalid("covers_to", "must be given with covers_from")),
        (None, Some(_)) => return Err(AppError::invalid("covers_from", "must be given with covers_to")),
    };
    if to < from {
        return Err(AppError::invalid("covers_to", "must not be before covers_from"));
    }
    let n = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32 + 1;
    if n as usize > MAX_COVERED_MONTHS {
        return Err(AppError::invalid("covers_to", format!("a payment covers at most {MAX_COVERED_MONTHS} months")));
    }
    let months = (0..n as u32).filter_map(|i| from.checked_add_months(chrono::Months::new(i))).collect();
    Ok((Some(from), Some(to), months))
}

impl App {
    /// `POST /villages/{id}/income`: one entry with its months, in one transaction.
    pub async fn record_income(
        &self,
        p: &Principal,
        actor: &Actor,
        village_id: i64,
        req: RecordIncome,
    ) -> Result<IncomeEntry, AppError> {
        writable_village(self, p, village_id).await?;
        let day = date("date", &req.date)?;
        if req.amount.cents() <= 0 {
            return Err(AppError::invalid("amount", "must be more than 0"));
        }
        crate::validate::non_negative("amount", req.amount)?;
        if !CATEGORIES.contains(&req.category.as_str()) {
            return Err(AppError::invalid(
                "category",
                "must be rent, service, investment or other (subsidies 补助收入 and donations are not operating income)",
            ));
        }
        let note = match req.note.as_deref().map(str::trim) {
            None | Some("") => String::new(),
            Some(n) => hezuo_catalog::text("note", n, MAX_NOTE_CHARS)?,
        };
        let (covers_from, covers_to, months) = covered(&req, day)?;
        let amounts = split(req.amount, &vec![1; months.len()]).map_err(|e| AppError::Internal(e.to_string()))?;
        let row = entry::ActiveModel {
            village_id: Set(village_id),
            entry_date: Set(day),
            amount: Set(req.amount.cents()),
            category: Set(req.category),
            note: Set(note),
            covers_from: Set(covers_from),
            covers_to: Set(covers_to),
            reverses_id: Set(None),
            actor_user_id: Set(actor.user_id),
            actor_token_id: Set(actor.token_id),
            created_at: Set(crate::now()),
            ..Default::default()
        };
        let allocation: Vec<(NaiveDate, i64)> = months.into_iter().zip(amounts.iter().map(|m| m.cents())).collect();
        let m = self.insert_entry(row, &allocation).await?;
        Ok(view(m, &allocation, None))
    }

    /// The entry and its months in one transaction.
    async fn insert_entry(
        &self,
        row: entry::ActiveModel,
        months: &[(NaiveDate, i64)],
    ) -> Result<entry::Model, AppError> {
        let _turn = self.write_turn().await;
        let txn = self.db.begin().await?;
        let result = async {
            let m = row.insert(&txn).await?;
            let rows = months.iter().map(|(month, amount)| entry_month::ActiveModel {
                entry_id: Set(m.id),
                month: Set(*month),
                village_id: Set(m.village_id),
                amount: Set(*amount),
            });
            entry_month::Entity::insert_many(rows).exec(&txn).await?;
            Ok(m)
        }
        .await;
        crate::finish(txn, result).await
    }

    /// `DELETE /villages/{id}/income/{entry_id}`: books the entry's reversal (dated today, the
    /// same months negated), once.
    pub async fn reverse_income(
        &self,
        p: &Principal,
        actor: &Actor,
        village_id: i64,
        entry_id: i64,
    ) -> Result<IncomeEntry, AppError> {
        writable_village(self, p, village_id).await?;
        let original = entry::Entity::find_by_id(entry_id)
            .filter(entry::Column::VillageId.eq(village_id))
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound("income entry"))?;
        if original.reverses_id.is_some() {
            return Err(AppError::conflict("is_reversal", "this entry is a reversal; it cannot be removed"));
        }
        let months = self.months_of_entries(&[original.id]).await?.remove(&original.id).unwrap_or_default();
        let negated: Vec<(NaiveDate, i64)> = months.iter().map(|(m, a)| (*m, -a)).collect();
        let row = entry::ActiveModel {
            village_id: Set(village_id),
            entry_date: Set(self.today()),
            amount: Set(-original.amount),
            category: Set(original.category.clone()),
            note: Set(original.note.clone()),
            covers_from: Set(original.covers_from),
            covers_to: Set(original.covers_to),
            reverses_id: Set(Some(original.id)),
            actor_user_id: Set(actor.user_id),
            actor_token_id: Set(actor.token_id),
            created_at: Set(crate::now()),
            ..Default::default()
        };
        let m = self.insert_entry(row, &negated).await.map_err(|e| match e {
            AppError::Conflict { .. } => AppError::conflict("already_reversed", "this entry is already removed"),
            other => other,
        })?;
        Ok(view(m, &negated, None))
    }

    /// `GET /villages/{id}/income?year=`: the entries that count in the year (every entry
    /// without one), with their reversals, in id order.
    pub async fn list_income(
        &self,
        p: &Principal,
        village_id: i64,
        year_text: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<IncomeEntry>, AppError> {
        find_scoped::<village::Entity>(&self.db, village_id, scope::villages(p)?, "village").await?;
        let mut q = entry::Entity::find().filter(entry::Column::VillageId.eq(village_id));
        if year_text.is_some() {
            let y = year(self, year_text)?;
            let (first, last) = (NaiveDate::from_ymd_opt(y, 1, 1), NaiveDate::from_ymd_opt(y, 12, 1));
            q = q.filter(
                entry::Column::Id.in_subquery(
                    Query::select()
                        .column(entry_month::Column::EntryId)
                        .from(entry_month::Entity)
                        .and_where(Expr::col(entry_month::Column::VillageId).eq(village_id))
                        .and_where(Expr::col(entry_month::Column::Month).between(first, last))
                        .to_owned(),
                ),
            );
        }
        if let Some(after) = page.after {
            q = q.filter(entry::Column::Id.gt(after));
        }
        let mut rows = q.order_by(entry::Column::Id, Order::Asc).limit(page.limit + 1).all(&self.db).await?;
        let next_cursor = if rows.len() as u64 > page.limit {
            rows.truncate(page.limit as usize);
            rows.last().map(|r| r.id.to_string())
        } else {
            None
        };
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut months = self.months_of_entries(&ids).await?;
        let reversals: BTreeMap<i64, i64> = entry::Entity::find()
            .select_only()
            .column(entry::Column::ReversesId)
            .column(entry::Column::Id)
            .filter(entry::Column::ReversesId.is_in(ids))
            .into_tuple::<(i64, i64)>()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        let items = rows
            .into_iter()
            .map(|r| {
                let m = months.remove(&r.id).unwrap_or_default();
                let by = reversals.get(&r.id).copied();
                view(r, &m, by)
            })
            .collect();
        Ok(Page { items, next_cursor })
    }

    /// The months of entries (at most a page of them), by entry.
    async fn months_of_entries(&self, ids: &[i64]) -> Result<BTreeMap<i64, Vec<(NaiveDate, i64)>>, AppError> {
        let mut out: BTreeMap<i64, Vec<(NaiveDate, i64)>> = BTreeMap::new();
        for m in entry_month::Entity::find()
            .filter(entry_month::Column::EntryId.is_in(ids.to_vec()))
            .order_by(entry_month::Column::EntryId, Order::Asc)
            .order_by(entry_month::Column::Month, Order::Asc)
            .all(&self.db)
            .await?
        {
            out.entry(m.entry_id).or_default().push((m.month, m.amount));
        }
        Ok(out)
    }
}

fn view(m: entry::Model, months: &[(NaiveDate, i64)], reversed_by: Option<i64>) -> IncomeEntry {
    IncomeEntry {
        id: m.id,
        village_id: m.village_id,
        date: m.entry_date,
        amount: Money::from_cents(m.amount),
        category: m.category,
        note: m.note,
        covers_from: m.covers_from.map(month_text),
        covers_to: m.covers_to.map(month_text),
        reverses_id: m.reverses_id,
        reversed_by,
        months: months
            .iter()
            .map(|(month, a)| IncomeMonth { month: month_text(*month), amount: Money::from_cents(*a) })
            .collect(),
        created_at: m.created_at,
    }
}
