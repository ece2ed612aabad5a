use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub station_id: i64,
    pub alliance_id: i64,
    pub cooperative_id: i64,
    pub channel_id: i64,
    pub external_id: String,
    pub request_hash: String,
    pub placed_at: DateTimeUtc,
    pub booking_date: Date,
    pub status: String,
    pub tracking_number: Option<String>,
    pub payment_method: Option<String>,
    pub gross: i64,
    pub fee: i64,
    pub refunded: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
