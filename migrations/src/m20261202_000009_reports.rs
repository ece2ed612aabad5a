//! Village reports (SPEC §10): other operating income entries with their spread over months,
//! per-village per-month sums of the collective's sales share and dividends, per-station sales
//! per day, product and channel, and the indexes the household member account reads. The
//! sums are kept by every booking in its own transaction, like `account_days`; this migration
//! fills them from what is already booked.

use crate::helpers::{fk, index};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // Other operating income (物业、服务及其他经营收入). Never updated: removing an entry
        // adds its reversal (negative, `reverses_id` set, once).
        m.create_table(
            Table::create()
                .table("village_income")
                .col(big_pk_auto("id"))
                .col(big_integer("village_id"))
                .col(date("entry_date"))
                .col(big_integer("amount"))
                .col(string_len("category", 16))
                .col(string_len("note", 2000))
                .col(date_null("covers_from"))
                .col(date_null("covers_to"))
                .col(big_integer_null("reverses_id"))
                .col(big_integer_null("actor_user_id"))
                .col(big_integer_null("actor_token_id"))
                .col(timestamp_with_time_zone("created_at"))
                .check(Expr::cust("category IN ('rent', 'service', 'investment', 'other')"))
                .check(Expr::cust("(reverses_id IS NULL AND amount > 0) OR (reverses_id IS NOT NULL AND amount < 0)"))
                .check(Expr::cust(
                    "(covers_from IS NULL AND covers_to IS NULL) OR (covers_from IS NOT NULL AND covers_to >= covers_from)",
                ))
                .foreign_key(&mut fk("village_income", "village_id", "villages"))
                .foreign_key(&mut fk("village_income", "reverses_id", "village_income"))
                .to_owned(),
        )
        .await?;
        index(m, "village_income", "village_income_village_idx", &["village_id", "entry_date"], false).await?;
        // An entry is reversed at most once, also when two removals race.
        index(m, "village_income", "village_income_reverses_key", &["reverses_id"], true).await?;

        // Each entry's amount per month it covers (cents by `split`, equal weights).
        m.create_table(
            Table::create()
                .table("village_income_months")
                .col(big_integer("entry_id"))
                .col(big_integer("village_id"))
                .col(date("month"))
                .col(big_integer("amount"))
                .primary_key(Index::create().col("entry_id").col("month"))
                .foreign_key(&mut fk("village_income_months", "entry_id", "village_income"))
                .to_owned(),
        )
        .await?;
        index(m, "village_income_months", "village_income_months_village_idx", &["village_id", "month"], false).await?;

        // Σ postings on `village:{id}` per month and per year (`span`, `period_start` the first
        // day), striped like `account_days`: `sales` from sales and refunds (集体提成),
        // `dividends` from closes (投资收益). A ranking of every village reads the year rows.
        m.create_table(
            Table::create()
                .table("village_sums")
                .col(big_integer("village_id"))
                .col(string_len("span", 8))
                .col(date("period_start"))
                .col(integer("slot"))
                .col(big_integer("sales"))
                .col(big_integer("dividends"))
                .check(Expr::cust("span IN ('month', 'year')"))
                .primary_key(Index::create().col("village_id").col("span").col("period_start").col("slot"))
                .to_owned(),
        )
        .await?;

        // A station's sales per booking day, product and channel: `orders` counts each order
        // once (on its first line's product), `fee` is net of the fees refunds returned,
        // `refunded` the refunds booked that day.
        m.create_table(
            Table::create()
                .table("sales_days")
                .col(big_integer("station_id"))
                .col(date("day"))
                .col(big_integer("product_id"))
                .col(big_integer("channel_id"))
                .col(big_integer("orders"))
                .col(big_integer("quantity"))
                .col(big_integer("gross"))
                .col(big_integer("fee"))
                .col(big_integer("refunded"))
                .primary_key(Index::create().col("station_id").col("day").col("product_id").col("channel_id"))
                .to_owned(),
        )
        .await?;

        // The household member account: bases and close lines by household.
        index(m, "basis_days", "basis_days_household_idx", &["household_id", "day"], false).await?;
        index(m, "period_close_lines", "period_close_lines_household_idx", &["household_id"], false).await?;

        let sqlite = m.get_database_backend() == DatabaseBackend::Sqlite;
        let id = if sqlite { "CAST(substr(account, 9) AS INTEGER)" } else { "CAST(substr(account, 9) AS BIGINT)" };
        let db = m.get_connection();
        for (span, unit) in [("month", "month"), ("year", "year")] {
            let start = if sqlite {
                format!("date(booking_date, 'start of {unit}')")
            } else {
                format!("CAST(date_trunc('{unit}', booking_date) AS DATE)")
            };
            db.execute_unprepared(&format!(
                "INSERT INTO village_sums (village_id, span, period_start, slot, sales, dividends) \
                 SELECT {id}, '{span}', {start}, 0, \
                        SUM(CASE WHEN alliance_id <> 0 THEN amount ELSE 0 END), \
                        SUM(CASE WHEN alliance_id = 0 THEN amount ELSE 0 END) \
                 FROM postings WHERE account LIKE 'village:%' GROUP BY {id}, {start}"
            ))
            .await?;
        }
        db.execute_unprepared(
            "INSERT INTO sales_days (station_id, day, product_id, channel_id, orders, quantity, gross, fee, refunded) \
             SELECT station_id, day, product_id, channel_id, SUM(orders), SUM(quantity), SUM(gross), SUM(fee), SUM(refunded) \
             FROM ( \
               SELECT o.station_id, o.booking_date AS day, l.product_id, o.channel_id, \
                      CASE WHEN l.line_no = 1 THEN 1 ELSE 0 END AS orders, l.quantity, l.gross, l.fee, 0 AS refunded \
               FROM order_lines l JOIN orders o ON o.id = l.order_id \
               UNION ALL \
               SELECT o.station_id, r.booking_date, l.product_id, o.channel_id, 0, 0, 0, \
                      COALESCE((SELECT SUM(p.amount) FROM ledger_transactions t JOIN postings p ON p.transaction_id = t.id \
                                WHERE t.refund_id = r.id AND p.account LIKE 'fees:channel:%'), 0), \
                      r.amount \
               FROM refunds r JOIN order_lines l ON l.id = r.line_id JOIN orders o ON o.id = r.order_id \
             ) u GROUP BY station_id, day, product_id, channel_id",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name("period_close_lines_household_idx").table("period_close_lines").to_owned())
            .await?;
        m.drop_index(Index::drop().name("basis_days_household_idx").table("basis_days").to_owned()).await?;
        for t in ["sales_days", "village_sums", "village_income_months", "village_income"] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
