use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cooperative_members")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub cooperative_id: i64,
    pub household_id: Option<i64>,
    pub village_id: Option<i64>,
    pub capital: i64,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
