use crate::page::{fetch_page, find_scoped};
use crate::{App, AppError, Page, PageRequest, Principal, now, scope, validate};
use chrono::{DateTime, Utc};
use hezuo_db::entities::alliance;
use hezuo_db::sea_orm::{ActiveModelTrait, Condition, EntityTrait, IntoActiveModel, Set};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAlliance {
    #[schema(value_type = crate::openapi::Name)]
    pub name: String,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateAlliance {
    #[schema(value_type = Option<crate::openapi::Name>)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Alliance {
    pub id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

impl From<alliance::Model> for Alliance {
    fn from(m: alliance::Model) -> Self {
        Alliance { id: m.id, name: m.name, created_at: m.created_at }
    }
}

impl App {
    pub async fn create_alliance(&self, p: &Principal, req: CreateAlliance) -> Result<Alliance, AppError> {
        p.require_admin()?;
        let m = alliance::ActiveModel {
            name: Set(validate::name("name", &req.name)?),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(&*self.writer().await)
        .await?;
        Ok(m.into())
    }

    pub async fn get_alliance(&self, p: &Principal, id: i64) -> Result<Alliance, AppError> {
        Ok(find_scoped::<alliance::Entity>(&self.db, id, scope::alliances(p)?, "alliance").await?.into())
    }

    pub async fn list_alliances(&self, p: &Principal, page: PageRequest) -> Result<Page<Alliance>, AppError> {
        fetch_page(&self.db, alliance::Entity::find(), scope::alliances(p)?, page, |m| m.id, Alliance::from).await
    }

    pub async fn update_alliance(&self, p: &Principal, id: i64, req: UpdateAlliance) -> Result<Alliance, AppError> {
        p.require_admin()?;
        let m = find_scoped::<alliance::Entity>(&self.db, id, Condition::all(), "alliance").await?;
        let mut am = m.into_active_model();
        super::set_if(&mut am.name, req.name.map(|n| validate::name("name", &n)).transpose()?);
        Ok(super::save(am, &*self.writer().await).await?.into())
    }
}
