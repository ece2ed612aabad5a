use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "period_close_lines")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub close_id: i64,
    pub kind: String,
    pub seq: i32,
    pub household_id: Option<i64>,
    pub village_id: Option<i64>,
    /// The household's basis (rebates) or the member's capital (dividends), in cents.
    pub weight: i64,
    pub amount: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
