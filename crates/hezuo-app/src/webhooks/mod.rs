//! Outgoing webhooks (PLATFORMS.md §5, API.md "Platform feeds and webhooks"): an alliance's
//! endpoints and the events they want, the outbox rows written in the same transaction as the
//! change they report (`outbox.rs`), and the worker inside `hezuo serve` that delivers them,
//! signed per Standard Webhooks, with retries, the log of every attempt and redelivery by hand
//! (`deliver.rs`). Signing and the retry schedule are `hezuo_platforms::webhook`.

mod deliver;
pub(crate) mod outbox;

pub use deliver::run_worker;

use crate::page::{fetch_page, find_scoped};
use crate::{App, AppError, Page, PageRequest, Principal, now};
use chrono::{DateTime, Utc};
use hezuo_db::entities::{alliance, webhook_attempt, webhook_delivery, webhook_endpoint, webhook_endpoint_event};
use hezuo_db::sea_orm::sea_query::{Expr, ExprTrait};
use hezuo_db::sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};

/// What happened, as an endpoint subscribes to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Event {
    OrderCreated,
    OrderRefunded,
    OrderCancelled,
    PeriodClosed,
    StatementImported,
}

impl Event {
    pub const ALL: [Event; 5] = [
        Event::OrderCreated,
        Event::OrderRefunded,
        Event::OrderCancelled,
        Event::PeriodClosed,
        Event::StatementImported,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Event::OrderCreated => "order.created",
            Event::OrderRefunded => "order.refunded",
            Event::OrderCancelled => "order.cancelled",
            Event::PeriodClosed => "period.closed",
            Event::StatementImported => "statement.imported",
        }
    }

    pub fn parse(s: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// `POST /webhooks`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where deliveries are sent: `https://` with a host that resolves to public addresses
    /// only (`http://` only for hosts in `HEZUO_WEBHOOK_ALLOW_NETS`).
    #[schema(value_type = crate::openapi::WebhookUrl)]
    pub url: String,
    /// The events wanted (at least one; each at most once).
    #[schema(value_type = std::collections::BTreeSet<crate::openapi::WebhookEvent>, min_items = 1, max_items = 5)]
    pub events: Vec<String>,
    /// The alliance whose events are sent: required for an admin; an alliance user's own.
    #[serde(default)]
    pub alliance_id: Option<i64>,
}

/// `PATCH /webhooks/{id}`: what is given changes. Enabling an endpoint again clears why it
/// was disabled; deliveries that died meanwhile stay dead until redelivered.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchWebhook {
    #[serde(default)]
    #[schema(value_type = Option<crate::openapi::WebhookUrl>)]
    pub url: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<std::collections::BTreeSet<crate::openapi::WebhookEvent>>, min_items = 1, max_items = 5)]
    pub events: Option<Vec<String>>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// An endpoint (its secret is shown only when it is created).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Webhook {
    pub id: i64,
    pub alliance_id: i64,
    #[schema(example = "https://erp.example.cn/hooks/hezuo")]
    pub url: String,
    #[schema(value_type = Vec<crate::openapi::WebhookEvent>)]
    pub events: Vec<String>,
    pub enabled: bool,
    /// Why the endpoint was disabled (`410 Gone`, or failing for 5 days).
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed; null after a success.
    pub failing_since: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// `POST /webhooks` answers the endpoint and its secret, this once.
// `Debug` (below) leaves the secret out.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedWebhook {
    pub id: i64,
    /// `whsec_` + base64 of 32 random bytes: the key of every signature. Shown only now.
    #[schema(example = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")]
    pub secret: String,
    pub webhook: Webhook,
}

impl std::fmt::Debug for CreatedWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedWebhook").field("id", &self.id).field("webhook", &self.webhook).finish_non_exhaustive()
    }
}

/// One attempt of a delivery.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    pub attempted_at: DateTime<Utc>,
    /// The answer's HTTP status; null when none came (timeout, refused connection).
    pub status_code: Option<i32>,
    pub duration_ms: i32,
    /// Why it failed, when it did (never the payload).
    pub error: Option<String>,
}

/// One event for one endpoint.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    pub id: i64,
    #[schema(value_type = crate::openapi::WebhookEvent)]
    pub event: String,
    /// The `webhook-id` header: the same on every attempt and redelivery.
    #[schema(example = "msg_order_created_1042")]
    pub msg_id: String,
    /// `pending` (not tried yet, or redelivery asked), `delivered`, `failed` (the next attempt
    /// at `next_attempt_at`) or `dead` (the schedule ran out, or the endpoint was disabled).
    #[schema(example = "failed")]
    pub status: String,
    pub attempts: i32,
    pub last_status_code: Option<i32>,
    /// When the next attempt is due; null when none will be made.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// Every attempt, the first first.
    pub attempt_log: Vec<AttemptView>,
}

/// Who may manage endpoints: alliance users (their own) and admins.
fn webhook_scope(p: &Principal) -> Result<Condition, AppError> {
    match *p {
        Principal::Admin => Ok(Condition::all()),
        Principal::Alliance { alliance_id } => Ok(Condition::all().add(Expr::col("alliance_id").eq(alliance_id))),
        _ => Err(AppError::Forbidden),
    }
}

/// The associated data an endpoint's sealed secret is bound to.
pub(crate) fn seal_context(endpoint_id: i64) -> String {
    format!("webhook:{endpoint_id}:secret")
}

/// The events of a request: known, each once, at least one.
fn events(field: &str, given: &[String]) -> Result<BTreeSet<Event>, AppError> {
    let mut out = BTreeSet::new();
    for (i, e) in given.iter().enumerate() {
        let event = Event::parse(e.trim()).ok_or_else(|| {
            let names: Vec<&str> = Event::ALL.iter().map(|e| e.as_str()).collect();
            AppError::invalid(&format!("{field}[{i}]"), format!("must be one of {}", names.join(", ")))
        })?;
        if !out.insert(event) {
            return Err(AppError::invalid(&format!("{field}[{i}]"), "is listed twice"));
        }
    }
    if out.is_empty() {
        return Err(AppError::invalid(field, "must name at least one event"));
    }
    Ok(out)
}

impl App {
    /// A webhook URL when it is saved (`crate::outbound::check_url`).
    async fn check_webhook_url(&self, url: &str) -> Result<String, AppError> {
        let url =
            crate::outbound::check_url(url, &self.config.webhook_allow_nets, "url", "HEZUO_WEBHOOK_ALLOW_NETS").await?;
        Ok(url.to_string())
    }

    /// `POST /webhooks`: a new endpoint with a new secret, shown in the answer only.
    pub async fn create_webhook(&self, p: &Principal, req: CreateWebhook) -> Result<CreatedWebhook, AppError> {
        webhook_scope(p)?;
        let alliance_id = match (*p, req.alliance_id) {
            (Principal::Alliance { alliance_id }, None) => alliance_id,
            (Principal::Alliance { alliance_id }, Some(given)) if given == alliance_id => alliance_id,
            (Principal::Alliance { .. }, Some(_)) => {
                return Err(AppError::unknown_reference("alliance_id", "alliance"));
            }
            (_, Some(given)) => {
                find_scoped::<alliance::Entity>(&self.db, given, crate::scope::alliances(p)?, "alliance")
                    .await
                    .map_err(|_| AppError::unknown_reference("alliance_id", "alliance"))?
                    .id
            }
            (_, None) => return Err(AppError::invalid("alliance_id", "is required for an admin")),
        };
        let wanted = events("events", &req.events)?;
        let key = self.config.secret_key.as_ref().ok_or_else(|| AppError::Invalid {
            code: "secret_key_missing",
            field: Some("url".into()),
            message: "no key to seal the endpoint's secret with: set HEZUO_SECRET_KEY".into(),
        })?;
        // Last: it asks the resolver.
        let url = self.check_webhook_url(&req.url).await?;
        let secret = hezuo_platforms::webhook::generate_secret(rand::random());
        let t = now();
        let _turn = self.write_turn().await;
        let txn = self.db.begin().await?;
        let result = async {
            let e = webhook_endpoint::ActiveModel {
                alliance_id: Set(alliance_id),
                url: Set(url),
                secret: Set(String::new()),
                enabled: Set(true),
                created_at: Set(t),
                updated_at: Set(t),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            let mut am: webhook_endpoint::ActiveModel = e.clone().into();
            am.secret = Set(key.seal(&secret, &seal_context(e.id))?);
            let e = am.update(&txn).await?;
            write_events(&txn, e.id, &wanted).await?;
            Ok::<_, AppError>(e)
        }
        .await;
        let e = crate::finish(txn, result).await?;
        tracing::info!(webhook = e.id, alliance_id, "webhook endpoint created");
        Ok(CreatedWebhook { id: e.id, secret, webhook: view_of(e, wanted) })
    }

    /// `GET /webhooks`: the caller's endpoints.
    pub async fn list_webhooks(&self, p: &Principal, page: PageRequest) -> Result<Page<Webhook>, AppError> {
        let found =
            fetch_page(&self.db, webhook_endpoint::Entity::find(), webhook_scope(p)?, page, |e| e.id, |e| e).await?;
        let mut subscribed = self.subscriptions(found.items.iter().map(|e| e.id)).await?;
        let items =
            found.items.into_iter().map(|e| view_of(e.clone(), subscribed.remove(&e.id).unwrap_or_default())).collect();
        Ok(Page { items, next_cursor: found.next_cursor })
    }

    async fn find_webhook(&self, p: &Principal, id: i64) -> Result<webhook_endpoint::Model, AppError> {
        find_scoped::<webhook_endpoint::Entity>(&self.db, id, webhook_scope(p)?, "webhook").await
    }

    async fn subscriptions(&self, ids: impl Iterator<Item = i64>) -> Result<HashMap<i64, BTreeSet<Event>>, AppError> {
        let rows = webhook_endpoint_event::Entity::find()
            .filter(webhook_endpoint_event::Column::EndpointId.is_in(ids))
            .all(&self.db)
            .await?;
        let mut out: HashMap<i64, BTreeSet<Event>> = HashMap::new();
        for r in rows {
            if let Some(e) = Event::parse(&r.event) {
                out.entry(r.endpoint_id).or_default().insert(e);
            }
        }
        Ok(out)
    }

    /// `GET /webhooks/{id}`.
    pub async fn get_webhook(&self, p: &Principal, id: i64) -> Result<Webhook, AppError> {
        let e = self.find_webhook(p, id).await?;
        let mut subscribed = self.subscriptions(std::iter::once(e.id)).await?;
        Ok(view_of(e, subscribed.remove(&id).unwrap_or_default()))
    }

    /// `PATCH /webhooks/{id}`.
    pub async fn patch_webhook(&self, p: &Principal, id: i64, req: PatchWebhook) -> Result<Webhook, AppError> {
        let e = self.find_webhook(p, id).await?;
        let wanted = req.events.as_deref().map(|e| events("events", e)).transpose()?;
        let url = match &req.url {
            Some(u) => Some(self.check_webhook_url(u).await?),
            None => None,
        };
        let _turn = self.write_turn().await;
        let txn = self.db.begin().await?;
        let result = async {
            let mut am: webhook_endpoint::ActiveModel = e.into();
            if let Some(u) = url {
                am.url = Set(u);
            }
            if let Some(on) = req.enabled {
                am.enabled = Set(on);
                if on {
                    am.disabled_reason = Set(None);
                    am.failing_since = Set(None);
                } else {
                    am.disabled_reason = Set(Some("disabled by hand".into()));
                }
            }
            am.updated_at = Set(now());
            let e = am.update(&txn).await?;
            if let Some(w) = &wanted {
                webhook_endpoint_event::Entity::delete_many()
                    .filter(webhook_endpoint_event::Column::EndpointId.eq(e.id))
                    .exec(&txn)
                    .await?;
                write_events(&txn, e.id, w).await?;
            }
            if !e.enabled {
                outbox::bury(&txn, e.id, now()).await?;
            }
            Ok::<_, AppError>(e)
        }
        .await;
        let e = crate::finish(txn, result).await?;
        self.get_webhook(p, e.id).await
    }

    /// `GET /webhooks/{id}/deliveries`: newest first is not what a log reader wants when
    /// paging; deliveries come in id order, each with every attempt.
    pub async fn webhook_deliveries(
        &self,
        p: &Principal,
        id: i64,
        page: PageRequest,
    ) -> Result<Page<DeliveryView>, AppError> {
        let e = self.find_webhook(p, id).await?;
        let found = fetch_page(
            &self.db,
            webhook_delivery::Entity::find().filter(webhook_delivery::Column::EndpointId.eq(e.id)),
            Condition::all(),
            page,
            |d| d.id,
            |d| d,
        )
        .await?;
        let items = self.delivery_views(found.items).await?;
        Ok(Page { items, next_cursor: found.next_cursor })
    }

    /// `POST /webhooks/{id}/deliveries/{delivery_id}:redeliver`: the delivery is sent again at
    /// once, with the same `webhook-id`, and its retry schedule starts over. 409 while the
    /// endpoint is disabled, or while an attempt is under way.
    pub async fn redeliver(&self, p: &Principal, id: i64, delivery_id: i64) -> Result<DeliveryView, AppError> {
        let e = self.find_webhook(p, id).await?;
        let d = webhook_delivery::Entity::find_by_id(delivery_id)
            .filter(webhook_delivery::Column::EndpointId.eq(e.id))
            .one(&self.db)
            .await?
            .ok_or(AppError::NotFound("delivery"))?;
        if !e.enabled {
            return Err(AppError::conflict(
                "endpoint_disabled",
                "the endpoint is disabled; enable it (PATCH enabled: true) before redelivering",
            ));
        }
        let t = now();
        let writer = self.writer().await;
        let done = webhook_delivery::Entity::update_many()
            .col_expr(webhook_delivery::Column::Status, Expr::value("pending"))
            .col_expr(webhook_delivery::Column::Step, Expr::value(0))
            .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(t))
            .filter(webhook_delivery::Column::Id.eq(d.id))
            .filter(
                Condition::any()
                    .add(webhook_delivery::Column::LeaseUntil.is_null())
                    .add(webhook_delivery::Column::LeaseUntil.lt(t)),
            )
            .exec(&*writer)
            .await?;
        drop(writer);
        if done.rows_affected == 0 {
            return Err(AppError::conflict("delivery_in_progress", "an attempt of this delivery is under way"));
        }
        tracing::info!(webhook = e.id, delivery = d.id, "redelivery asked");
        self.wake_webhooks();
        let d =
            webhook_delivery::Entity::find_by_id(d.id).one(&self.db).await?.ok_or(AppError::NotFound("delivery"))?;
        self.delivery_views(vec![d]).await?.pop().ok_or(AppError::NotFound("delivery"))
    }

    /// The deliveries' views, each with its attempts.
    async fn delivery_views(&self, rows: Vec<webhook_delivery::Model>) -> Result<Vec<DeliveryView>, AppError> {
        let attempts = webhook_attempt::Entity::find()
            .filter(webhook_attempt::Column::DeliveryId.is_in(rows.iter().map(|d| d.id)))
            .order_by_asc(webhook_attempt::Column::Id)
            .all(&self.db)
            .await?;
        let mut log: HashMap<i64, Vec<AttemptView>> = HashMap::new();
        for a in attempts {
            log.entry(a.delivery_id).or_default().push(AttemptView {
                attempted_at: a.attempted_at,
                status_code: a.status_code,
                duration_ms: a.duration_ms,
                error: a.error,
            });
        }
        Ok(rows
            .into_iter()
            .map(|d| DeliveryView {
                id: d.id,
                next_attempt_at: matches!(d.status.as_str(), "pending" | "failed").then_some(d.next_attempt_at),
                attempt_log: log.remove(&d.id).unwrap_or_default(),
                event: d.event,
                msg_id: d.msg_id,
                status: d.status,
                attempts: d.attempts,
                last_status_code: d.last_status_code,
                created_at: d.created_at,
                delivered_at: d.delivered_at,
            })
            .collect())
    }
}

async fn write_events(
    txn: &hezuo_db::sea_orm::DatabaseTransaction,
    endpoint_id: i64,
    wanted: &BTreeSet<Event>,
) -> Result<(), AppError> {
    webhook_endpoint_event::Entity::insert_many(wanted.iter().map(|e| webhook_endpoint_event::ActiveModel {
        endpoint_id: Set(endpoint_id),
        event: Set(e.as_str().to_owned()),
    }))
    .exec(txn)
    .await?;
    Ok(())
}

fn view_of(e: webhook_endpoint::Model, wanted: BTreeSet<Event>) -> Webhook {
    Webhook {
        id: e.id,
        alliance_id: e.alliance_id,
        url: e.url,
        events: wanted.into_iter().map(|e| e.as_str().to_owned()).collect(),
        enabled: e.enabled,
        disabled_reason: e.disabled_reason,
        failing_since: e.failing_since,
        created_at: e.created_at,
    }
}
