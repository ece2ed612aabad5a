use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "period_closes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub cooperative_id: i64,
    pub period: String,
    pub first_day: Date,
    pub last_day: Date,
    pub rule_version_id: i64,
    pub transaction_id: i64,
    pub pool: i64,
    pub reserve_share: i64,
    pub reserve: i64,
    pub distributable: i64,
    pub rebate_total: i64,
    pub dividend_total: i64,
    pub closed_at: DateTimeUtc,
    pub actor_user_id: Option<i64>,
    pub actor_token_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
