use crate::page::{fetch_page, find_scoped};
use crate::{App, AppError, Page, PageRequest, Principal, now, scope, validate};
use chrono::{DateTime, Utc};
use hezuo_db::entities::{alliance, cooperative, station, village};
use hezuo_db::sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateStation {
    #[schema(value_type = crate::openapi::Name)]
    pub name: String,
    /// The village whose Party-mass service centre hosts the station.
    pub village_id: i64,
    pub cooperative_id: i64,
    pub alliance_id: i64,
    /// The station's phone: the issuer's phone printed on produce labels and the trace page.
    #[serde(default)]
    #[schema(value_type = Option<crate::openapi::Phone>)]
    pub phone: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateStation {
    #[schema(value_type = Option<crate::openapi::Name>)]
    pub name: Option<String>,
    /// An empty string removes it.
    #[schema(value_type = Option<crate::openapi::Phone>)]
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Station {
    pub id: i64,
    pub name: String,
    pub village_id: i64,
    pub cooperative_id: i64,
    pub alliance_id: i64,
    pub phone: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<station::Model> for Station {
    fn from(m: station::Model) -> Self {
        Station {
            id: m.id,
            name: m.name,
            village_id: m.village_id,
            cooperative_id: m.cooperative_id,
            alliance_id: m.alliance_id,
            phone: m.phone,
            created_at: m.created_at,
        }
    }
}

impl App {
    pub async fn create_station(&self, p: &Principal, req: CreateStation) -> Result<Station, AppError> {
        p.require_admin()?;
        let name = validate::name("name", &req.name)?;
        if village::Entity::find_by_id(req.village_id).one(&self.db).await?.is_none() {
            return Err(AppError::unknown_reference("village_id", "village"));
        }
        if cooperative::Entity::find_by_id(req.cooperative_id).one(&self.db).await?.is_none() {
            return Err(AppError::unknown_reference("cooperative_id", "cooperative"));
        }
        if alliance::Entity::find_by_id(req.alliance_id).one(&self.db).await?.is_none() {
            return Err(AppError::unknown_reference("alliance_id", "alliance"));
        }
        let m = station::ActiveModel {
            name: Set(name),
            village_id: Set(req.village_id),
            cooperative_id: Set(req.cooperative_id),
            alliance_id: Set(req.alliance_id),
            phone: Set(req.phone.as_deref().map(validate::phone).transpose()?.flatten()),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(&*self.writer().await)
        .await?;
        Ok(m.into())
    }

    pub async fn get_station(&self, p: &Principal, id: i64) -> Result<Station, AppError> {
        Ok(find_scoped::<station::Entity>(&self.db, id, scope::stations(p)?, "station").await?.into())
    }

    pub async fn list_stations(
        &self,
        p: &Principal,
        alliance_id: Option<i64>,
        page: PageRequest,
    ) -> Result<Page<Station>, AppError> {
        let mut q = station::Entity::find();
        if let Some(a) = alliance_id {
            q = q.filter(station::Column::AllianceId.eq(a));
        }
        fetch_page(&self.db, q, scope::stations(p)?, page, |m| m.id, Station::from).await
    }

    pub async fn update_station(&self, p: &Principal, id: i64, req: UpdateStation) -> Result<Station, AppError> {
        p.require_admin()?;
        let m = find_scoped::<station::Entity>(&self.db, id, Condition::all(), "station").await?;
        let mut am = m.into_active_model();
        super::set_if(&mut am.name, req.name.map(|n| validate::name("name", &n)).transpose()?);
        if let Some(phone) = req.phone.as_deref() {
            am.phone = Set(validate::phone(phone)?);
        }
        Ok(super::save(am, &*self.writer().await).await?.into())
    }
}
