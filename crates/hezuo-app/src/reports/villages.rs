//! A village collective's operating income by month against its yearly target, and the
//! ranking of the villages of a scope (薄弱村 flagged).

use super::{Cell, Table, month_text, months_of, year};
use crate::ledger::{SPAN_MONTH, SPAN_YEAR};
use crate::page::find_scoped;
use crate::{App, AppError, Principal, scope};
use chrono::{Datelike, NaiveDate};
use hezuo_core::Money;
use hezuo_db::entities::{village, village_income_month as income_month, village_sum};
use hezuo_db::sea_orm::sea_query::{Expr, Query};
use hezuo_db::sea_orm::{ColumnTrait, Condition, EntityTrait, FromQueryResult, QueryFilter, QuerySelect};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct VillageRef {
    pub id: i64,
    pub name: String,
    pub code: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct RevenueMonth {
    /// `YYYY-MM`.
    pub month: String,
    /// 集体提成: Σ `village:{id}` postings of sales and refunds booked in the month.
    pub sales_share: Money,
    /// 投资收益: the close dividends booked in the month.
    pub dividends: Money,
    /// Other operating income entries' shares of the month.
    pub other: Money,
    pub total: Money,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VillageRevenue {
    pub village: VillageRef,
    pub year: i32,
    /// Twelve, January first.
    pub months: Vec<RevenueMonth>,
    pub sales_share: Money,
    pub dividends: Money,
    pub other: Money,
    pub total: Money,
    /// The village's own target, else the configured default.
    pub target: Money,
    pub meets_target: bool,
    /// 薄弱村: the total (to date while the year runs) is below the target.
    pub weak: bool,
    /// The year has ended on the business clock.
    pub year_complete: bool,
    pub previous_year_total: Money,
    /// (total − previous) ÷ previous to four decimals; null when the previous total is 0.
    #[schema(value_type = Option<crate::openapi::Growth>)]
    pub growth: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RankedVillage {
    /// 1 for the highest total; ties go by village code.
    pub rank: u32,
    pub village: VillageRef,
    pub total: Money,
    pub target: Money,
    pub meets_target: bool,
    pub weak: bool,
    #[schema(value_type = Option<crate::openapi::Growth>)]
    pub growth: Option<Decimal>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VillageRanking {
    pub year: i32,
    pub year_complete: bool,
    /// The configured target of villages without their own.
    pub target_default: Money,
    pub villages: Vec<RankedVillage>,
    pub weak_count: u32,
}

/// Σ per month of a collective's sums.
#[derive(Debug, FromQueryResult)]
struct MonthSum {
    month: NaiveDate,
    sales: i64,
    dividends: i64,
}

#[derive(Debug, FromQueryResult)]
struct IncomeSum {
    month: NaiveDate,
    amount: i64,
}

/// Growth to four decimals, half away from zero; none when the previous total is zero.
pub(crate) fn growth(total: Money, previous: Money) -> Option<Decimal> {
    if previous == Money::ZERO {
        return None;
    }
    let change = Decimal::from(total.cents()) - Decimal::from(previous.cents());
    let ratio = change.checked_div(Decimal::from(previous.cents()))?;
    Some(ratio.round_dp_with_strategy(4, rust_decimal::RoundingStrategy::MidpointAwayFromZero).normalize_to(4))
}

trait NormalizeTo {
    fn normalize_to(self, dp: u32) -> Decimal;
}

impl NormalizeTo for Decimal {
    /// Exactly `dp` decimals in its text (`0.1000`, not `0.1`).
    fn normalize_to(mut self, dp: u32) -> Decimal {
        self.rescale(dp);
        self
    }
}

impl App {
    fn target_of(&self, v: &village::Model) -> Money {
        v.income_target.map_or(self.config.income_target, Money::from_cents)
    }

    fn year_complete(&self, year: i32) -> bool {
        self.today().year() > year
    }

    /// A village collective's month sums and other income from January of `first_year` to
    /// December of `last_year`, by month.
    async fn month_sums(
        &self,
        village_id: i64,
        first_year: i32,
        last_year: i32,
    ) -> Result<HashMap<NaiveDate, (i64, i64, i64)>, AppError> {
        let first = NaiveDate::from_ymd_opt(first_year, 1, 1).ok_or(AppError::Internal("year".into()))?;
        let last = NaiveDate::from_ymd_opt(last_year, 12, 1).ok_or(AppError::Internal("year".into()))?;
        let sums: Vec<MonthSum> = village_sum::Entity::find()
            .select_only()
            .column_as(village_sum::Column::PeriodStart, "month")
            .column_as(Expr::cust("CAST(SUM(sales) AS BIGINT)"), "sales")
            .column_as(Expr::cust("CAST(SUM(dividends) AS BIGINT)"), "dividends")
            .filter(village_sum::Column::VillageId.eq(village_id))
            .filter(village_sum::Column::Span.eq(SPAN_MONTH))
            .filter(village_sum::Column::PeriodStart.between(first, last))
            .group_by(village_sum::Column::PeriodStart)
            .into_model()
            .all(self.reader())
            .await?;
        let other: Vec<IncomeSum> = income_month::Entity::find()
            .select_only()
            .column(income_month::Column::Month)
            .column_as(Expr::cust("CAST(SUM(amount) AS BIGINT)"), "amount")
            .filter(income_month::Column::VillageId.eq(village_id))
            .filter(income_month::Column::Month.between(first, last))
            .group_by(income_month::Column::Month)
            .into_model()
            .all(self.reader())
            .await?;
        let mut out: HashMap<NaiveDate, (i64, i64, i64)> = HashMap::new();
        for s in sums {
            let e = out.entry(s.month).or_default();
            e.0 += s.sales;
            e.1 += s.dividends;
        }
        for s in other {
            out.entry(s.month).or_default().2 += s.amount;
        }
        Ok(out)
    }

    /// Every village's total of `year` among the villages of `scope`: the collective's year
    /// sums (at most eight rows per village) and its other income of the year's months.
    async fn year_totals(&self, scope: Condition, year: i32) -> Result<HashMap<i64, i64>, AppError> {
        let first = NaiveDate::from_ymd_opt(year, 1, 1).ok_or(AppError::Internal("year".into()))?;
        let last = NaiveDate::from_ymd_opt(year, 12, 1).ok_or(AppError::Internal("year".into()))?;
        let ids = Query::select().column(village::Column::Id).from(village::Entity).cond_where(scope).to_owned();
        let sums: Vec<(i64, i64)> = village_sum::Entity::find()
            .select_only()
            .column(village_sum::Column::VillageId)
            .column_as(Expr::cust("CAST(SUM(sales + dividends) AS BIGINT)"), "total")
            .filter(village_sum::Column::VillageId.in_subquery(ids.clone()))
            .filter(village_sum::Column::Span.eq(SPAN_YEAR))
            .filter(village_sum::Column::PeriodStart.eq(first))
            .group_by(village_sum::Column::VillageId)
            .into_tuple()
            .all(self.reader())
            .await?;
        let other: Vec<(i64, i64)> = income_month::Entity::find()
            .select_only()
            .column(income_month::Column::VillageId)
            .column_as(Expr::cust("CAST(SUM(amount) AS BIGINT)"), "total")
            .filter(income_month::Column::VillageId.in_subquery(ids))
            .filter(income_month::Column::Month.between(first, last))
            .group_by(income_month::Column::VillageId)
            .into_tuple()
            .all(self.reader())
            .await?;
        let mut out: HashMap<i64, i64> = HashMap::new();
        for (id, total) in sums.into_iter().chain(other) {
            let t = out.entry(id).or_default();
            *t = t.checked_add(total).ok_or(hezuo_core::Overflow)?;
        }
        Ok(out)
    }

    /// `GET /reports/villages/{id}/revenue?year=`.
    pub async fn village_revenue(
        &self,
        p: &Principal,
        village_id: i64,
        year_text: Option<&str>,
    ) -> Result<VillageRevenue, AppError> {
        let y = year(self, year_text)?;
        let v = find_scoped::<village::Entity>(self.reader(), village_id, scope::villages(p)?, "village").await?;
        let sums = self.month_sums(v.id, y - 1, y).await?;
        let add = |a: Money, b: Money| a.checked_add(b);
        let mut months = Vec::with_capacity(12);
        let (mut sales, mut dividends, mut other, mut previous) = (Money::ZERO, Money::ZERO, Money::ZERO, Money::ZERO);
        for first in months_of(y) {
            let (s, d, o) = sums.get(&first).copied().unwrap_or_default();
            let (s, d, o) = (Money::from_cents(s), Money::from_cents(d), Money::from_cents(o));
            let total = add(add(s, d)?, o)?;
            sales = add(sales, s)?;
            dividends = add(dividends, d)?;
            other = add(other, o)?;
            months.push(RevenueMonth { month: month_text(first), sales_share: s, dividends: d, other: o, total });
        }
        for first in months_of(y - 1) {
            let (s, d, o) = sums.get(&first).copied().unwrap_or_default();
            previous = add(previous, Money::from_cents(s + d + o))?;
        }
        let total = add(add(sales, dividends)?, other)?;
        let target = self.target_of(&v);
        Ok(VillageRevenue {
            village: VillageRef { id: v.id, name: v.name, code: v.code },
            year: y,
            months,
            sales_share: sales,
            dividends,
            other,
            total,
            target,
            meets_target: total >= target,
            weak: total < target,
            year_complete: self.year_complete(y),
            previous_year_total: previous,
            growth: growth(total, previous),
        })
    }

    /// `GET /reports/villages?year=`: every village of the caller's scope ranked by the year's
    /// total, highest first, ties by code.
    pub async fn village_ranking(&self, p: &Principal, year_text: Option<&str>) -> Result<VillageRanking, AppError> {
        let y = year(self, year_text)?;
        let cond = scope::villages(p)?;
        let villages = village::Entity::find().filter(cond.clone()).all(self.reader()).await?;
        let (this, last) = (self.year_totals(cond.clone(), y).await?, self.year_totals(cond, y - 1).await?);
        let mut ranked: Vec<RankedVillage> = villages
            .into_iter()
            .map(|v| {
                let total = this.get(&v.id).copied().unwrap_or_default();
                let previous = last.get(&v.id).copied().unwrap_or_default();
                let (total, previous) = (Money::from_cents(total), Money::from_cents(previous));
                let target = self.target_of(&v);
                RankedVillage {
                    rank: 0,
                    village: VillageRef { id: v.id, name: v.name, code: v.code },
                    total,
                    target,
                    meets_target: total >= target,
                    weak: total < target,
                    growth: growth(total, previous),
                }
            })
            .collect();
        ranked.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.village.code.cmp(&b.village.code)));
        for (i, r) in ranked.iter_mut().enumerate() {
            r.rank = u32::try_from(i + 1).unwrap_or(u32::MAX);
        }
        let weak_count = u32::try_from(ranked.iter().filter(|r| r.weak).count()).unwrap_or(u32::MAX);
        Ok(VillageRanking {
            year: y,
            year_complete: self.year_complete(y),
            target_default: self.config.income_target,
            villages: ranked,
            weak_count,
        })
    }
}

fn growth_cell(g: Option<Decimal>) -> Cell {
    Cell::opt(g, Cell::Ratio)
}

impl VillageRevenue {
    /// 村级集体经营性收入: the months with a year row, and the summary.
    pub fn tables(&self) -> Vec<Table> {
        let mut rows: Vec<Vec<Cell>> = self
            .months
            .iter()
            .map(|m| {
                vec![
                    Cell::code(&m.month),
                    Cell::Money(m.sales_share),
                    Cell::Money(m.dividends),
                    Cell::Money(m.other),
                    Cell::Money(m.total),
                ]
            })
            .collect();
        rows.push(vec![
            Cell::text("全年"),
            Cell::Money(self.sales_share),
            Cell::Money(self.dividends),
            Cell::Money(self.other),
            Cell::Money(self.total),
        ]);
        let months =
            Table {
                title: "月度收入", headers: vec!["月份", "销售提成", "分红收益", "其他经营收入", "合计"], rows
            };
        let summary = Table {
            title: "年度汇总",
            headers: vec![
                "村ID",
                "村名",
                "区划代码",
                "年度",
                "全年合计",
                "收入目标",
                "达标",
                "薄弱村",
                "年度已结束",
                "上年合计",
                "增长率",
            ],
            rows: vec![vec![
                Cell::code(self.village.id),
                Cell::text(&self.village.name),
                Cell::code(&self.village.code),
                Cell::Int(i64::from(self.year)),
                Cell::Money(self.total),
                Cell::Money(self.target),
                Cell::Flag(self.meets_target),
                Cell::Flag(self.weak),
                Cell::Flag(self.year_complete),
                Cell::Money(self.previous_year_total),
                growth_cell(self.growth),
            ]],
        };
        vec![months, summary]
    }
}

impl VillageRanking {
    /// 村级收入排名: one row per village.
    pub fn tables(&self) -> Vec<Table> {
        let rows = self
            .villages
            .iter()
            .map(|r| {
                vec![
                    Cell::Int(i64::from(r.rank)),
                    Cell::code(r.village.id),
                    Cell::text(&r.village.name),
                    Cell::code(&r.village.code),
                    Cell::Money(r.total),
                    Cell::Money(r.target),
                    Cell::Flag(r.meets_target),
                    Cell::Flag(r.weak),
                    growth_cell(r.growth),
                ]
            })
            .collect();
        vec![Table {
            title: "村级收入排名",
            headers: vec!["排名", "村ID", "村名", "区划代码", "全年合计", "收入目标", "达标", "薄弱村", "增长率"],
            rows,
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::growth;
    use hezuo_core::Money;

    #[test]
    fn growth_has_four_decimals_and_none_without_a_previous_total() {
        let m = Money::from_cents;
        assert_eq!(growth(m(150), m(100)).unwrap().to_string(), "0.5000");
        assert_eq!(growth(m(100), m(300)).unwrap().to_string(), "-0.6667");
        assert_eq!(growth(m(200_001), m(200_000)).unwrap().to_string(), "0.0000");
        assert_eq!(growth(m(200_010), m(200_000)).unwrap().to_string(), "0.0001");
        assert_eq!(growth(m(0), m(-100)).unwrap().to_string(), "-1.0000");
        assert!(growth(m(100), m(0)).is_none());
    }
}
