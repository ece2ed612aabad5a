use sea_orm::entity::prelude::*;

/// An entry of other operating income; a reversal has a negative amount and `reverses_id`.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "village_income")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub village_id: i64,
    pub entry_date: Date,
    pub amount: i64,
    pub category: String,
    pub note: String,
    pub covers_from: Option<Date>,
    pub covers_to: Option<Date>,
    pub reverses_id: Option<i64>,
    pub actor_user_id: Option<i64>,
    pub actor_token_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
