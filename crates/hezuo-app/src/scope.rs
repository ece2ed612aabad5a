//! Tenancy: which rows of each set-up table a principal may see (SPEC §1). Every read and
//! write of a scoped table goes through one of these conditions; a role that may not read a
//! table at all gets `Forbidden` (403), an object outside the scope is simply not found (404).

use crate::{AppError, Principal};
use hezuo_db::sea_orm::Condition;
use hezuo_db::sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement, SimpleExpr};

fn all() -> Condition {
    Condition::all()
}

fn only(e: SimpleExpr) -> Condition {
    Condition::all().add(e)
}

/// `SELECT column FROM table WHERE cond`.
fn select(column: &'static str, table: &'static str, cond: SimpleExpr) -> SelectStatement {
    Query::select().column(column).from(table).and_where(cond).to_owned()
}

/// The cooperatives a principal works with: those of its stations.
fn coops_of(p: &Principal) -> Option<SimpleExpr> {
    match *p {
        Principal::Alliance { alliance_id } => Some(Expr::col("cooperative_id").in_subquery(select(
            "cooperative_id",
            "stations",
            Expr::col("alliance_id").eq(alliance_id),
        ))),
        Principal::Staff { cooperative_id, .. } => Some(Expr::col("cooperative_id").eq(cooperative_id)),
        _ => None,
    }
}

/// Cooperatives: those of the caller's stations.
pub fn cooperatives(p: &Principal) -> Result<Condition, AppError> {
    match *p {
        Principal::Admin => Ok(all()),
        Principal::Alliance { alliance_id } => Ok(only(Expr::col("id").in_subquery(select(
            "cooperative_id",
            "stations",
            Expr::col("alliance_id").eq(alliance_id),
        )))),
        Principal::Staff { cooperative_id, .. } => Ok(only(Expr::col("id").eq(cooperative_id))),
        Principal::Village { .. } => Err(AppError::Forbidden),
    }
}

/// Households: village users see their village's; station staff and alliances see the members
/// of their cooperatives (the households that may supply their stations).
pub fn households(p: &Principal) -> Result<Condition, AppError> {
    match (*p, coops_of(p)) {
        (Principal::Admin, _) => Ok(all()),
        (Principal::Village { village_id }, _) => Ok(only(Expr::col("village_id").eq(village_id))),
        (_, Some(coops)) => Ok(only(Expr::col("id").in_subquery(select("household_id", "cooperative_members", coops)))),
        (_, None) => Err(AppError::Forbidden),
    }
}

/// Villages: a village user's own; for stations and alliances, the villages their stations
/// stand in and the villages of their cooperatives' members (households and collectives).
pub fn villages(p: &Principal) -> Result<Condition, AppError> {
    let stations = match *p {
        Principal::Admin => return Ok(all()),
        Principal::Village { village_id } => return Ok(only(Expr::col("id").eq(village_id))),
        Principal::Alliance { alliance_id } => Expr::col("alliance_id").eq(alliance_id),
        Principal::Staff { station_id, .. } => Expr::col("id").eq(station_id),
    };
    let coops = coops_of(p).ok_or(AppError::Forbidden)?;
    let member_households = select("household_id", "cooperative_members", coops.clone());
    Ok(Condition::any()
        .add(Expr::col("id").in_subquery(select("village_id", "stations", stations)))
        .add(Expr::col("id").in_subquery(select("village_id", "cooperative_members", coops)))
        .add(Expr::col("id").in_subquery(select(
            "village_id",
            "households",
            Expr::col("id").in_subquery(member_households),
        ))))
}

/// Alliances: an alliance user's own; staff see their station's alliance.
pub fn alliances(p: &Principal) -> Result<Condition, AppError> {
    match *p {
        Principal::Admin => Ok(all()),
        Principal::Alliance { alliance_id } | Principal::Staff { alliance_id, .. } => {
            Ok(only(Expr::col("id").eq(alliance_id)))
        }
        Principal::Village { .. } => Err(AppError::Forbidden),
    }
}

/// Stations: an alliance's stations; staff their own.
pub fn stations(p: &Principal) -> Result<Condition, AppError> {
    match *p {
        Principal::Admin => Ok(all()),
        Principal::Alliance { alliance_id } => Ok(only(Expr::col("alliance_id").eq(alliance_id))),
        Principal::Staff { station_id, .. } => Ok(only(Expr::col("id").eq(station_id))),
        Principal::Village { .. } => Err(AppError::Forbidden),
    }
}

/// Channels: those of the caller's alliance (staff take orders through them).
pub fn channels(p: &Principal) -> Result<Condition, AppError> {
    match *p {
        Principal::Admin => Ok(all()),
        Principal::Alliance { alliance_id } | Principal::Staff { alliance_id, .. } => {
            Ok(only(Expr::col("alliance_id").eq(alliance_id)))
        }
        Principal::Village { .. } => Err(AppError::Forbidden),
    }
}

/// Users: administered by admins only.
pub fn users(p: &Principal) -> Result<Condition, AppError> {
    p.require_admin().map(|_| all())
}

/// Rows that belong to a station (products, lots), for reading: an alliance reads its
/// stations', staff their own station's.
pub fn station_rows(p: &Principal) -> Result<Condition, AppError> {
    match *p {
        Principal::Admin => Ok(all()),
        Principal::Alliance { alliance_id } => Ok(only(Expr::col("station_id").in_subquery(select(
            "id",
            "stations",
            Expr::col("alliance_id").eq(alliance_id),
        )))),
        Principal::Staff { station_id, .. } => Ok(only(Expr::col("station_id").eq(station_id))),
        Principal::Village { .. } => Err(AppError::Forbidden),
    }
}

/// Rows that belong to a station, for writing: the station's staff (and admins).
pub fn station_rows_writable(p: &Principal) -> Result<Condition, AppError> {
    match *p {
        Principal::Admin => Ok(all()),
        Principal::Staff { station_id, .. } => Ok(only(Expr::col("station_id").eq(station_id))),
        Principal::Alliance { .. } | Principal::Village { .. } => Err(AppError::Forbidden),
    }
}
