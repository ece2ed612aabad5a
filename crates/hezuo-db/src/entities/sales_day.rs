use sea_orm::entity::prelude::*;

/// A station's sales on a booking day of a product through a channel.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sales_days")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub station_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    #[sea_orm(primary_key, auto_increment = false)]
    pub product_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub channel_id: i64,
    /// Orders booked that day, each counted once (on its first line's product).
    pub orders: i64,
    /// Thousandths sold.
    pub quantity: i64,
    pub gross: i64,
    /// Platform fees of the sales less the fees refunds returned.
    pub fee: i64,
    /// Refunds booked that day.
    pub refunded: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
