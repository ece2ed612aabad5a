use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account_days")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub alliance_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub account: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    /// Concurrent bookings add to different rows of the same key (see the ledger).
    #[sea_orm(primary_key, auto_increment = false)]
    pub slot: i32,
    pub amount: i64,
    pub postings: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
