//! The delivery worker inside `hezuo serve`. It claims due deliveries under a lease — on
//! PostgreSQL with `FOR UPDATE SKIP LOCKED`, on SQLite by the conditional `UPDATE … RETURNING`
//! itself (one writer at a time) — so that replicas never send one attempt twice; sends each
//! signed per Standard Webhooks through `crate::outbound` (public addresses only, no
//! redirects, 15 s); and records the answer, the next attempt or the end, in one transaction.
//!
//! Fairness: a claim takes at most one delivery per endpoint, and none of an endpoint that
//! has one under way, so an endpoint that is slow or down holds one of the worker's slots at
//! most, never another alliance's deliveries.

use super::outbox;
use crate::exec::{Exec, statement};
use crate::{App, AppError, now};
use chrono::{DateTime, Utc};
use hezuo_db::entities::{webhook_attempt, webhook_endpoint as endpoint};
use hezuo_db::sea_orm::sea_query::Expr;
use hezuo_db::sea_orm::{
    ActiveModelTrait, ColumnTrait, DbBackend, EntityTrait, QueryFilter, Set, TransactionTrait, Value,
};
use hezuo_platforms::webhook::{self, DELIVERY_TIMEOUT, Outcome, Secret};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Deliveries under way at once, all endpoints together.
const SLOTS: usize = 32;
/// How long a claim holds: past an attempt's time limit, so a live attempt never loses it.
const LEASE: Duration = Duration::from_secs(60);
/// The longest the worker sleeps before looking again (it is woken at once when this process
/// writes an event).
const POLL: Duration = Duration::from_secs(1);

/// A claimed delivery.
struct Claimed {
    id: i64,
    endpoint_id: i64,
    msg_id: String,
    payload: String,
    step: i32,
}

/// What one attempt got.
struct Answer {
    status: Option<u16>,
    retry_after: Option<Duration>,
    error: Option<String>,
    took: Duration,
}

/// Sends due deliveries until `shutdown` resolves. Attempts under way then finish on their
/// own; one cut off by the process ending is tried again when its lease runs out.
pub async fn run_worker(app: App, shutdown: impl std::future::Future<Output = ()>) {
    let client = match crate::outbound::client(&app.config.webhook_allow_nets, DELIVERY_TIMEOUT) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "the webhook worker cannot start");
            return;
        }
    };
    let owner = format!("{:032x}", rand::random::<u128>());
    let slots = Arc::new(Semaphore::new(SLOTS));
    tokio::pin!(shutdown);
    loop {
        let free = slots.available_permits();
        let claimed = if free == 0 { Ok(Vec::new()) } else { claim(&app, &owner, free).await };
        let claimed = claimed.unwrap_or_else(|e| {
            tracing::error!(error = %e, "claiming webhook deliveries failed");
            Vec::new()
        });
        let idle = claimed.is_empty();
        for c in claimed {
            let Ok(permit) = slots.clone().acquire_owned().await else { return };
            let (app, client, owner) = (app.clone(), client.clone(), owner.clone());
            tokio::spawn(async move {
                let id = c.id;
                if let Err(e) = deliver(&app, &client, &owner, c).await {
                    tracing::error!(delivery = id, error = %e, "webhook delivery failed to record");
                }
                drop(permit);
                app.wake_webhooks();
            });
        }
        if idle {
            tokio::select! {
                () = &mut shutdown => return,
                () = app.webhook_wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }
}

/// Claims at most `n` due deliveries, the oldest due first, one per endpoint.
async fn claim(app: &App, owner: &str, n: usize) -> Result<Vec<Claimed>, AppError> {
    let t = now();
    let backend = app.db.get_database_backend();
    // Looking costs nothing on SQLite's writer: only a delivery that is due takes its turn.
    let due: Option<(i64,)> = app
        .db
        .row(statement(
            backend,
            "SELECT id FROM webhook_deliveries WHERE status IN ('pending', 'failed') AND next_attempt_at <= ? \
             LIMIT 1",
            vec![t.into()],
        ))
        .await?;
    if due.is_none() {
        return Ok(Vec::new());
    }
    let lock = if backend == DbBackend::Postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE webhook_deliveries SET lease_owner = ?, lease_until = ? \
         WHERE id IN (SELECT d.id FROM webhook_deliveries d \
            WHERE d.status IN ('pending', 'failed') AND d.next_attempt_at <= ? \
              AND d.id = (SELECT x.id FROM webhook_deliveries x WHERE x.endpoint_id = d.endpoint_id \
                 AND x.status IN ('pending', 'failed') AND x.next_attempt_at <= ? \
                 ORDER BY x.next_attempt_at, x.id LIMIT 1) \
              AND NOT EXISTS (SELECT 1 FROM webhook_deliveries y WHERE y.endpoint_id = d.endpoint_id \
                 AND y.status IN ('pending', 'failed') AND y.lease_until > ?) \
            ORDER BY d.next_attempt_at, d.id LIMIT ? {lock}) \
           AND status IN ('pending', 'failed') AND (lease_until IS NULL OR lease_until <= ?) \
         RETURNING id, endpoint_id, msg_id, payload, step"
    );
    let until = t + chrono::Duration::from_std(LEASE).unwrap_or_default();
    let values: Vec<Value> =
        vec![owner.into(), until.into(), t.into(), t.into(), t.into(), i64::try_from(n).unwrap_or(1).into(), t.into()];
    let rows: Vec<(i64, i64, String, String, i32)> = {
        let writer = app.writer().await;
        writer.rows(statement(backend, &sql, values)).await?
    };
    Ok(rows
        .into_iter()
        .map(|(id, endpoint_id, msg_id, payload, step)| Claimed { id, endpoint_id, msg_id, payload, step })
        .collect())
}

/// One attempt of a claimed delivery, and its record.
async fn deliver(app: &App, client: &reqwest::Client, owner: &str, c: Claimed) -> Result<(), AppError> {
    let e = endpoint::Entity::find_by_id(c.endpoint_id).one(&app.db).await?.ok_or(AppError::NotFound("webhook"))?;
    if !e.enabled {
        let writer = app.writer().await;
        outbox::bury(&*writer, e.id, now()).await?;
        return Ok(());
    }
    let answer = match secret_of(app, &e) {
        Ok(secret) => send(app, client, &e.url, &secret, &c).await,
        Err(err) => {
            tracing::error!(webhook = e.id, error = %err, "the webhook's secret does not open");
            Answer {
                status: None,
                retry_after: None,
                error: Some("the endpoint's secret does not open with this key".into()),
                took: Duration::ZERO,
            }
        }
    };
    let outcome = match answer.status {
        Some(300..=399) => Outcome::Retry,
        s => webhook::outcome(s),
    };
    let label = record(app, owner, &e, &c, &answer, outcome).await?;
    app.metrics.webhook_delivery(label, answer.took);
    tracing::info!(
        webhook = e.id,
        delivery = c.id,
        status = answer.status,
        outcome = label,
        ms = answer.took.as_millis() as u64,
        "webhook attempt"
    );
    Ok(())
}

fn secret_of(app: &App, e: &endpoint::Model) -> Result<Secret, AppError> {
    let key = app.config.secret_key.as_ref().ok_or_else(|| AppError::Internal("HEZUO_SECRET_KEY is not set".into()))?;
    let text = key.open(&e.secret, &super::seal_context(e.id))?;
    Secret::parse(&text).map_err(|err| AppError::Internal(format!("webhook {}: {err}", e.id)))
}

async fn send(app: &App, client: &reqwest::Client, url: &str, secret: &Secret, c: &Claimed) -> Answer {
    let started = Instant::now();
    let failed =
        |error: String| Answer { status: None, retry_after: None, error: Some(error), took: started.elapsed() };
    let Ok(parsed) = url::Url::parse(url) else { return failed("the endpoint's URL is not valid".into()) };
    let host = parsed.host_str().unwrap_or_default().to_owned();
    if crate::outbound::literal_refused(&parsed, &app.config.webhook_allow_nets) {
        return failed(format!("{host} is not a public address"));
    }
    let timestamp = now().timestamp();
    let signature = secret.sign(&c.msg_id, timestamp, c.payload.as_bytes());
    let sent = client
        .post(parsed)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(webhook::HEADER_ID, c.msg_id.as_str())
        .header(webhook::HEADER_TIMESTAMP, timestamp.to_string())
        .header(webhook::HEADER_SIGNATURE, signature)
        .body(c.payload.clone())
        .send()
        .await;
    match sent {
        Ok(res) => {
            let status = res.status().as_u16();
            let retry_after = res
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| webhook::parse_retry_after(v, now()));
            let error = match status {
                200..=299 => None,
                300..=399 => Some(format!("{host} answered a redirect ({status}), which is not followed")),
                _ => Some(format!("{host} answered {status}")),
            };
            Answer { status: Some(status), retry_after, error, took: started.elapsed() }
        }
        Err(e) => failed(format!("{host}: {}", crate::outbound::describe(&e))),
    }
}

/// Records the attempt and what follows from it, in one transaction; the outcome's metric label.
async fn record(
    app: &App,
    owner: &str,
    e: &endpoint::Model,
    c: &Claimed,
    answer: &Answer,
    outcome: Outcome,
) -> Result<&'static str, AppError> {
    let t = now();
    let status_code = answer.status.map(i32::from);
    let error = answer.error.as_deref().map(|m| m.chars().take(300).collect::<String>());
    let next = match outcome {
        Outcome::Retry => {
            let jitter = rand::random_range(-1000..=1000);
            let attempts = u32::try_from(c.step).unwrap_or(0) + 1;
            webhook::next_delay(attempts, &app.config.webhook_retry_schedule, jitter, answer.retry_after, answer.status)
        }
        _ => None,
    };
    let (status, label, next_at) = match (outcome, next) {
        (Outcome::Delivered, _) => ("delivered", "delivered", t),
        (Outcome::Gone, _) => ("dead", "gone", t),
        (Outcome::Retry, Some(d)) => ("failed", "failed", t + chrono::Duration::from_std(d).unwrap_or_default()),
        (Outcome::Retry, None) => ("dead", "dead", t),
    };
    let error = match (outcome, next) {
        (Outcome::Retry, None) => Some(error.map_or_else(
            || "the retry schedule ran out".to_owned(),
            |e| format!("{e}; the retry schedule ran out").chars().take(300).collect(),
        )),
        _ => error,
    };
    let backend = app.db.get_database_backend();
    let _turn = app.write_turn().await;
    let txn = app.db.begin().await?;
    let result = async {
        let delivered_at: Option<DateTime<Utc>> = (outcome == Outcome::Delivered).then_some(t);
        let step = if status == "failed" { c.step + 1 } else { c.step };
        let changed = txn
            .execute(statement(
                backend,
                "UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, step = ?, next_attempt_at = ?, \
                 last_status_code = ?, last_error = ?, delivered_at = coalesce(?, delivered_at), \
                 lease_owner = NULL, lease_until = NULL WHERE id = ? AND lease_owner = ?",
                vec![
                    status.into(),
                    step.into(),
                    next_at.into(),
                    status_code.into(),
                    error.clone().into(),
                    delivered_at.into(),
                    c.id.into(),
                    owner.into(),
                ],
            ))
            .await?;
        if changed == 0 {
            // The lease ran out and another worker took the delivery: its attempt counts.
            return Ok(false);
        }
        webhook_attempt::ActiveModel {
            delivery_id: Set(c.id),
            attempted_at: Set(t),
            status_code: Set(status_code),
            duration_ms: Set(i32::try_from(answer.took.as_millis()).unwrap_or(i32::MAX)),
            error: Set(error.clone()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        match outcome {
            Outcome::Delivered => {
                endpoint::Entity::update_many()
                    .col_expr(endpoint::Column::FailingSince, Expr::value(Option::<DateTime<Utc>>::None))
                    .filter(endpoint::Column::Id.eq(e.id))
                    .exec(&txn)
                    .await?;
            }
            Outcome::Gone => disable(&txn, e.id, "the endpoint answered 410 Gone", t).await?,
            Outcome::Retry => {
                txn.execute(statement(
                    backend,
                    "UPDATE webhook_endpoints SET failing_since = coalesce(failing_since, ?) WHERE id = ?",
                    vec![t.into(), e.id.into()],
                ))
                .await?;
                let since = t - chrono::Duration::from_std(app.config.webhook_disable_after).unwrap_or_default();
                let failing = endpoint::Entity::find_by_id(e.id)
                    .filter(endpoint::Column::Enabled.eq(true))
                    .filter(endpoint::Column::FailingSince.lte(since))
                    .one(&txn)
                    .await?;
                if failing.is_some() {
                    disable(&txn, e.id, "every delivery failed for the configured time", t).await?;
                }
            }
        }
        Ok::<_, AppError>(true)
    }
    .await;
    let kept = crate::finish(txn, result).await?;
    Ok(if kept { label } else { "lease_lost" })
}

async fn disable(
    txn: &hezuo_db::sea_orm::DatabaseTransaction,
    endpoint_id: i64,
    reason: &str,
    at: DateTime<Utc>,
) -> Result<(), AppError> {
    endpoint::Entity::update_many()
        .col_expr(endpoint::Column::Enabled, Expr::value(false))
        .col_expr(endpoint::Column::DisabledReason, Expr::value(reason))
        .col_expr(endpoint::Column::UpdatedAt, Expr::value(at))
        .filter(endpoint::Column::Id.eq(endpoint_id))
        .exec(txn)
        .await?;
    let buried = outbox::bury(txn, endpoint_id, at).await?;
    tracing::warn!(webhook = endpoint_id, reason, buried, "webhook endpoint disabled");
    Ok(())
}
