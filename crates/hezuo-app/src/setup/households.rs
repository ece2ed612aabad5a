use super::set_if;
use crate::page::{fetch_page, find_scoped};
use crate::{App, AppError, Page, PageRequest, Principal, now, scope, validate};
use chrono::{DateTime, Utc};
use hezuo_db::entities::{household, village};
use hezuo_db::sea_orm::{ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateHousehold {
    pub village_id: i64,
    #[schema(value_type = crate::openapi::Name)]
    pub name: String,
    /// People in the household (for per-capita income), 1 to 100.
    #[schema(minimum = 1, maximum = 100)]
    pub members: i32,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateHousehold {
    #[schema(value_type = Option<crate::openapi::Name>)]
    pub name: Option<String>,
    #[schema(minimum = 1, maximum = 100)]
    pub members: Option<i32>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Household {
    pub id: i64,
    pub village_id: i64,
    pub name: String,
    pub members: i32,
    pub created_at: DateTime<Utc>,
}

impl From<household::Model> for Household {
    fn from(m: household::Model) -> Self {
        Household { id: m.id, village_id: m.village_id, name: m.name, members: m.members, created_at: m.created_at }
    }
}

const MAX_MEMBERS: i32 = 100;

fn members(n: i32) -> Result<i32, AppError> {
    if (1..=MAX_MEMBERS).contains(&n) {
        Ok(n)
    } else {
        Err(AppError::invalid("members", format!("must be from 1 to {MAX_MEMBERS}")))
    }
}

impl App {
    pub async fn create_household(&self, p: &Principal, req: CreateHousehold) -> Result<Household, AppError> {
        p.require_admin()?;
        let name = validate::name("name", &req.name)?;
        let members = members(req.members)?;
        if village::Entity::find_by_id(req.village_id).one(&self.db).await?.is_none() {
            return Err(AppError::unknown_reference("village_id", "village"));
        }
        let m = household::ActiveModel {
            village_id: Set(req.village_id),
            name: Set(name),
            members: Set(members),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(&*self.writer().await)
        .await?;
        Ok(m.into())
    }

    pub async fn get_household(&self, p: &Principal, id: i64) -> Result<Household, AppError> {
        Ok(find_scoped::<household::Entity>(&self.db, id, scope::households(p)?, "household").await?.into())
    }

    pub async fn list_households(
        &self,
        p: &Principal,
        village_id: Option<i64>,
        page: PageRequest,
    ) -> Result<Page<Household>, AppError> {
        let mut q = household::Entity::find();
        if let Some(v) = village_id {
            q = q.filter(household::Column::VillageId.eq(v));
        }
        fetch_page(&self.db, q, scope::households(p)?, page, |m| m.id, Household::from).await
    }

    pub async fn update_household(&self, p: &Principal, id: i64, req: UpdateHousehold) -> Result<Household, AppError> {
        p.require_admin()?;
        let m = find_scoped::<household::Entity>(&self.db, id, Condition::all(), "household").await?;
        let mut am = m.into_active_model();
        set_if(&mut am.name, req.name.map(|n| validate::name("name", &n)).transpose()?);
        set_if(&mut am.members, req.members.map(members).transpose()?);
        Ok(super::save(am, &*self.writer().await).await?.into())
    }
}
