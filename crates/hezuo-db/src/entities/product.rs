use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "products")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub station_id: i64,
    pub name: String,
    pub unit: String,
    /// The merchant code (商家编码) platform orders name the product by; unique per station.
    pub sku: Option<String>,
    pub price: i64,
    pub status: String,
    pub category: Option<String>,
    pub description: Option<String>,
    pub image_urls: String,
    pub low_stock_threshold: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
