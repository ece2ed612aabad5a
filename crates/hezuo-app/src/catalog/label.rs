//! A lot's produce label (承诺达标合格证) and its public trace (`GET /t/{code}`): the station
//! issues the certificate as the buyer, so both name the product, the station (issuer and
//! phone), the place of origin (township and village) and the cooperative — never the
//! household, which stays behind the station (个人信息保护法 art. 25).

use crate::{App, AppError, Principal, scope};
use chrono::{DateTime, NaiveDate, Utc};
use hezuo_core::Quantity;
use hezuo_db::entities::{cooperative, lot, product, station, village};
use hezuo_db::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;

/// The issuer of a label: the station.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Issuer {
    pub name: String,
    pub phone: Option<String>,
}

/// Where the produce was grown.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Origin {
    /// 乡镇, when the village has it.
    pub township: Option<String>,
    pub village: String,
}

/// What a lot's label and its public trace page show (`GET /api/v1/trace/{code}`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicTrace {
    /// The lot's trace code, as printed.
    pub code: String,
    pub product: String,
    pub unit: String,
    /// What the station received in the lot.
    pub quantity: Quantity,
    /// The day it was received, in the deployment's time zone.
    pub received_on: NaiveDate,
    pub issuer: Issuer,
    pub origin: Origin,
    pub cooperative: String,
}

/// A lot's label: the trace, and the lot it belongs to (staff only see these).
#[derive(Debug, Clone)]
pub struct LotLabel {
    pub lot_id: i64,
    pub product_id: i64,
    pub received_at: DateTime<Utc>,
    pub trace: PublicTrace,
}

/// Whether `code` could be a trace code: anything else is answered as unknown without a query.
fn well_formed(code: &str) -> bool {
    code.len() == hezuo_db::TRACE_CODE_LEN && code.bytes().all(|b| hezuo_db::TRACE_ALPHABET.contains(&b))
}

impl App {
    /// The public trace of the lot with `code`: no caller, no scope — it shows only what the
    /// label prints. An unknown code is 404.
    pub async fn public_trace(&self, code: &str) -> Result<PublicTrace, AppError> {
        if !well_formed(code) {
            return Err(AppError::NotFound("trace code"));
        }
        let l = lot::Entity::find()
            .filter(lot::Column::TraceCode.eq(code))
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound("trace code"))?;
        self.trace_of(l).await
    }

    /// The label of a lot of the caller's stations (404 otherwise).
    pub async fn lot_label(&self, p: &Principal, lot_id: i64) -> Result<LotLabel, AppError> {
        let l = lot::Entity::find_by_id(lot_id)
            .filter(scope::station_rows(p)?)
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound("lot"))?;
        let (lot_id, product_id, received_at) = (l.id, l.product_id, l.received_at);
        Ok(LotLabel { lot_id, product_id, received_at, trace: self.trace_of(l).await? })
    }

    async fn trace_of(&self, l: lot::Model) -> Result<PublicTrace, AppError> {
        let missing = |what: &str| AppError::Internal(format!("lot {}: its {what} is missing", l.id));
        let code = l.trace_code.clone().ok_or_else(|| missing("trace code"))?;
        let prod = product::Entity::find_by_id(l.product_id).one(&self.db).await?.ok_or_else(|| missing("product"))?;
        let st = station::Entity::find_by_id(l.station_id).one(&self.db).await?.ok_or_else(|| missing("station"))?;
        let v = village::Entity::find_by_id(l.village_id).one(&self.db).await?.ok_or_else(|| missing("village"))?;
        let coop = cooperative::Entity::find_by_id(st.cooperative_id)
            .one(&self.db)
            .await?
            .ok_or_else(|| missing("cooperative"))?;
        Ok(PublicTrace {
            code,
            product: prod.name,
            unit: prod.unit,
            quantity: Quantity::from_thousandths(l.received),
            received_on: l.received_at.with_timezone(&self.config.timezone).date_naive(),
            issuer: Issuer { name: st.name, phone: st.phone },
            origin: Origin { township: v.township, village: v.name },
            cooperative: coop.name,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_codes_of_the_alphabet_are_looked_up() {
        let code = hezuo_db::trace_code();
        assert!(super::well_formed(&code), "{code}");
        assert!(!super::well_formed("1"));
        assert!(!super::well_formed("0000000000"));
        assert!(!super::well_formed("abcdefghi/"));
        assert!(!super::well_formed(&format!("{code}x")));
    }
}
