use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "statement_items")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub statement_id: i64,
    pub external_id: String,
    pub order_id: Option<i64>,
    pub status: String,
    pub statement_amount: Option<i64>,
    pub book_amount: Option<i64>,
    pub difference: i64,
    pub rows: i64,
    pub note: Option<String>,
    pub resolved_at: Option<DateTimeUtc>,
    pub resolved_by_user_id: Option<i64>,
    pub resolved_by_token_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
