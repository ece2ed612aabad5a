//! Orders with their lines and lot parts, refunds, and the double-entry ledger: transactions,
//! postings (append-only) and per-account per-day sums kept in the same transaction.

use crate::helpers::{fk, index};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The six amounts of a part (SPEC §4), with a prefix for what refunds reversed.
fn amounts(t: &mut TableCreateStatement, prefix: &str) {
    for name in ["gross", "fee", "household", "station", "collective", "pool"] {
        t.col(big_integer(Alias::new(format!("{prefix}{name}"))));
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("orders")
                .col(big_pk_auto("id"))
                .col(big_integer("station_id"))
                .col(big_integer("alliance_id"))
                .col(big_integer("cooperative_id"))
                .col(big_integer("channel_id"))
                .col(string_len("external_id", 128))
                .col(string_len("request_hash", 64))
                .col(timestamp_with_time_zone("placed_at"))
                .col(date("booking_date"))
                .col(string_len("status", 16))
                .col(string_null("tracking_number"))
                .col(big_integer("gross"))
                .col(big_integer("fee"))
                .col(big_integer("refunded").check(Expr::cust("refunded >= 0 AND refunded <= gross")))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .check(Expr::cust("status IN ('placed', 'shipped', 'completed', 'cancelled')"))
                .foreign_key(&mut fk("orders", "station_id", "stations"))
                .foreign_key(&mut fk("orders", "channel_id", "channels"))
                .to_owned(),
        )
        .await?;
        // Idempotency of order intake: one order per (channel, external_id).
        index(m, "orders", "orders_channel_external_key", &["channel_id", "external_id"], true).await?;
        index(m, "orders", "orders_station_idx", &["station_id", "id"], false).await?;
        index(m, "orders", "orders_alliance_idx", &["alliance_id", "placed_at"], false).await?;

        m.create_table(
            Table::create()
                .table("order_lines")
                .col(big_pk_auto("id"))
                .col(big_integer("order_id"))
                .col(integer("line_no"))
                .col(big_integer("product_id"))
                .col(big_integer("quantity").check(Expr::col("quantity").gt(0)))
                .col(big_integer("unit_price").check(Expr::col("unit_price").gte(0)))
                .col(big_integer("gross"))
                .col(big_integer("fee"))
                .col(big_integer("refunded").check(Expr::cust("refunded >= 0 AND refunded <= gross")))
                .col(big_integer("returned").check(Expr::cust("returned >= 0 AND returned <= quantity")))
                .foreign_key(&mut fk("order_lines", "order_id", "orders"))
                .foreign_key(&mut fk("order_lines", "product_id", "products"))
                .to_owned(),
        )
        .await?;
        index(m, "order_lines", "order_lines_order_idx", &["order_id", "line_no"], true).await?;

        let mut parts = Table::create()
            .table("order_parts")
            .col(big_pk_auto("id"))
            .col(big_integer("order_id"))
            .col(big_integer("line_id"))
            .col(integer("seq"))
            .col(big_integer("lot_id"))
            .col(big_integer("household_id"))
            .col(big_integer("village_id"))
            .col(big_integer("quantity").check(Expr::col("quantity").gt(0)))
            .col(big_integer("returned").check(Expr::cust("returned >= 0 AND returned <= quantity")))
            .to_owned();
        amounts(&mut parts, "");
        amounts(&mut parts, "refunded_");
        m.create_table(
            parts
                .check(Expr::cust("gross = fee + household + station + collective + pool"))
                .check(Expr::cust(
                    "refunded_gross = refunded_fee + refunded_household + refunded_station + refunded_collective + refunded_pool",
                ))
                .check(Expr::cust("refunded_gross >= 0 AND refunded_gross <= gross"))
                .foreign_key(&mut fk("order_parts", "order_id", "orders"))
                .foreign_key(&mut fk("order_parts", "line_id", "order_lines"))
                .foreign_key(&mut fk("order_parts", "lot_id", "lots"))
                .to_owned(),
        )
        .await?;
        index(m, "order_parts", "order_parts_line_idx", &["line_id", "seq"], true).await?;
        index(m, "order_parts", "order_parts_household_idx", &["household_id"], false).await?;

        m.create_table(
            Table::create()
                .table("refunds")
                .col(big_pk_auto("id"))
                .col(big_integer("order_id"))
                .col(big_integer("line_id"))
                .col(big_integer("amount").check(Expr::col("amount").gt(0)))
                .col(big_integer("quantity").check(Expr::col("quantity").gte(0)))
                .col(boolean("restock"))
                .col(string("reason"))
                .col(date("booking_date"))
                .col(big_integer_null("actor_user_id"))
                .col(big_integer_null("actor_token_id"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("refunds", "order_id", "orders"))
                .foreign_key(&mut fk("refunds", "line_id", "order_lines"))
                .to_owned(),
        )
        .await?;
        index(m, "refunds", "refunds_order_idx", &["order_id"], false).await?;

        m.create_table(
            Table::create()
                .table("ledger_transactions")
                .col(big_pk_auto("id"))
                .col(string_len("kind", 16))
                .col(big_integer("cooperative_id"))
                .col(big_integer_null("alliance_id"))
                .col(big_integer_null("order_id"))
                .col(big_integer_null("refund_id"))
                .col(date("booking_date"))
                .col(string("memo"))
                .col(timestamp_with_time_zone("created_at"))
                .check(Expr::cust("kind IN ('sale', 'refund', 'close')"))
                .foreign_key(&mut fk("ledger_transactions", "cooperative_id", "cooperatives"))
                .foreign_key(&mut fk("ledger_transactions", "order_id", "orders"))
                .foreign_key(&mut fk("ledger_transactions", "refund_id", "refunds"))
                .to_owned(),
        )
        .await?;
        index(m, "ledger_transactions", "ledger_transactions_order_idx", &["order_id"], false).await?;
        index(m, "ledger_transactions", "ledger_transactions_coop_idx", &["cooperative_id", "booking_date"], false)
            .await?;

        // Never updated or deleted; every transaction's postings sum to zero.
        m.create_table(
            Table::create()
                .table("postings")
                .col(big_pk_auto("id"))
                .col(big_integer("transaction_id"))
                .col(big_integer("alliance_id"))
                .col(big_integer("cooperative_id"))
                .col(string_len("account", 64))
                .col(big_integer("amount"))
                .col(date("booking_date"))
                .col(big_integer_null("line_id"))
                .foreign_key(&mut fk("postings", "transaction_id", "ledger_transactions"))
                .to_owned(),
        )
        .await?;
        index(m, "postings", "postings_account_idx", &["account", "booking_date"], false).await?;
        index(m, "postings", "postings_transaction_idx", &["transaction_id"], false).await?;
        index(m, "postings", "postings_line_idx", &["line_id"], false).await?;

        // Σ postings per account per booking day (and alliance, which scopes channel accounts),
        // kept in the posting transaction: balances and reports never scan postings.
        m.create_table(
            Table::create()
                .table("account_days")
                .col(big_integer("alliance_id"))
                .col(string_len("account", 64))
                .col(date("day"))
                .col(big_integer("amount"))
                .col(big_integer("postings"))
                .primary_key(Index::create().col("alliance_id").col("account").col("day"))
                .to_owned(),
        )
        .await?;
        index(m, "account_days", "account_days_account_idx", &["account", "day"], false).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["account_days", "postings", "ledger_transactions", "refunds", "order_parts", "order_lines", "orders"]
        {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
