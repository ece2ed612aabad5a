use crate::auth::{ScopeIds, check_password, check_scope_ids, hash_password};
use crate::page::{fetch_page, find_scoped};
use crate::{App, AppError, Page, PageRequest, Principal, Role, now, scope};
use chrono::{DateTime, Utc};
use hezuo_db::entities::{token, user};
use hezuo_db::sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set, TransactionTrait, TryIntoModel,
};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[schema(value_type = crate::openapi::Username)]
    pub username: String,
    #[schema(value_type = crate::openapi::Password)]
    pub password: String,
    pub role: Role,
    /// Required for role `alliance`.
    pub alliance_id: Option<i64>,
    /// Required for role `staff`.
    pub station_id: Option<i64>,
    /// Required for role `village`.
    pub village_id: Option<i64>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[schema(value_type = Option<crate::openapi::Password>)]
    pub password: Option<String>,
    /// A disabled user cannot log in, and every token they hold stops working at once.
    pub disabled: Option<bool>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub alliance_id: Option<i64>,
    pub station_id: Option<i64>,
    pub village_id: Option<i64>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<user::Model> for User {
    type Error = AppError;
    fn try_from(m: user::Model) -> Result<Self, AppError> {
        Ok(User {
            id: m.id,
            role: Role::parse(&m.role)
                .ok_or_else(|| AppError::Internal(format!("user {} has role {}", m.id, m.role)))?,
            username: m.username,
            alliance_id: m.alliance_id,
            station_id: m.station_id,
            village_id: m.village_id,
            disabled: m.disabled,
            created_at: m.created_at,
        })
    }
}

fn username(v: &str) -> Result<String, AppError> {
    let ok = (3..=64).contains(&v.len())
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'@'));
    if ok {
        Ok(v.to_owned())
    } else {
        Err(AppError::invalid("username", "must be 3 to 64 characters of A-Z, a-z, 0-9, '_', '-', '.', '@'"))
    }
}

impl App {
    pub async fn create_user(&self, p: &Principal, req: CreateUser) -> Result<User, AppError> {
        p.require_admin()?;
        let name = username(&req.username)?;
        check_password(&req.password)?;
        let ids = ScopeIds { alliance_id: req.alliance_id, station_id: req.station_id, village_id: req.village_id };
        check_scope_ids(self, req.role, ids).await?;
        let hash = hash_password(req.password).await?;
        let m = user::ActiveModel {
            username: Set(name),
            password_hash: Set(hash),
            role: Set(req.role.as_str().to_owned()),
            alliance_id: Set(ids.alliance_id),
            station_id: Set(ids.station_id),
            village_id: Set(ids.village_id),
            disabled: Set(false),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(&*self.writer().await)
        .await?;
        m.try_into()
    }

    pub async fn get_user(&self, p: &Principal, id: i64) -> Result<User, AppError> {
        find_scoped::<user::Entity>(&self.db, id, scope::users(p)?, "user").await?.try_into()
    }

    pub async fn list_users(&self, p: &Principal, page: PageRequest) -> Result<Page<User>, AppError> {
        let page = fetch_page(&self.db, user::Entity::find(), scope::users(p)?, page, |m| m.id, User::try_from).await?;
        Ok(Page { items: page.items.into_iter().collect::<Result<_, _>>()?, next_cursor: page.next_cursor })
    }

    /// Changes a password or disables a user; either way the user's existing tokens are
    /// revoked in the same transaction.
    pub async fn update_user(&self, p: &Principal, id: i64, req: UpdateUser) -> Result<User, AppError> {
        let m = find_scoped::<user::Entity>(&self.db, id, scope::users(p)?, "user").await?;
        let hash = match req.password {
            Some(pw) => {
                check_password(&pw)?;
                Some(hash_password(pw).await?)
            }
            None => None,
        };
        let revoke = hash.is_some() || req.disabled == Some(true);
        let mut am = m.into_active_model();
        super::set_if(&mut am.password_hash, hash);
        super::set_if(&mut am.disabled, req.disabled);
        let _turn = self.write_turn().await;
        let txn = self.db.begin().await?;
        let saved = if am.is_changed() { am.update(&txn).await? } else { am.try_into_model()? };
        if revoke {
            token::Entity::delete_many().filter(token::Column::UserId.eq(id)).exec(&txn).await?;
        }
        txn.commit().await?;
        saved.try_into()
    }
}

/// For the CLI's `user add`, which runs with an operator's authority.
pub async fn add_user_as_operator(app: &App, req: CreateUser) -> Result<User, AppError> {
    app.create_user(&Principal::Admin, req).await
}
