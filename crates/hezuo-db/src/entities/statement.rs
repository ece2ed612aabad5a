use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "statements")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub alliance_id: i64,
    pub channel_id: i64,
    pub format: String,
    pub content_hash: String,
    pub bytes: i64,
    pub rows: i64,
    pub rejected: i64,
    pub first_settled_at: Option<DateTimeUtc>,
    pub last_settled_at: Option<DateTimeUtc>,
    pub range_from: Option<Date>,
    pub range_to: Option<Date>,
    pub actor_user_id: Option<i64>,
    pub actor_token_id: Option<i64>,
    pub created_at: DateTimeUtc,
    /// `staging` while its rows are stored and matched; `ready` once published.
    pub state: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
