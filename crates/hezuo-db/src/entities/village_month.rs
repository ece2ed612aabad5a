use sea_orm::entity::prelude::*;

/// Σ postings on a village collective's account in a month (`month` is its first day):
/// `sales` from sales and refunds, `dividends` from closes.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "village_months")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub village_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub month: Date,
    /// Concurrent bookings add to different rows of the same key (see the ledger).
    #[sea_orm(primary_key, auto_increment = false)]
    pub slot: i32,
    pub sales: i64,
    pub dividends: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
