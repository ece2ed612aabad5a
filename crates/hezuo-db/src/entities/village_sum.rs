use sea_orm::entity::prelude::*;

/// Σ postings on a village collective's account in a month or a year (`span` `month` or
/// `year`, `period_start` its first day): `sales` from sales and refunds, `dividends` from
/// closes.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "village_sums")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub village_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub span: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub period_start: Date,
    /// Concurrent bookings add to different rows of the same key (see the ledger).
    #[sea_orm(primary_key, auto_increment = false)]
    pub slot: i32,
    pub sales: i64,
    pub dividends: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
