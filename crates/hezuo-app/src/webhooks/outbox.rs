//! The outbox: an event becomes one `webhook_deliveries` row per enabled endpoint that wants
//! it, written by one `INSERT … SELECT` inside the transaction of the change it reports. An
//! operation that rolls back leaves no row, so nothing is sent for it; one that commits has
//! its rows, which the worker (`deliver.rs`) sends until they are delivered or dead. An order
//! of an alliance without an endpoint for `order.created` writes no statement at all ([`wanted`],
//! read with the order's context); other events cost one statement that inserts nothing.
//!
//! The message id (the `webhook-id` header) names the event and its object
//! (`msg_order_created_1042`): each happens once, so a delivery is never written twice (the
//! unique key `(endpoint_id, msg_id)` backs it), and a receiver that stores the ids it has
//! handled recognizes any repeat.

use super::Event;
use crate::AppError;
use crate::exec::Exec;
use chrono::{DateTime, Utc};
use hezuo_db::entities::webhook_endpoint_event as subscription;
use hezuo_db::entities::{station, webhook_delivery as delivery, webhook_endpoint as endpoint};
use hezuo_db::sea_orm::sea_query::{Expr, ExprTrait, InsertStatement, OnConflict, Query, SelectStatement, SimpleExpr};
use hezuo_db::sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use hezuo_platforms::webhook::MAX_PAYLOAD_BYTES;
use serde::Serialize;

/// Whose endpoints hear of an event.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Audience {
    /// The alliance the object belongs to (orders, statements).
    Alliance(i64),
    /// Every alliance with a station of the cooperative (a period's close).
    Cooperative(i64),
}

impl Audience {
    fn condition(self) -> SimpleExpr {
        let alliance = Expr::col((endpoint::Entity, endpoint::Column::AllianceId));
        match self {
            Audience::Alliance(id) => alliance.eq(id),
            Audience::Cooperative(id) => alliance.in_subquery(
                Query::select()
                    .column(station::Column::AllianceId)
                    .from(station::Entity)
                    .and_where(Expr::col(station::Column::CooperativeId).eq(id))
                    .to_owned(),
            ),
        }
    }
}

/// The `webhook-id` of an event about `subject` (an order, refund, close or statement id).
pub(crate) fn msg_id(event: Event, subject: i64) -> String {
    format!("msg_{}_{subject}", event.as_str().replace('.', "_"))
}

/// The payload `{"type", "timestamp", "data"}` with `data` the view the API returns. A view
/// that would make the payload pass [`MAX_PAYLOAD_BYTES`] (an order of very many lines) is sent
/// without its lists, marked `"truncated": true`; the receiver reads the whole object from the
/// API.
pub(crate) fn payload(event: Event, at: DateTime<Utc>, data: &impl Serialize) -> Result<String, AppError> {
    let encode = |data: &serde_json::Value| {
        serde_json::to_string(&serde_json::json!({
            "type": event.as_str(),
            "timestamp": at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "data": data,
        }))
        .map_err(|e| AppError::Internal(format!("encoding a webhook payload: {e}")))
    };
    let mut data = serde_json::to_value(data).map_err(|e| AppError::Internal(format!("encoding an event: {e}")))?;
    let full = encode(&data)?;
    if full.len() <= MAX_PAYLOAD_BYTES {
        return Ok(full);
    }
    if let serde_json::Value::Object(fields) = &mut data {
        fields.retain(|_, v| !v.is_array());
        fields.insert("truncated".into(), serde_json::Value::Bool(true));
    }
    let trimmed = encode(&data)?;
    if trimmed.len() <= MAX_PAYLOAD_BYTES {
        return Ok(trimmed);
    }
    let id = data.get("id").cloned().unwrap_or(serde_json::Value::Null);
    encode(&serde_json::json!({ "id": id, "truncated": true }))
}

/// 1 when an enabled endpoint of the alliance `alliance` wants `event`, else 0: an order reads
/// it with its context and writes no outbox row (and serializes no payload) when it is 0. An
/// endpoint saved while an order is being booked hears of the orders booked after it.
pub(crate) fn wanted(event: Event, alliance: Expr) -> SimpleExpr {
    let any = endpoints_wanting(event)
        .expr(Expr::val(1))
        .and_where(Expr::col((endpoint::Entity, endpoint::Column::AllianceId)).eq(alliance))
        .to_owned();
    Expr::case(Expr::exists(any), 1).finally(0).into()
}

/// The enabled endpoints subscribed to `event` (no columns selected yet).
fn endpoints_wanting(event: Event) -> SelectStatement {
    Query::select()
        .from(endpoint::Entity)
        .inner_join(
            subscription::Entity,
            Expr::col((subscription::Entity, subscription::Column::EndpointId))
                .equals((endpoint::Entity, endpoint::Column::Id)),
        )
        .and_where(Expr::col((subscription::Entity, subscription::Column::Event)).eq(event.as_str()))
        .and_where(Expr::col((endpoint::Entity, endpoint::Column::Enabled)).eq(true))
        .to_owned()
}

/// The statement that writes the event's deliveries: one per enabled endpoint of the audience
/// that wants `event`, due at `at`.
pub(crate) fn insert(
    event: Event,
    subject: i64,
    audience: Audience,
    payload: String,
    at: DateTime<Utc>,
) -> InsertStatement {
    let select = endpoints_wanting(event)
        .column((endpoint::Entity, endpoint::Column::Id))
        .expr(Expr::val(event.as_str()))
        .expr(Expr::val(msg_id(event, subject)))
        .expr(Expr::val(payload))
        .expr(Expr::val("pending"))
        .expr(Expr::val(at))
        .expr(Expr::val(at))
        .and_where(audience.condition())
        .to_owned();
    Query::insert()
        .into_table(delivery::Entity)
        .columns([
            delivery::Column::EndpointId,
            delivery::Column::Event,
            delivery::Column::MsgId,
            delivery::Column::Payload,
            delivery::Column::Status,
            delivery::Column::NextAttemptAt,
            delivery::Column::CreatedAt,
        ])
        .select_from(select)
        .unwrap_or_else(|_| unreachable!("seven columns selected for seven"))
        .on_conflict(
            OnConflict::columns([delivery::Column::EndpointId, delivery::Column::MsgId]).do_nothing().to_owned(),
        )
        .to_owned()
}

/// Writes the event's deliveries in the caller's transaction.
pub(crate) async fn record(
    db: &impl Exec,
    event: Event,
    subject: i64,
    audience: Audience,
    data: &impl Serialize,
) -> Result<(), AppError> {
    let at = crate::now();
    let body = payload(event, at, data)?;
    db.execute(db.build(&insert(event, subject, audience, body, at))).await?;
    Ok(())
}

/// An endpoint was disabled: what it still had to receive is dead (redeliverable by hand once
/// it is enabled again).
pub(crate) async fn bury(db: &impl ConnectionTrait, endpoint_id: i64, at: DateTime<Utc>) -> Result<u64, AppError> {
    let done = delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value("dead"))
        .col_expr(delivery::Column::LastError, Expr::value("the endpoint was disabled"))
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(at))
        .filter(delivery::Column::EndpointId.eq(endpoint_id))
        .filter(delivery::Column::Status.is_in(["pending", "failed"]))
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn message_ids_name_the_event_and_its_object() {
        assert_eq!(msg_id(Event::OrderCreated, 1042), "msg_order_created_1042");
        assert_eq!(msg_id(Event::StatementImported, 7), "msg_statement_imported_7");
    }

    #[test]
    fn payloads_stay_under_the_limit() {
        let at = Utc.with_ymd_and_hms(2026, 12, 3, 8, 0, 0).unwrap();
        let small = payload(Event::OrderCreated, at, &serde_json::json!({"id": 5, "lines": [1, 2]})).unwrap();
        assert_eq!(
            small,
            r#"{"data":{"id":5,"lines":[1,2]},"timestamp":"2026-12-03T08:00:00.000000Z","type":"order.created"}"#
        );
        let lines: Vec<String> = (0..2_000).map(|i| format!("line {i}")).collect();
        let big =
            payload(Event::OrderCreated, at, &serde_json::json!({"id": 6, "total": "1.00", "lines": lines})).unwrap();
        assert_eq!(
            big,
            r#"{"data":{"id":6,"total":"1.00","truncated":true},"timestamp":"2026-12-03T08:00:00.000000Z","type":"order.created"}"#
        );
        let text = "x".repeat(MAX_PAYLOAD_BYTES);
        let huge = payload(Event::OrderCreated, at, &serde_json::json!({"id": 7, "note": text})).unwrap();
        assert!(huge.contains(r#""data":{"id":7,"truncated":true}"#), "{huge}");
    }
}
