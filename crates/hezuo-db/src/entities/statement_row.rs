use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "statement_rows")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub statement_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub line: i64,
    pub external_id: String,
    pub kind: String,
    pub amount: i64,
    pub fee: i64,
    pub net: i64,
    pub settled_at: DateTimeUtc,
    /// The row repeats an earlier row of the same file exactly.
    pub repeated: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
