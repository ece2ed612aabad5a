use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rule_versions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub cooperative_id: i64,
    pub effective_from: Date,
    pub household_share: i64,
    pub station_fee_rate: i64,
    pub collective_rate: i64,
    pub reserve_rate: i64,
    pub rebate_rate: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
