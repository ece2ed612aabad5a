use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_parts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: i64,
    pub line_id: i64,
    pub seq: i32,
    pub lot_id: i64,
    pub household_id: i64,
    pub village_id: i64,
    /// The order's booking date, so that a household's parts are read by date.
    pub booking_date: Date,
    pub quantity: i64,
    pub returned: i64,
    pub gross: i64,
    pub fee: i64,
    pub household: i64,
    pub station: i64,
    pub collective: i64,
    pub pool: i64,
    pub refunded_gross: i64,
    pub refunded_fee: i64,
    pub refunded_household: i64,
    pub refunded_station: i64,
    pub refunded_collective: i64,
    pub refunded_pool: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
