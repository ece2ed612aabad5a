use sea_orm::entity::prelude::*;

/// One event for one endpoint (the outbox row): `status` `pending`, `delivered`, `failed` (the
/// next attempt at `next_attempt_at`) or `dead`; `step` counts the failed attempts since the
/// schedule (re)started.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub endpoint_id: i64,
    pub event: String,
    pub msg_id: String,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub step: i32,
    pub next_attempt_at: DateTimeUtc,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
