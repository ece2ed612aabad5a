//! Reports for villages, the alliance and stations (docs/domain.md "Village revenue"): other
//! operating income entries, a village's revenue by month against its target, the ranking of
//! the villages of a scope, a household's member account (成员账户) and a station's sales. They
//! read the per-month and per-day sums kept by the bookings (`village_sums`, `sales_days`,
//! `account_days`, `basis_days`) and the income entries, never all postings.

mod households;
mod income;
mod stations;
pub mod table;
mod villages;

pub use households::{HouseholdRef, MemberAccount, StatementLine};
pub use income::{IncomeEntry, IncomeMonth, RecordIncome};
pub use stations::{ChannelSales, DaySales, ProductSales, SalesTotals, StationRef, StationSales};
pub use table::{Cell, Table};
pub use villages::{RankedVillage, RevenueMonth, VillageRanking, VillageRef, VillageRevenue};

use crate::{App, AppError};
use chrono::{Datelike, NaiveDate};

/// Years a report may ask for.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// The longest range of a household statement or station sales report: five years.
pub const MAX_RANGE_YEARS: u32 = 5;

/// A report as a file: how the table(s) are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Xlsx,
}

impl FileFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            FileFormat::Csv => "text/csv; charset=utf-8",
            FileFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Xlsx => "xlsx",
        }
    }

    /// The tables in this format.
    pub fn render(self, tables: &[Table]) -> Result<Vec<u8>, AppError> {
        match self {
            FileFormat::Csv => table::to_csv(tables),
            FileFormat::Xlsx => table::to_xlsx(tables),
        }
    }
}

/// `?year=`: 2000–2100; this year on the business clock when absent.
pub(crate) fn year(app: &App, text: Option<&str>) -> Result<i32, AppError> {
    let Some(text) = text else { return Ok(app.today().year()) };
    text.parse::<i32>()
        .ok()
        .filter(|y| YEARS.contains(y) && text.len() == 4)
        .ok_or_else(|| AppError::invalid("year", format!("must be a year from {} to {}", YEARS.start(), YEARS.end())))
}

/// A date `YYYY-MM-DD` in the years reports cover.
pub(crate) fn date(field: &str, text: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .filter(|d| text.len() == 10 && YEARS.contains(&d.year()))
        .ok_or_else(|| {
            AppError::invalid(
                field,
                format!("must be a date YYYY-MM-DD in the years {} to {}", YEARS.start(), YEARS.end()),
            )
        })
}

/// A month `YYYY-MM` in the years reports cover, as its first day.
pub(crate) fn month(field: &str, text: &str) -> Result<NaiveDate, AppError> {
    let b = text.as_bytes();
    let shaped = b.len() == 7 && b[4] == b'-' && b.iter().enumerate().all(|(i, c)| i == 4 || c.is_ascii_digit());
    shaped
        .then(|| NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d").ok())
        .flatten()
        .filter(|d| YEARS.contains(&d.year()))
        .ok_or_else(|| {
            AppError::invalid(
                field,
                format!("must be a month YYYY-MM in the years {} to {}", YEARS.start(), YEARS.end()),
            )
        })
}

/// `?from=&to=` of a statement or sales report: both inclusive, `from` not after `to`, at most
/// five years; from the first of this year to today when absent.
pub(crate) fn range(app: &App, from: Option<&str>, to: Option<&str>) -> Result<(NaiveDate, NaiveDate), AppError> {
    let today = app.today();
    let to = match to {
        Some(t) => date("to", t)?,
        None => today,
    };
    let from = match from {
        Some(f) => date("from", f)?,
        None => NaiveDate::from_ymd_opt(to.year(), 1, 1).unwrap_or(to),
    };
    if from > to {
        return Err(AppError::invalid("from", format!("must not be after to ({to})")));
    }
    let limit = from.checked_add_months(chrono::Months::new(12 * MAX_RANGE_YEARS)).unwrap_or(NaiveDate::MAX);
    if to >= limit {
        return Err(AppError::invalid(
            "to",
            format!("a report covers at most {MAX_RANGE_YEARS} years (to before {limit})"),
        ));
    }
    Ok((from, to))
}

/// `YYYY-MM` of a month's first day.
pub(crate) fn month_text(first: NaiveDate) -> String {
    crate::periods::Period::of(first).to_string()
}

/// The twelve months of `year`, as first days.
pub(crate) fn months_of(year: i32) -> Vec<NaiveDate> {
    (1..=12).filter_map(|m| NaiveDate::from_ymd_opt(year, m, 1)).collect()
}
