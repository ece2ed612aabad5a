//! Period close (SPEC §6): each household's basis per booking day kept with the bookings, the
//! last closed day per cooperative, and every close with its rebates and dividends.

use crate::helpers::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // The last day of the cooperative's latest closed period; bookings never go on or before it.
        m.alter_table(Table::alter().table("cooperatives").add_column(date_null("closed_through")).to_owned()).await?;

        // Σ basis (net of sales − (a − f) of refunds, SPEC §6) per household per booking day,
        // upserted in the booking's transaction: a close reads one row per household and day.
        m.create_table(
            Table::create()
                .table("basis_days")
                .col(big_integer("cooperative_id"))
                .col(date("day"))
                .col(big_integer("household_id"))
                .col(big_integer("amount"))
                .primary_key(Index::create().col("cooperative_id").col("day").col("household_id"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table("period_closes")
                .col(big_pk_auto("id"))
                .col(big_integer("cooperative_id"))
                .col(string_len("period", 7))
                .col(date("first_day"))
                .col(date("last_day"))
                .col(big_integer("rule_version_id"))
                .col(big_integer("transaction_id"))
                .col(big_integer("pool"))
                .col(big_integer("reserve_share"))
                .col(big_integer("reserve"))
                .col(big_integer("distributable"))
                .col(big_integer("rebate_total"))
                .col(big_integer("dividend_total"))
                .col(timestamp_with_time_zone("closed_at"))
                .col(big_integer_null("actor_user_id"))
                .col(big_integer_null("actor_token_id"))
                .check(Expr::cust(
                    "(pool <= 0 AND reserve = 0 AND rebate_total = 0 AND dividend_total = 0) \
                     OR (pool > 0 AND reserve + rebate_total + dividend_total = pool)",
                ))
                .foreign_key(&mut fk("period_closes", "cooperative_id", "cooperatives"))
                .foreign_key(&mut fk("period_closes", "rule_version_id", "rule_versions"))
                .foreign_key(&mut fk("period_closes", "transaction_id", "ledger_transactions"))
                .to_owned(),
        )
        .await?;
        // Closed once: a second, concurrent close of the same period cannot book.
        index(m, "period_closes", "period_closes_period_key", &["cooperative_id", "period"], true).await?;

        m.create_table(
            Table::create()
                .table("period_close_lines")
                .col(big_pk_auto("id"))
                .col(big_integer("close_id"))
                .col(string_len("kind", 16))
                .col(integer("seq"))
                .col(big_integer_null("household_id"))
                .col(big_integer_null("village_id"))
                .col(big_integer("weight"))
                .col(big_integer("amount").check(Expr::col("amount").gte(0)))
                .check(Expr::cust("kind IN ('rebate', 'dividend')"))
                .check(Expr::cust(
                    "(household_id IS NULL AND village_id IS NOT NULL) OR (household_id IS NOT NULL AND village_id IS NULL)",
                ))
                .foreign_key(&mut fk("period_close_lines", "close_id", "period_closes"))
                .to_owned(),
        )
        .await?;
        index(m, "period_close_lines", "period_close_lines_close_idx", &["close_id", "kind", "seq"], true).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["period_close_lines", "period_closes", "basis_days"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        m.alter_table(Table::alter().table("cooperatives").drop_column("closed_through").to_owned()).await
    }
}
