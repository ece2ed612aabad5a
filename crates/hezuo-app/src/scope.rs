//! Tenancy: which rows of each set-up table a principal may see (SPEC §1). Every read and
//! write of a scoped table goes through one of these conditions; a role that may not read a
//! table at all gets `Forbidden` (403), an object outside the scope is simply not found (404).

use crate::{AppError, Principal};
use hezuo_db::sea_orm::{Condition, sea_query::Expr};

fn all() -> Condition {
    Condition::all()
}

fn sql(text: &str, values: &[i64]) -> Condition {
    Condition::all().add(Expr::cust_with_values(
        text.to_owned(),
        values.iter().copied(),
    ))
}

/// Cooperatives: those of the caller's stations.
pub fn cooperatives(p: &Principal) -> Result<Condition, AppError> {
    match *p {
        Principal::Admin => Ok(all()),
        Principal::Alliance { alliance_id } => Ok(sql(
            "id IN (SELECT cooperative_id FROM stations WHERE alliance_id = ?)",
            &[alliance_id],
        )),
        Principal::Staff { cooperative_id, .. } => Ok(sql("id = ?", &[cooperative_id])),
        Principal::Village { .. } => Err(AppError::Forbidden),
    }
}

/// Households: village users see their village's; station staff and alliances see the members
/// of their cooperatives (the households that may supply their stations).
pub fn households(p: &Principal) -> Result<Condition, AppError> {
    match *p {
        Principal::Admin => Ok(all()),
        Principal::Village { village_id } => Ok(sql("village_id = ?", &[village_id])),
        Principal::Alliance { alliance_id } => Ok(sql(
            "id IN (SELECT household_id FROM cooperative_members WHERE cooperative_id IN \
             (SELECT cooperative_id FROM stations WHERE alliance_id = ?))",
            &[alliance_id],
        )),
        Principal::Staff { cooperative_id, .. } => Ok(sql(
            "id IN (SELECT household_id FROM cooperative_members WHERE cooperative_id = ?)",
            &[cooperative_id],
        )),
    }
}

/// Villages: a village user's own; for stations and alliances, the villages their stations
/// stand in and the villages of their cooperatives' members (households and collectives).
pub fn villages(p: &Principal) -> Result<Condition, AppError> {
    let through_coops = |coops: &str, stations: &str, v: i64| {
        let text = format!(
            "id IN (SELECT village_id FROM stations WHERE {stations}) \
             OR id IN (SELECT village_id FROM cooperative_members WHERE village_id IS NOT NULL AND cooperative_id IN ({coops})) \
             OR id IN (SELECT h.village_id FROM households h JOIN cooperative_members m ON m.household_id = h.id \
                       WHERE m.cooperative_id IN ({coops}))"
        );
        sql(&text, &[v, v, v])
    };
    match *p {
        Principal::Admin => Ok(all()),
        Principal::Village { village_id } => Ok(sql("id = ?", &[village_id])),
        Principal::Alliance { alliance_id } => Ok(through_coops(
            "SELECT cooperative_id FROM stations WHERE alliance_id = ?",
            "alliance_id = ?",
            alliance_id,
        )),
        Principal::Staff {
            station_id,
            cooperative_id,
            ..
        } => {
            let text = "id IN (SELECT village_id FROM stations WHERE id = ?) \
                 OR id IN (SELECT village_id FROM cooperative_members WHERE village_id IS NOT NULL AND cooperative_id = ?) \
                 OR id IN (SELECT h.village_id FROM households h JOIN cooperative_members m ON m.household_id = h.id \
                           WHERE m.cooperative_id = ?)";
            Ok(sql(text, &[station_id, cooperative_id, cooperative_id]))
        }
    }
}

/// Alliances: an alliance user's own; staff see their station's alliance.
pub fn alliances(p: &Principal) -> Result<Condition, AppError> {
    match *p {
        Principal::Admin => Ok(all()),
        Principal::Alliance { alliance_id } | Principal::Staff { alliance_id, .. } => {
            Ok(sql("id = ?", &[alliance_id]))
        }
        Principal::Village { .. } => Err(AppError::Forbidden),
    }
}

/// Stations: an alliance's stations; staff their own.
pub fn stations(p: &Principal) -> Result<Condition, AppError> {
    match *p {
        Principal::Admin => Ok(all()),
        Principal::Alliance { alliance_id } => Ok(sql("alliance_id = ?", &[alliance_id])),
        Principal::Staff { station_id, .. } => Ok(sql("id = ?", &[station_id])),
        Principal::Village { .. } => Err(AppError::Forbidden),
    }
}

/// Channels: those of the caller's alliance (staff take orders through them).
pub fn channels(p: &Principal) -> Result<Condition, AppError> {
    match *p {
        Principal::Admin => Ok(all()),
        Principal::Alliance { alliance_id } | Principal::Staff { alliance_id, .. } => {
            Ok(sql("alliance_id = ?", &[alliance_id]))
        }
        Principal::Village { .. } => Err(AppError::Forbidden),
    }
}

/// Users: administered by admins only.
pub fn users(p: &Principal) -> Result<Condition, AppError> {
    p.require_admin().map(|_| all())
}
