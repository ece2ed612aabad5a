//! Platform order feeds (PLATFORMS.md §1): one feed per channel, its credentials sealed
//! (AES-256-GCM; the table never holds a secret in clear), its cursor, the lease that keeps
//! one run per feed across replicas, and its last run. `feed_orders` remembers what each
//! platform order was last seen as (so a status never goes backwards, and a refund finds its
//! lines); `feed_parked` keeps what could not be booked yet, retried on every run. A refund
//! booked from a platform keeps the platform's refund id: the same id again changes nothing.

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
                .table("feeds")
                .col(big_pk_auto("id"))
                .col(big_integer("channel_id"))
                .col(big_integer("alliance_id"))
                .col(string_len("platform", 16))
                .col(string_len("base_url", 500))
                .col(string_len("app_key", 200))
                .col(text("app_secret"))
                .col(text_null("access_token"))
                .col(boolean("enabled"))
                .col(integer("interval_seconds"))
                .col(timestamp_with_time_zone("start_at"))
                .col(timestamp_with_time_zone("cursor"))
                .col(timestamp_with_time_zone("next_run_at"))
                .col(string_len_null("lease_owner", 64))
                .col(timestamp_with_time_zone_null("lease_until"))
                .col(timestamp_with_time_zone_null("last_started_at"))
                .col(timestamp_with_time_zone_null("last_finished_at"))
                .col(integer("last_orders_created").default(0))
                .col(integer("last_orders_replayed").default(0))
                .col(integer("last_refunds").default(0))
                .col(integer("last_parked").default(0))
                .col(string_len_null("last_error", 1000))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .check(Expr::cust("platform IN ('taobao', 'pdd', 'douyin')"))
                .check(Expr::cust("interval_seconds >= 60"))
                .foreign_key(&mut fk("feeds", "channel_id", "channels"))
                .foreign_key(&mut fk("feeds", "alliance_id", "alliances"))
                .to_owned(),
        )
        .await?;
        index(m, "feeds", "feeds_channel_key", &["channel_id"], true).await?;
        index(m, "feeds", "feeds_due_idx", &["enabled", "next_run_at"], false).await?;

        m.create_table(
            Table::create()
                .table("feed_orders")
                .col(big_integer("feed_id"))
                .col(string_len("external_id", 128))
                .col(big_integer_null("order_id"))
                .col(string_len("state", 32))
                .col(timestamp_with_time_zone("modified_at"))
                .col(text("line_ids"))
                .primary_key(Index::create().col("feed_id").col("external_id"))
                .foreign_key(&mut fk("feed_orders", "feed_id", "feeds"))
                .foreign_key(&mut fk("feed_orders", "order_id", "orders"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("feed_parked")
                .col(big_pk_auto("id"))
                .col(big_integer("feed_id"))
                .col(string_len("kind", 8))
                .col(string_len("external_id", 128))
                .col(string_len("reason", 500))
                .col(text("item"))
                .col(timestamp_with_time_zone("modified_at"))
                .col(timestamp_with_time_zone("parked_at"))
                .check(Expr::cust("kind IN ('order', 'refund')"))
                .foreign_key(&mut fk("feed_parked", "feed_id", "feeds"))
                .to_owned(),
        )
        .await?;
        index(m, "feed_parked", "feed_parked_key", &["feed_id", "kind", "external_id"], true).await?;

        m.alter_table(Table::alter().table("refunds").add_column(string_len_null("external_id", 128)).to_owned())
            .await?;
        index(m, "refunds", "refunds_external_key", &["order_id", "external_id", "line_id"], true).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("refunds_external_key").table("refunds").to_owned()).await?;
        m.alter_table(Table::alter().table("refunds").drop_column("external_id").to_owned()).await?;
        for t in ["feed_parked", "feed_orders", "feeds"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
