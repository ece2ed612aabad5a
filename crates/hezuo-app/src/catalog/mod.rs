//! A station's catalog and stock (API.md "Catalog and stock"): products, household lots,
//! adjustments, the movement journal, traceability, bulk import and export, low stock.
//! Station staff write; alliances read their stations'; admins do both.

mod import;
mod label;
mod lots;
mod products;

pub use import::*;
pub use label::*;
pub use lots::*;
pub use products::*;

use crate::{AppError, Principal, scope};
use hezuo_db::entities::station;
use hezuo_db::sea_orm::{ConnectionTrait, EntityTrait, QueryFilter};

/// The station of a catalog request, if the caller may read it (404 otherwise).
pub(crate) async fn readable_station(
    db: &impl ConnectionTrait,
    p: &Principal,
    station_id: i64,
) -> Result<station::Model, AppError> {
    // Station rows are checked against the `stations` scope (their own id), not `station_rows`.
    station::Entity::find_by_id(station_id)
        .filter(scope::stations(p)?)
        .one(db)
        .await?
        .ok_or(AppError::NotFound("station"))
}

/// The station of a catalog write: the role must write catalogs (403), the station must be
/// the caller's (404).
pub(crate) async fn writable_station(
    db: &impl ConnectionTrait,
    p: &Principal,
    station_id: i64,
) -> Result<station::Model, AppError> {
    scope::station_rows_writable(p)?;
    readable_station(db, p, station_id).await
}

/// Renders rows as CSV text with a header.
pub(crate) fn to_csv<R: serde::Serialize>(rows: impl IntoIterator<Item = R>) -> Result<String, AppError> {
    let e = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(e)?;
    }
    let bytes = w.into_inner().map_err(|e| AppError::Internal(format!("csv: {e}")))?;
    // Every cell once more through the formula guard: one place for every CSV written.
    let mut safe = csv::Writer::from_writer(Vec::with_capacity(bytes.len() + bytes.len() / 16));
    for record in csv::ReaderBuilder::new().has_headers(false).from_reader(bytes.as_slice()).records() {
        let record = record.map_err(e)?;
        safe.write_record(record.iter().map(|c| spreadsheet_safe(c).into_owned())).map_err(e)?;
    }
    let bytes = safe.into_inner().map_err(|e| AppError::Internal(format!("csv: {e}")))?;
    String::from_utf8(bytes).map_err(|e| AppError::Internal(format!("csv: {e}")))
}

/// A cell that a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab
/// or a carriage return) gets a leading `'`, so Excel shows it as text. Plain numbers (a
/// negative amount such as `-12.30`) stay as they are: they are not formulas.
pub(crate) fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let number = cell.strip_prefix('-').is_some_and(|d| {
        let mut parts = d.splitn(2, '.');
        let whole = parts.next().unwrap_or("");
        let frac = parts.next();
        !whole.is_empty()
            && whole.bytes().all(|b| b.is_ascii_digit())
            && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
    });
    if risky && !number { std::borrow::Cow::Owned(format!("'{cell}")) } else { std::borrow::Cow::Borrowed(cell) }
}

#[cfg(test)]
mod csv_tests {
    use super::spreadsheet_safe;

    #[test]
    fn formulas_are_quoted_numbers_are_not() {
        for (cell, want) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1+1", "'+1+1"),
            ("-1+1", "'-1+1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("-", "'-"),
            ("-12.30", "-12.30"),
            ("-5", "-5"),
            ("12.30", "12.30"),
            ("水蜜桃", "水蜜桃"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_safe(cell), want, "{cell:?}");
        }
    }
}
