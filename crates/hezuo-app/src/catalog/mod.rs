//! A station's catalog and stock (API.md "Catalog and stock"): products, household lots,
//! adjustments, the movement journal, traceability, bulk import and export, low stock.
//! Station staff write; alliances read their stations'; admins do both.

mod import;
mod lots;
mod products;

pub use import::*;
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
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(|e| AppError::Internal(format!("csv: {e}")))?;
    }
    let bytes = w.into_inner().map_err(|e| AppError::Internal(format!("csv: {e}")))?;
    String::from_utf8(bytes).map_err(|e| AppError::Internal(format!("csv: {e}")))
}
