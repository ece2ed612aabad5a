use crate::page::{fetch_page, find_scoped};
use crate::{App, AppError, Page, PageRequest, Principal, now, scope, validate};
use chrono::{DateTime, Utc};
use hezuo_core::Money;
use hezuo_db::entities::village;
use hezuo_db::sea_orm::{ActiveModelTrait, Condition, EntityTrait, IntoActiveModel, Set};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateVillage {
    /// e.g. 桃源村
    #[schema(value_type = crate::openapi::Name)]
    pub name: String,
    /// 12-digit administrative division code, unique.
    #[schema(value_type = crate::openapi::VillageCode)]
    pub code: String,
    /// Yearly collective income target; the configured default when absent.
    #[schema(value_type = Option<crate::openapi::MoneyInput>)]
    pub income_target: Option<Money>,
    /// The township (乡镇) the village belongs to, e.g. 阳山镇: the place of origin on labels.
    #[serde(default)]
    #[schema(value_type = Option<crate::openapi::Name>)]
    pub township: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateVillage {
    #[schema(value_type = Option<crate::openapi::Name>)]
    pub name: Option<String>,
    #[schema(value_type = Option<crate::openapi::MoneyInput>)]
    pub income_target: Option<Money>,
    #[schema(value_type = Option<crate::openapi::Name>)]
    pub township: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Village {
    pub id: i64,
    pub name: String,
    pub code: String,
    /// The target in force: the village's own, or the configured default.
    pub income_target: Money,
    pub income_target_is_default: bool,
    pub township: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl App {
    fn village_view(&self, m: village::Model) -> Village {
        Village {
            id: m.id,
            name: m.name,
            code: m.code,
            income_target: m.income_target.map_or(self.config.income_target, Money::from_cents),
            income_target_is_default: m.income_target.is_none(),
            township: m.township,
            created_at: m.created_at,
        }
    }

    pub async fn create_village(&self, p: &Principal, req: CreateVillage) -> Result<Village, AppError> {
        p.require_admin()?;
        let target = req.income_target.map(|t| validate::non_negative("income_target", t)).transpose()?;
        let m = village::ActiveModel {
            name: Set(validate::name("name", &req.name)?),
            code: Set(validate::village_code(&req.code)?),
            income_target: Set(target.map(Money::cents)),
            township: Set(req.township.map(|t| validate::name("township", &t)).transpose()?),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(&*self.writer().await)
        .await?;
        Ok(self.village_view(m))
    }

    pub async fn get_village(&self, p: &Principal, id: i64) -> Result<Village, AppError> {
        let m = find_scoped::<village::Entity>(&self.db, id, scope::villages(p)?, "village").await?;
        Ok(self.village_view(m))
    }

    pub async fn list_villages(&self, p: &Principal, page: PageRequest) -> Result<Page<Village>, AppError> {
        let cond = scope::villages(p)?;
        fetch_page(&self.db, village::Entity::find(), cond, page, |m| m.id, |m| self.village_view(m)).await
    }

    pub async fn update_village(&self, p: &Principal, id: i64, req: UpdateVillage) -> Result<Village, AppError> {
        p.require_admin()?;
        let m = find_scoped::<village::Entity>(&self.db, id, Condition::all(), "village").await?;
        let mut am = m.into_active_model();
        if let Some(n) = req.name {
            am.name = Set(validate::name("name", &n)?);
        }
        if let Some(t) = req.income_target {
            am.income_target = Set(Some(validate::non_negative("income_target", t)?.cents()));
        }
        if let Some(t) = req.township {
            am.township = Set(Some(validate::name("township", &t)?));
        }
        Ok(self.village_view(super::save(am, &*self.writer().await).await?))
    }
}
