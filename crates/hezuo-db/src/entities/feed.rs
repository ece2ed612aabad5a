use sea_orm::entity::prelude::*;

/// A channel's platform feed. `app_secret` and `access_token` hold sealed text (never clear).
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "feeds")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub channel_id: i64,
    pub alliance_id: i64,
    pub platform: String,
    pub base_url: String,
    pub app_key: String,
    pub app_secret: String,
    pub access_token: Option<String>,
    pub enabled: bool,
    pub interval_seconds: i32,
    pub start_at: DateTimeUtc,
    pub cursor: DateTimeUtc,
    pub next_run_at: DateTimeUtc,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub last_started_at: Option<DateTimeUtc>,
    pub last_finished_at: Option<DateTimeUtc>,
    pub last_orders_created: i32,
    pub last_orders_replayed: i32,
    pub last_refunds: i32,
    pub last_parked: i32,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// Sealed or not, the credentials are not printed.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Feed")
            .field("id", &self.id)
            .field("channel_id", &self.channel_id)
            .field("platform", &self.platform)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
