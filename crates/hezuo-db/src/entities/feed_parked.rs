use sea_orm::entity::prelude::*;

/// A platform order or refund that could not be booked yet (`kind` `order` or `refund`), with
/// the normalized item as JSON; retried on every run.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "feed_parked")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub feed_id: i64,
    pub kind: String,
    pub external_id: String,
    pub reason: String,
    pub item: String,
    pub modified_at: DateTimeUtc,
    pub parked_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
