use sea_orm::entity::prelude::*;

/// What a platform order was last seen as. `line_ids`: the platform's line ids (JSON array) in
/// the order of the booked order's lines.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "feed_orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub feed_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub external_id: String,
    pub order_id: Option<i64>,
    pub state: String,
    pub modified_at: DateTimeUtc,
    pub line_ids: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
