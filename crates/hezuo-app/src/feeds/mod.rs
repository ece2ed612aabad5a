//! Platform order feeds (PLATFORMS.md §1–4, API.md "Platform feeds and webhooks"): a channel's
//! feed settings with its credentials sealed at rest (`crate::secrets`), and the runs that pull
//! orders and refunds from the platform (`sync.rs`), book them through the same path as
//! `POST /orders` (`book.rs`), over an HTTP client that reaches public addresses only
//! (`client.rs`). The protocols themselves are `hezuo_platforms`.

mod book;
mod client;
mod sync;

pub use client::FeedClient;
pub use sync::{SyncSummary, run_scheduler};

use crate::page::find_scoped;
use crate::{App, AppError, Principal, now, scope};
use chrono::{DateTime, FixedOffset, Utc};
use hezuo_db::entities::{channel, feed, feed_parked};
use hezuo_db::sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};

/// What became of one order or refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Created,
    Replayed,
    Cancelled,
    Refunded,
    Parked,
    /// Nothing to do: unpaid, an older update, a refund seen before, a refund not succeeded.
    Unchanged,
}

/// Parked items the feed's view lists at most (the oldest first).
const PARKED_SHOWN: u64 = 500;

/// `PUT /channels/{id}/feed`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutFeed {
    /// `taobao`, `pdd` or `douyin`.
    #[schema(value_type = crate::openapi::FeedPlatform)]
    pub platform: String,
    /// The platform's API address (`https://`; tests point it at a fake platform).
    #[schema(value_type = crate::openapi::FeedUrl)]
    pub base_url: String,
    #[schema(value_type = crate::openapi::FeedKey)]
    pub app_key: String,
    /// Write-only: stored sealed, never returned.
    #[schema(value_type = crate::openapi::FeedKey)]
    pub app_secret: String,
    /// Write-only (the shop's session / access token).
    #[serde(default)]
    #[schema(value_type = Option<crate::openapi::FeedKey>)]
    pub access_token: Option<String>,
    pub enabled: bool,
    /// 60 or more.
    #[schema(minimum = 60, maximum = 86400)]
    pub interval_seconds: i64,
    /// Where the first window starts (RFC 3339 with offset).
    #[schema(value_type = String, format = DateTime)]
    pub start_at: DateTime<FixedOffset>,
}

impl std::fmt::Debug for PutFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PutFeed")
            .field("platform", &self.platform)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// A feed's last run.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LastRun {
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub orders_created: i32,
    pub orders_replayed: i32,
    pub refunds: i32,
    pub parked: i32,
    /// The platform's error code and message (never a secret), or why the run stopped.
    pub error: Option<String>,
}

/// An order or refund waiting to be booked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Parked {
    /// `order` or `refund`.
    #[schema(example = "order")]
    pub kind: String,
    /// The platform's order id, or its refund id.
    #[schema(example = "4012345678901")]
    pub external_id: String,
    #[schema(example = "unknown sku \"TAO-001\"")]
    pub reason: String,
    pub parked_at: DateTime<Utc>,
}

/// `GET /channels/{id}/feed`: the settings without secrets, the cursor, the last run and what is parked.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Feed {
    pub channel_id: i64,
    #[schema(value_type = crate::openapi::FeedPlatform)]
    pub platform: String,
    #[schema(example = "https://eco.taobao.com/")]
    pub base_url: String,
    #[schema(value_type = crate::openapi::FeedKey)]
    pub app_key: String,
    pub app_secret_set: bool,
    pub access_token_set: bool,
    pub enabled: bool,
    pub interval_seconds: i32,
    pub start_at: DateTime<Utc>,
    /// Orders and refunds modified before this are in.
    pub cursor: DateTime<Utc>,
    pub next_run_at: DateTime<Utc>,
    pub last_run: LastRun,
    pub parked: Vec<Parked>,
}

/// A feed's settings as stored, the secrets sealed.
struct FeedRow {
    platform: &'static str,
    base_url: String,
    app_key: String,
    app_secret: String,
    access_token: Option<String>,
    enabled: bool,
    interval_seconds: i32,
    start_at: DateTime<Utc>,
}

fn may_manage(p: &Principal) -> Result<(), AppError> {
    match p {
        Principal::Admin | Principal::Alliance { .. } => Ok(()),
        _ => Err(AppError::Forbidden),
    }
}

/// The associated data a feed's sealed field is bound to.
pub(crate) fn seal_context(channel_id: i64, field: &str) -> String {
    format!("feed:{channel_id}:{field}")
}

/// A credential: 1 to 200 characters on one line, without surrounding spaces.
fn credential(field: &str, value: &str) -> Result<String, AppError> {
    // Exactly the document's pattern: no ASCII control anywhere, no space at either end.
    let control = |c: char| c < ' ' || c == '\u{7f}';
    let edge = |c: Option<char>| c.is_some_and(|c| !control(c) && c != ' ');
    let ok = edge(value.chars().next())
        && edge(value.chars().last())
        && value.chars().count() <= 200
        && !value.chars().any(control);
    if !ok {
        // The value itself is never echoed.
        return Err(AppError::invalid(field, "must be 1 to 200 characters on one line without surrounding spaces"));
    }
    Ok(value.to_owned())
}

impl App {
    /// The channel in the caller's scope, for feed operations (alliance users and admins).
    async fn feed_channel(&self, p: &Principal, channel_id: i64) -> Result<channel::Model, AppError> {
        may_manage(p)?;
        find_scoped::<channel::Entity>(&self.db, channel_id, scope::channels(p)?, "channel").await
    }

    /// `PUT /channels/{id}/feed`: creates or replaces the channel's feed. A new `start_at`
    /// moves the cursor there; otherwise the cursor stays.
    pub async fn put_feed(&self, p: &Principal, channel_id: i64, req: PutFeed) -> Result<Feed, AppError> {
        self.save_feed(p, channel_id, req, false).await
    }

    /// The console's feed form: the secrets are write-only there, so an empty `app_secret`
    /// and an absent `access_token` keep what is stored (a new feed still needs its secret).
    pub async fn put_feed_keeping_secrets(
        &self,
        p: &Principal,
        channel_id: i64,
        req: PutFeed,
    ) -> Result<Feed, AppError> {
        self.save_feed(p, channel_id, req, true).await
    }

    async fn save_feed(&self, p: &Principal, channel_id: i64, req: PutFeed, keep: bool) -> Result<Feed, AppError> {
        let ch = self.feed_channel(p, channel_id).await?;
        let platform = hezuo_platforms::platform(req.platform.trim())
            .ok_or_else(|| AppError::invalid("platform", "must be taobao, pdd or douyin"))?;
        let app_key = credential("app_key", &req.app_key)?;
        let existing = feed::Entity::find().filter(feed::Column::ChannelId.eq(ch.id)).one(&self.db).await?;
        let stored = existing.as_ref().filter(|_| keep);
        let app_secret = match stored {
            Some(_) if req.app_secret.is_empty() => None,
            _ => Some(credential("app_secret", &req.app_secret)?),
        };
        let access_token = req.access_token.as_deref().map(|t| credential("access_token", t)).transpose()?;
        if !(60..=86_400).contains(&req.interval_seconds) {
            return Err(AppError::invalid("interval_seconds", "must be from 60 to 86400"));
        }
        let key = self.config.secret_key.as_ref().ok_or_else(|| AppError::Invalid {
            code: "secret_key_missing",
            field: Some("app_secret".into()),
            message: "no key to seal secrets with: set HEZUO_SECRET_KEY".into(),
        })?;
        // Last: it asks the resolver.
        let url = client::check_base_url(&req.base_url, &self.config.feed_allow_nets).await?;
        let sealed_secret = match (app_secret, stored) {
            (Some(s), _) => key.seal(&s, &seal_context(ch.id, "app_secret"))?,
            (None, Some(f)) => f.app_secret.clone(),
            (None, None) => return Err(AppError::invalid("app_secret", "must not be empty")),
        };
        let sealed_token = match (access_token, stored) {
            (Some(t), _) => Some(key.seal(&t, &seal_context(ch.id, "access_token"))?),
            (None, Some(f)) => f.access_token.clone(),
            (None, None) => None,
        };
        let row = FeedRow {
            platform: platform.name(),
            base_url: url.to_string(),
            app_key,
            app_secret: sealed_secret,
            access_token: sealed_token,
            enabled: req.enabled,
            interval_seconds: req.interval_seconds as i32,
            start_at: req.start_at.with_timezone(&Utc),
        };
        let saved = self.write_feed(&ch, existing, row).await?;
        tracing::info!(channel_id = ch.id, platform = %saved.platform, "feed saved");
        self.feed_view(saved).await
    }

    /// Writes a feed's settings: a new feed, or the channel's feed changed (moving its start
    /// moves its cursor back there).
    async fn write_feed(
        &self,
        ch: &channel::Model,
        existing: Option<feed::Model>,
        row: FeedRow,
    ) -> Result<feed::Model, AppError> {
        let FeedRow { platform, base_url, app_key, app_secret, access_token, enabled, interval_seconds, start_at } =
            row;
        let t = now();
        let writer = self.writer().await;
        let saved = match existing {
            Some(f) => {
                let moved = f.start_at != start_at;
                let mut am: feed::ActiveModel = f.into();
                am.platform = Set(platform.to_owned());
                am.base_url = Set(base_url);
                am.app_key = Set(app_key);
                am.app_secret = Set(app_secret);
                am.access_token = Set(access_token);
                am.enabled = Set(enabled);
                am.interval_seconds = Set(interval_seconds);
                if moved {
                    am.start_at = Set(start_at);
                    am.cursor = Set(start_at);
                }
                am.next_run_at = Set(t);
                am.updated_at = Set(t);
                am.update(&*writer).await?
            }
            None => {
                feed::ActiveModel {
                    channel_id: Set(ch.id),
                    alliance_id: Set(ch.alliance_id),
                    platform: Set(platform.to_owned()),
                    base_url: Set(base_url),
                    app_key: Set(app_key),
                    app_secret: Set(app_secret),
                    access_token: Set(access_token),
                    enabled: Set(enabled),
                    interval_seconds: Set(interval_seconds),
                    start_at: Set(start_at),
                    cursor: Set(start_at),
                    next_run_at: Set(t),
                    last_orders_created: Set(0),
                    last_orders_replayed: Set(0),
                    last_refunds: Set(0),
                    last_parked: Set(0),
                    created_at: Set(t),
                    updated_at: Set(t),
                    ..Default::default()
                }
                .insert(&*writer)
                .await?
            }
        };
        Ok(saved)
    }

    /// `GET /channels/{id}/feed`.
    pub async fn get_feed(&self, p: &Principal, channel_id: i64) -> Result<Feed, AppError> {
        let f = self.channel_feed(p, channel_id).await?;
        self.feed_view(f).await
    }

    /// The feed of a channel in the caller's scope.
    async fn channel_feed(&self, p: &Principal, channel_id: i64) -> Result<feed::Model, AppError> {
        let ch = self.feed_channel(p, channel_id).await?;
        feed::Entity::find()
            .filter(feed::Column::ChannelId.eq(ch.id))
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound("feed"))
    }

    async fn feed_view(&self, f: feed::Model) -> Result<Feed, AppError> {
        use hezuo_db::sea_orm::QuerySelect;
        let parked = feed_parked::Entity::find()
            .filter(feed_parked::Column::FeedId.eq(f.id))
            .order_by_asc(feed_parked::Column::Id)
            .limit(PARKED_SHOWN)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|r| Parked { kind: r.kind, external_id: r.external_id, reason: r.reason, parked_at: r.parked_at })
            .collect();
        Ok(Feed {
            channel_id: f.channel_id,
            platform: f.platform,
            base_url: f.base_url,
            app_key: f.app_key,
            app_secret_set: !f.app_secret.is_empty(),
            access_token_set: f.access_token.is_some(),
            enabled: f.enabled,
            interval_seconds: f.interval_seconds,
            start_at: f.start_at,
            cursor: f.cursor,
            next_run_at: f.next_run_at,
            last_run: LastRun {
                started_at: f.last_started_at,
                finished_at: f.last_finished_at,
                orders_created: f.last_orders_created,
                orders_replayed: f.last_orders_replayed,
                refunds: f.last_refunds,
                parked: f.last_parked,
                error: f.last_error,
            },
            parked,
        })
    }

    /// `POST /channels/{id}/feed:sync`: one run now; 409 `feed_busy` while another runs.
    pub async fn sync_feed(&self, p: &Principal, channel_id: i64) -> Result<SyncSummary, AppError> {
        let f = self.channel_feed(p, channel_id).await?;
        sync::run(self, f.id).await
    }
}
