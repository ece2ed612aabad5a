use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refunds")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: i64,
    pub line_id: i64,
    pub amount: i64,
    pub quantity: i64,
    pub restock: bool,
    pub reason: String,
    /// The platform's refund id, for a refund a feed booked.
    pub external_id: Option<String>,
    pub booking_date: Date,
    pub actor_user_id: Option<i64>,
    pub actor_token_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
