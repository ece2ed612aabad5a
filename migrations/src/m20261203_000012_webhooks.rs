//! Outgoing webhooks (PLATFORMS.md §5). An alliance's endpoints with the events they want
//! (`webhook_endpoint_events`) and their signing secret sealed at rest; the outbox
//! `webhook_deliveries`, one row per event and endpoint, written in the same transaction as the
//! change it reports and claimed by the delivery worker under a lease; and every attempt's
//! answer in `webhook_attempts`.

use crate::helpers::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("webhook_endpoints")
                .col(big_pk_auto("id"))
                .col(big_integer("alliance_id"))
                .col(string_len("url", 500))
                .col(text("secret"))
                .col(boolean("enabled"))
                .col(string_len_null("disabled_reason", 200))
                .col(timestamp_with_time_zone_null("failing_since"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("webhook_endpoints", "alliance_id", "alliances"))
                .to_owned(),
        )
        .await?;
        index(m, "webhook_endpoints", "webhook_endpoints_alliance_idx", &["alliance_id", "enabled"], false).await?;

        m.create_table(
            Table::create()
                .table("webhook_endpoint_events")
                .col(big_integer("endpoint_id"))
                .col(string_len("event", 32))
                .primary_key(Index::create().col("endpoint_id").col("event"))
                .check(Expr::cust(
                    "event IN ('order.created', 'order.refunded', 'order.cancelled', 'period.closed', \
                     'statement.imported')",
                ))
                .foreign_key(&mut fk("webhook_endpoint_events", "endpoint_id", "webhook_endpoints"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("webhook_deliveries")
                .col(big_pk_auto("id"))
                .col(big_integer("endpoint_id"))
                .col(string_len("event", 32))
                .col(string_len("msg_id", 64))
                .col(text("payload"))
                .col(string_len("status", 16))
                .col(integer("attempts").default(0))
                .col(integer("step").default(0))
                .col(timestamp_with_time_zone("next_attempt_at"))
                .col(string_len_null("lease_owner", 64))
                .col(timestamp_with_time_zone_null("lease_until"))
                .col(integer_null("last_status_code"))
                .col(string_len_null("last_error", 300))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("delivered_at"))
                .check(Expr::cust("status IN ('pending', 'delivered', 'failed', 'dead')"))
                .foreign_key(&mut fk("webhook_deliveries", "endpoint_id", "webhook_endpoints"))
                .to_owned(),
        )
        .await?;
        index(m, "webhook_deliveries", "webhook_deliveries_msg_key", &["endpoint_id", "msg_id"], true).await?;
        index(m, "webhook_deliveries", "webhook_deliveries_endpoint_idx", &["endpoint_id", "id"], false).await?;
        // Only deliveries still to be made are ever looked for by time.
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at, endpoint_id) \
                 WHERE status IN ('pending', 'failed')",
            )
            .await?;

        m.create_table(
            Table::create()
                .table("webhook_attempts")
                .col(big_pk_auto("id"))
                .col(big_integer("delivery_id"))
                .col(timestamp_with_time_zone("attempted_at"))
                .col(integer_null("status_code"))
                .col(integer("duration_ms"))
                .col(string_len_null("error", 300))
                .foreign_key(&mut fk("webhook_attempts", "delivery_id", "webhook_deliveries"))
                .to_owned(),
        )
        .await?;
        index(m, "webhook_attempts", "webhook_attempts_delivery_idx", &["delivery_id", "id"], false).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["webhook_attempts", "webhook_deliveries", "webhook_endpoint_events", "webhook_endpoints"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
