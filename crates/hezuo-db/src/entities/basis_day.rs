use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "basis_days")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub cooperative_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    #[sea_orm(primary_key, auto_increment = false)]
    pub household_id: i64,
    /// Concurrent bookings add to different rows of the same key (see the ledger).
    #[sea_orm(primary_key, auto_increment = false)]
    pub slot: i32,
    pub amount: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
