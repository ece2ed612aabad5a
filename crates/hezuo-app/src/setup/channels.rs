use crate::page::{fetch_page, find_scoped};
use crate::{App, AppError, Page, PageRequest, Principal, now, scope, validate};
use chrono::{DateTime, Utc};
use hezuo_core::Rate;
use hezuo_db::entities::{alliance, channel};
use hezuo_db::sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChannel {
    /// Short code, unique within the alliance: `own`, `taobao`, `pdd`, `douyin`, `jd`, `wechat` …
    #[schema(value_type = crate::openapi::ChannelCode)]
    pub code: String,
    #[schema(value_type = crate::openapi::Name)]
    pub name: String,
    /// The platform's commission on gross (0 for the station's own shop).
    #[schema(value_type = crate::openapi::RateInput)]
    pub fee_rate: Rate,
    pub alliance_id: i64,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateChannel {
    #[schema(value_type = Option<crate::openapi::Name>)]
    pub name: Option<String>,
    /// Applies to orders taken from now on; booked sales keep the fee they were booked with.
    #[schema(value_type = Option<crate::openapi::RateInput>)]
    pub fee_rate: Option<Rate>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Channel {
    pub id: i64,
    pub alliance_id: i64,
    pub code: String,
    pub name: String,
    pub fee_rate: Rate,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<channel::Model> for Channel {
    type Error = AppError;
    fn try_from(m: channel::Model) -> Result<Self, AppError> {
        Ok(Channel {
            id: m.id,
            alliance_id: m.alliance_id,
            code: m.code,
            name: m.name,
            fee_rate: super::cooperatives::stored_rate(m.fee_rate)?,
            created_at: m.created_at,
        })
    }
}

/// Admins manage every alliance's channels, alliance users their own.
fn may_manage(p: &Principal) -> Result<(), AppError> {
    match p {
        Principal::Admin | Principal::Alliance { .. } => Ok(()),
        _ => Err(AppError::Forbidden),
    }
}

impl App {
    pub async fn create_channel(&self, p: &Principal, req: CreateChannel) -> Result<Channel, AppError> {
        may_manage(p)?;
        let code = validate::channel_code(&req.code)?;
        let name = validate::name("name", &req.name)?;
        let visible = alliance::Entity::find_by_id(req.alliance_id)
            .one(&self.db)
            .await?
            .is_some_and(|a| matches!(*p, Principal::Admin) || *p == Principal::Alliance { alliance_id: a.id });
        if !visible {
            return Err(AppError::unknown_reference("alliance_id", "alliance"));
        }
        let m = channel::ActiveModel {
            alliance_id: Set(req.alliance_id),
            code: Set(code),
            name: Set(name),
            fee_rate: Set(req.fee_rate.millionths()),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(&*self.writer().await)
        .await?;
        m.try_into()
    }

    pub async fn get_channel(&self, p: &Principal, id: i64) -> Result<Channel, AppError> {
        find_scoped::<channel::Entity>(&self.db, id, scope::channels(p)?, "channel").await?.try_into()
    }

    pub async fn list_channels(&self, p: &Principal, page: PageRequest) -> Result<Page<Channel>, AppError> {
        let page =
            fetch_page(&self.db, channel::Entity::find(), scope::channels(p)?, page, |m| m.id, Channel::try_from)
                .await?;
        Ok(Page { items: page.items.into_iter().collect::<Result<_, _>>()?, next_cursor: page.next_cursor })
    }

    pub async fn update_channel(&self, p: &Principal, id: i64, req: UpdateChannel) -> Result<Channel, AppError> {
        may_manage(p)?;
        let m = find_scoped::<channel::Entity>(&self.db, id, scope::channels(p)?, "channel").await?;
        let mut am = m.into_active_model();
        super::set_if(&mut am.name, req.name.map(|n| validate::name("name", &n)).transpose()?);
        super::set_if(&mut am.fee_rate, req.fee_rate.map(Rate::millionths));
        super::save(am, &*self.writer().await).await?.try_into()
    }
}
